use mcp_runtime::prelude::*;

struct Counter;

#[mcp_server(stateless)]
impl Counter {
    /// Counts calls in this session.
    #[tool]
    fn count(&self, session: Session) -> String {
        session.id().to_owned()
    }
}

fn main() {}
