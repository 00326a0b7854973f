use mcp_runtime::prelude::*;

struct Travel;

#[mcp_server]
impl Travel {
    /// Plans a trip.
    #[prompt]
    fn plan_trip(&self, city: String, days: Option<String>) -> String {
        format!("Plan {days:?} days in {city}.")
    }

    /// A hotel.
    #[resource(uri_template = "travel://hotels/{city}/{hotel}")]
    fn hotel(&self, city: String, hotel: String) -> String {
        format!("{hotel} in {city}")
    }

    #[completion(prompt = "plan_trip", argument = "citty")]
    fn cities(&self, value: String) -> Vec<String> {
        vec![value]
    }

    #[completion(resource = "travel://hotels/{city}/{hotel}", argument = "room")]
    fn rooms(&self, value: String) -> Vec<String> {
        vec![value]
    }
}

fn main() {}
