use mcp_runtime::prelude::*;

struct Travel;

#[mcp_server]
impl Travel {
    /// Plans a trip.
    #[prompt]
    fn plan_trip(&self, city: String) -> String {
        format!("Plan a trip to {city}.")
    }

    #[completion(prompt = "plan_trip", argument = "city")]
    fn cities(&self, prefix: u32) -> Vec<String> {
        vec![prefix.to_string()]
    }

    #[completion(prompt = "plan_trip")]
    fn more_cities(&self, value: String) -> Vec<String> {
        vec![value]
    }
}

fn main() {}
