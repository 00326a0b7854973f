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
use crate::param::ParamKind;
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
    // Every operation that names scopes: what it is, the scopes with their key, and what
    // their `{placeholders}` may name (with why not, for what may not be named).
    let mut operations: Vec<Operation<'_>> = Vec::new();
    for tool in &server.tools {
        let names = tool
            .params
            .iter()
            .filter_map(|p| match &p.kind {
                ParamKind::Input { name, optional, .. } => Some((
                    name.clone(),
                    optional.then_some("it is optional, and a scope cannot depend on an argument that may be absent; take it without `Option`"),
                )),
                _ => None,
            })
            .collect();
        operations.push(Operation {
            what: format!("tool `{}`", tool.name),
            scopes: &tool.args.scopes,
            key: tool.args.scopes_key.as_ref(),
            names,
            nothing: "the tool has no argument of that name",
        });
    }
    for r in &server.resources {
        let (kind, nothing) = match r.address {
            Address::Fixed(_) => (
                "resource",
                "a resource with a fixed URI has no parameters; make it a `uri_template`",
            ),
            Address::Template(..) => (
                "resource template",
                "the template has no variable of that name",
            ),
        };
        operations.push(Operation {
            what: format!("{kind} `{}`", r.name),
            scopes: &r.scopes,
            key: r.scopes_key.as_ref(),
            names: r
                .variables()
                .into_iter()
                .map(|v| (v.to_owned(), None))
                .collect(),
            nothing,
        });
    }
    for p in &server.prompts {
        let names = p
            .params
            .iter()
            .filter_map(|param| match &param.kind {
                ParamKind::Input { name, .. } => Some((
                    name.clone(),
                    crate::types::is_option_string(&param.ty).then_some("it is optional, and a scope cannot depend on an argument that may be absent; take `String`"),
                )),
                _ => None,
            })
            .collect();
        operations.push(Operation {
            what: format!("prompt `{}`", p.name),
            scopes: &p.scopes,
            key: p.scopes_key.as_ref(),
            names,
            nothing: "the prompt has no argument of that name",
        });
    }
    for op in &operations {
        for lit in op.scopes {
            check_placeholders(cx, op, lit);
        }
    }
    let Some(oauth) = &server.args.oauth else {
        for Operation { what, key, .. } in &operations {
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
    for op in &operations {
        for lit in op.scopes {
            undeclared(lit, "scope");
        }
    }
    for lit in &oauth.required {
        if lit.value().contains('{') {
            cx.error_at(
                lit,
                "a required scope applies to every request, which has no argument to fill in: \
                 require the scope without `{..}`, and name the argument in the scopes of the \
                 operation that takes it",
            );
        }
    }
}

/// One operation's scopes, and what their placeholders may name.
struct Operation<'a> {
    what: String,
    scopes: &'a [syn::LitStr],
    key: Option<&'a syn::Path>,
    /// Each parameter a placeholder may name, and why it may not, if so.
    names: Vec<(String, Option<&'static str>)>,
    /// Why a name that is no parameter is wrong.
    nothing: &'static str,
}

/// Each `{name}` in `lit` is a well-formed placeholder naming a parameter of the operation.
fn check_placeholders(cx: &mut Ctxt, op: &Operation<'_>, lit: &syn::LitStr) {
    let scope = lit.value();
    let what = &op.what;
    let mut rest = scope.as_str();
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            cx.error_at(
                lit,
                format!("`}}` without `{{` in the scope `{scope}` of {what}"),
            );
            return;
        }
        let Some(len) = rest[open + 1..].find('}') else {
            cx.error_at(
                lit,
                format!("`{{` without `}}` in the scope `{scope}` of {what}"),
            );
            return;
        };
        let name = &rest[open + 1..open + 1 + len];
        rest = &rest[open + len + 2..];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            cx.error_at(
                lit,
                format!("`{{{name}}}` in the scope `{scope}` of {what} is no placeholder: write `{{parameter}}` with the name of one of its parameters"),
            );
            continue;
        }
        match op.names.iter().find(|(n, _)| n == name) {
            Some((_, None)) => {}
            Some((_, Some(why))) => cx.error_at(
                lit,
                format!("the scope `{scope}` of {what} names `{name}`, but {why}"),
            ),
            None => {
                let names: Vec<&str> = op.names.iter().map(|(n, _)| n.as_str()).collect();
                let mut message = format!(
                    "the scope `{scope}` of {what} names `{name}`, but {}",
                    op.nothing
                );
                if !names.is_empty() {
                    message.push_str("; its parameters are ");
                    message.push_str(&listed(&names, ""));
                }
                near(&mut message, name, &names, "a parameter");
                cx.error_at(lit, message);
            }
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
