//! Generates the 100-tool servers of workload W3 (`tools/list`) for mcp-runtime and rmcp:
//! each tool is `tool_NNN(a: i64, b: i64) -> Sum`, read-only, with the same description.

use std::fmt::Write as _;

const TOOLS: usize = 100;

fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));

    let mut ours = String::from(
        "/// W3: 100 tools, stateless (serves 2026-07-28 and 2025-11-25 without sessions).\n\
         pub struct Many;\n\n\
         #[mcp_server(stateless, name = \"bench-many\", version = \"0.0.0\")]\nimpl Many {\n",
    );
    for i in 0..TOOLS {
        write!(
            ours,
            "    /// Tool {i:03} of 100: adds two integers.\n    #[tool(read_only)]\n    \
             fn tool_{i:03}(&self, a: i64, b: i64) -> Sum {{\n        Sum {{ sum: a + b }}\n    }}\n"
        )
        .unwrap();
    }
    ours.push_str("}\n");
    std::fs::write(out.join("many_ours.rs"), ours).unwrap();

    let mut rmcp = String::from(
        "/// W3: 100 tools.\n#[derive(Clone)]\npub struct RMany {\n    tool_router: ToolRouter<Self>,\n}\n\n\
         #[tool_router]\nimpl RMany {\n    pub fn new() -> Self {\n        Self { tool_router: Self::tool_router() }\n    }\n",
    );
    for i in 0..TOOLS {
        write!(
            rmcp,
            "    #[tool(description = \"Tool {i:03} of 100: adds two integers.\", annotations(read_only_hint = true))]\n    \
             fn tool_{i:03}(&self, Parameters(AddArgs {{ a, b }}): Parameters<AddArgs>) -> Json<Sum> {{\n        \
             Json(Sum {{ sum: a + b }})\n    }}\n"
        )
        .unwrap();
    }
    rmcp.push_str(
        "}\n\n#[tool_handler(router = self.tool_router)]\nimpl ServerHandler for RMany {\n    \
         fn get_info(&self) -> ServerConfig {\n        \
         ServerConfig::new(ServerCapabilities::builder().enable_tools().build())\n    }\n}\n",
    );
    std::fs::write(out.join("many_rmcp.rs"), rmcp).unwrap();
    println!("cargo::rerun-if-changed=build.rs");
}
