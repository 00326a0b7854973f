use mcp_runtime::prelude::*;

struct Session {
    user: String,
}

struct Files;

#[mcp_server]
impl Files {
    /// The caller's file.
    #[resource(uri = "files://mine")]
    fn mine(&self, session: Session) -> String {
        session.user
    }
}

fn main() {}
