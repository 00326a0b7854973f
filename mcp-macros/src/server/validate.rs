//! Checks across methods: tool and prompt names and resource URIs are unique, completions
//! name a prompt argument or template variable of this server, and scopes follow the `oauth`
//! declaration.

use std::collections::HashMap;
use std::hash::Hash;

use proc_macro2::Span;

use super::model::Server;
use crate::completion::Target;
use crate::ctxt::Ctxt;
use crate::message::{listed, near};
use crate::resource::Address;

/// Tool names, resource URIs and prompt names are unique; each completion names a prompt
/// argument or a template variable this server declares, and has no other completion.
pub(crate) fn check(cx: &mut Ctxt, server: &Server) {
    let tools = server
        .tools
        .iter()
        .map(|t| (t.name.as_str(), &t.ident, t.name_span));
    unique(cx, tools, duplicate_name("tool"));
    let resources = server
        .resources
        .iter()
        .map(|r| (r.uri(), &r.ident, r.lit.span()));
    unique(cx, resources, |i, uri, earlier| {
        let what = match server.resources[i].address {
            Address::Fixed(_) => "resource URI",
            Address::Template(..) => "resource template",
        };
        format!(
            "duplicate {what} `{uri}`: method `{earlier}` already uses it; each URI names one resource"
        )
    });
    let prompts = server
        .prompts
        .iter()
        .map(|p| (p.name.as_str(), &p.ident, p.name_span));
    unique(cx, prompts, duplicate_name("prompt"));
    let completed = completion_targets(cx, server);
    unique(cx, completed, |_, (_, _, argument), earlier| {
        format!("`{argument}` already has a completion: method `{earlier}`; keep one")
    });
}

/// The message for a name that `#[attr]` methods share.
fn duplicate_name(attr: &str) -> impl Fn(usize, &&str, &syn::Ident) -> String {
    move |_, name, earlier| {
        format!(
            "duplicate {attr} name `{name}`: method `{earlier}` already uses it; give one of them `#[{attr}(name = \"…\")]`"
        )
    }
}

/// One error at each later use of a key, naming the method of its first use; `message` gets
/// the later use's index, the key and the earlier method.
fn unique<'s, K: Eq + Hash>(
    cx: &mut Ctxt,
    uses: impl IntoIterator<Item = (K, &'s syn::Ident, Span)>,
    message: impl Fn(usize, &K, &syn::Ident) -> String,
) {
    let mut seen: HashMap<K, &syn::Ident> = HashMap::new();
    for (i, (key, method, span)) in uses.into_iter().enumerate() {
        if let Some(earlier) = seen.get(&key) {
            cx.push(syn::Error::new(span, message(i, &key, earlier)));
        } else {
            seen.insert(key, method);
        }
    }
}

/// What each completion completes, `(is a prompt, prompt or template, argument)`, for the
/// completions whose prompt or template has the argument; an error at each other one.
fn completion_targets<'s>(
    cx: &mut Ctxt,
    server: &'s Server,
) -> Vec<((bool, String, String), &'s syn::Ident, Span)> {
    let mut targets = Vec::new();
    for c in &server.completions {
        let argument = c.argument.value();
        let (is_prompt, lit, names, missing, what) = match &c.target {
            Target::Prompt(lit) => {
                let Some(arguments) = prompt_arguments(cx, server, lit) else {
                    continue;
                };
                let missing = format!(
                    "prompt `{}` has no argument `{argument}`; its arguments are",
                    lit.value()
                );
                (true, lit, arguments, missing, "an argument")
            }
            Target::Resource(lit) => {
                let Some(variables) = template_variables(cx, server, lit) else {
                    continue;
                };
                let missing = format!(
                    "resource template `{}` has no variable `{argument}`; its variables are",
                    lit.value()
                );
                (false, lit, variables, missing, "a variable")
            }
        };
        if !names.contains(&argument.as_str()) {
            let mut message = format!("{missing} {}", listed(&names, "none"));
            near(&mut message, &argument, &names, what);
            cx.error_at(&c.argument, message);
            continue;
        }
        targets.push((
            (is_prompt, lit.value(), argument),
            &c.ident,
            c.argument.span(),
        ));
    }
    targets
}

