//! Checks across tools: names are unique.

use std::collections::HashMap;

use super::model::Server;
use crate::ctxt::Ctxt;

pub(crate) fn check(cx: &mut Ctxt, server: &Server) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, tool) in server.tools.iter().enumerate() {
        // One error, at the later name: it names the method that has the name first.
        if let Some(&first) = seen.get(tool.name.as_str()) {
            let earlier = &server.tools[first];
            cx.push(syn::Error::new(
                tool.name_span,
                format!(
                    "duplicate tool name `{}`: method `{}` already uses it; give one of them `#[tool(name = \"…\")]`",
                    tool.name, earlier.ident
                ),
            ));
        } else {
            seen.insert(&tool.name, i);
        }
    }
}
