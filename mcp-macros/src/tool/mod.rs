//! `#[tool]`: the options of one tool and its parameters. Alone, it is an error: the
//! `#[mcp_server]` on the enclosing impl block reads and removes it.

pub(crate) mod args;
pub(crate) mod name;