/// The arguments of the prompt `lit` names, or an error at `lit`.
fn prompt_arguments<'s>(
    cx: &mut Ctxt,
    server: &'s Server,
    lit: &syn::LitStr,
) -> Option<Vec<&'s str>> {
    let name = lit.value();
    if let Some(p) = server.prompts.iter().find(|p| p.name == name) {
        return Some(p.arguments());
    }
    let declared: Vec<&str> = server.prompts.iter().map(|p| p.name.as_str()).collect();
    let none = "it declares none (mark a method `#[prompt]`)";
    not_declared(cx, lit, ["prompt", "prompts", "a prompt"], &declared, none);
    None
}

/// The variables of the template `lit` names, or an error at `lit`.
fn template_variables<'s>(
    cx: &mut Ctxt,
    server: &'s Server,
    lit: &syn::LitStr,
) -> Option<Vec<&'s str>> {
    let uri = lit.value();
    let mut templates = Vec::new();
    for r in &server.resources {
        match &r.address {
            Address::Template(t, _) if *t == uri => return Some(r.variables()),
            Address::Template(t, _) => templates.push(t.as_str()),
            Address::Fixed(u) if *u == uri => {
                cx.error_at(
                    lit,
                    format!(
                        "resource `{uri}` has a fixed URI, so it has nothing to complete; completions are for the variables of a `uri_template`"
                    ),
                );
                return None;
            }
            Address::Fixed(_) => {}
        }
    }
    let none = "it declares none (`#[resource(uri_template = \"…\")]`)";
    let names = ["resource template", "templates", "a template"];
    not_declared(cx, lit, names, &templates, none);
    None
}

/// Checks of the `oauth` declaration: `scopes` need it; every scope a tool or `required`
/// names must be declared (typos never ship). Whether `Auth` may be taken is a type check
/// (`DeclaresOAuth`), since only the type says which `Auth` a parameter is.
pub(crate) fn check_oauth(cx: &mut Ctxt, server: &Server) {
    // Every operation that names scopes: what it is, and the scopes with their key.
    let mut operations: Vec<(String, &[syn::LitStr], Option<&syn::Path>)> = Vec::new();
    for tool in &server.tools {
        let what = format!("tool `{}`", tool.name);
        operations.push((what, &tool.args.scopes, tool.args.scopes_key.as_ref()));
    }
    for r in &server.resources {
        let kind = match r.address {
            crate::resource::Address::Fixed(_) => "resource",
            crate::resource::Address::Template(..) => "resource template",
        };
        let what = format!("{kind} `{}`", r.name);
        operations.push((what, &r.scopes, r.scopes_key.as_ref()));
    }
    for p in &server.prompts {
        let what = format!("prompt `{}`", p.name);
        operations.push((what, &p.scopes, p.scopes_key.as_ref()));
    }
    let Some(oauth) = &server.args.oauth else {
        for (what, _, key) in &operations {
            if let Some(key) = key {
                cx.error_at(
                    key,
                    format!(
                        "{what} has `scopes`, which need `#[mcp_server(oauth(scopes = [..]))]` on the server; declare them there, or remove `scopes`"
                    ),
                );
            }
        }
        return;
    };
    let declared: Vec<String> = oauth.scopes.iter().map(syn::LitStr::value).collect();
    let known = if declared.is_empty() {
        "the server declares none; add them to `oauth(scopes = [..])`".to_owned()
    } else {
        format!("declared scopes are {}", listed(&declared, ""))
    };
    let mut undeclared = |lit: &syn::LitStr, what: &str| {
        let value = lit.value();
        if declared.contains(&value) {
            return;
        }
        let mut message = format!("{what} `{value}` is not declared on the server; {known}");
        near(&mut message, &value, &declared, "a declared scope");
        cx.error_at(lit, message);
    };
    for lit in &oauth.required {
        undeclared(lit, "required scope");
    }
    for (_, scopes, _) in &operations {
        for lit in *scopes {
            undeclared(lit, "scope");
        }
    }
}

/// An error at `lit`, which names no `{what}` of this server: "its {plural} are …" (or `none`
/// when it declares none), and the near miss, "{a what} has a similar name".
fn not_declared(
    cx: &mut Ctxt,
    lit: &syn::LitStr,
    [what, plural, a_what]: [&str; 3],
    declared: &[&str],
    none: &str,
) {
    let value = lit.value();
    let mut message = if declared.is_empty() {
        format!("no {what} `{value}` on this server; {none}")
    } else {
        format!(
            "no {what} `{value}` on this server; its {plural} are {}",
            listed(declared, "")
        )
    };
    near(&mut message, &value, declared, a_what);
    cx.error_at(lit, message);
}
