use mcp_runtime::prelude::*;

struct Travel;

#[mcp_server]
impl Travel {
    /// Plans a trip.
    #[prompt]
    fn plan_trip(&self, city: String) -> String {
        format!("Plan a trip to {city}.")
    }

    #[completion(prompt = "plan_trips", argument = "city")]
    fn cities(&self, value: String) -> Vec<String> {
        vec![value]
    }
}

fn main() {}
