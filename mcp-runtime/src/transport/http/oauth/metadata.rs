//! The protected resource metadata document (RFC 9728 §2), built from the configuration and
//! the declared scopes. MCP makes `authorization_servers` mandatory.

use serde_json::{Value, json};

pub(crate) fn protected_resource_metadata(
    resource: &str,
    issuers: &[String],
    resource_name: Option<&str>,
    documentation: Option<&str>,
    scopes: &[&str],
) -> Value {
    let mut doc = json!({
        "resource": resource,
        "authorization_servers": issuers,
        "bearer_methods_supported": ["header"],
    });
    // SEP-2207: `offline_access` is a client concern, not a resource's scope. A scope that
    // names an argument (`files:read:{project}`) is a family, not a scope: a client learns
    // the one a call needs from its challenge.
    let scopes: Vec<&str> = scopes
        .iter()
        .copied()
        .filter(|s| *s != "offline_access" && !s.contains('{'))
        .collect();
    if !scopes.is_empty() {
        doc["scopes_supported"] = json!(scopes);
    }
    if let Some(name) = resource_name {
        doc["resource_name"] = json!(name);
    }
    if let Some(url) = documentation {
        doc["resource_documentation"] = json!(url);
    }
    doc
}
