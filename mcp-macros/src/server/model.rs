//! The server as the macro sees it: the impl block and its tools, resources, prompts and
//! completions, each value with its tokens.

use crate::names::{description, method_name};
use syn::spanned::Spanned as _;
use syn::{Attribute, ImplItem, ItemImpl, ReturnType, Type};

use super::args::ServerArgs;
use crate::completion::Completion;
use crate::ctxt::Ctxt;
use crate::param::{self, Kind, Owner, Param};
use crate::prompt::Prompt;
use crate::resource::Resource;
use crate::tool::args::ToolArgs;
use crate::types::{first_type_arg, last_ident, return_spans};

pub(crate) struct Server {
    pub(crate) self_ty: Type,
    pub(crate) args: ServerArgs,
    pub(crate) tools: Vec<Tool>,
    pub(crate) resources: Vec<Resource>,
    pub(crate) prompts: Vec<Prompt>,
    pub(crate) completions: Vec<Completion>,
}

/// The attributes `#[mcp_server]` reads on its methods.
const FEATURES: &[&str] = &["tool", "resource", "prompt", "completion"];

pub(crate) struct Tool {
    /// The method.
    pub(crate) ident: syn::Ident,
    /// The MCP name and the tokens it came from (the `name = "…"` literal or the method name).
    pub(crate) name: String,
    pub(crate) name_span: proc_macro2::Span,
    pub(crate) args: ToolArgs,
    pub(crate) description: Option<String>,
    pub(crate) is_async: bool,
    pub(crate) params: Vec<Param>,
    pub(crate) returns: Returns,
}

impl Tool {
    /// How the method is called.
    pub(crate) fn calling(&self) -> Calling {
        match (self.is_async, self.args.blocking.is_some()) {
            (true, _) => Calling::Async,
            (false, true) => Calling::Blocking,
            (false, false) => Calling::Inline,
        }
    }
}

pub(crate) use crate::handler::Calling;

/// How the return value becomes a result.
pub(crate) enum Output {
    /// Content types and `()`: `IntoCallToolResult`.
    Content,
    /// Anything else: `structuredContent` with an `outputSchema`.
    Structured(Box<Type>),
}

pub(crate) struct Returns {
    pub(crate) output: Output,
    /// Where the output type is written, for errors about it (the call site for `()`).
    pub(crate) output_span: proc_macro2::Span,
    /// For `Result<T, E>`: where `E` is written (the whole type when it is an alias).
    pub(crate) error_span: Option<proc_macro2::Span>,
}

impl Server {
    /// Reads the impl block, removing the `#[tool]`, `#[resource]`, `#[prompt]` and
    /// `#[completion]` attributes it consumes.
    pub(crate) fn from_impl(cx: &mut Ctxt, args: ServerArgs, item: &mut ItemImpl) -> Self {
        if let Some((_, path, _)) = &item.trait_ {
            cx.error_at(
                path,
                "`#[mcp_server]` goes on an inherent `impl` block, not a trait impl",
            );
        }
        if !item.generics.params.is_empty() {
            cx.error_at(
                &item.generics,
                "`#[mcp_server]` does not support generic impl blocks; write it for one concrete type",
            );
        }
        let mut server = Self {
            self_ty: (*item.self_ty).clone(),
            args,
            tools: Vec::new(),
            resources: Vec::new(),
            prompts: Vec::new(),
            completions: Vec::new(),
        };
        for impl_item in &mut item.items {
            let ImplItem::Fn(method) = impl_item else {
                continue;
            };
            let Some(index) = method.attrs.iter().position(|a| feature_of(a).is_some()) else {
                continue;
            };
            let attr = method.attrs.remove(index);
            let feature = feature_of(&attr).unwrap_or("tool");
            // The framework fixes a method's shape (`&self`, owned arguments, `async` or
            // not), so these pedantic lints would fire on code the user cannot write otherwise.
            method.attrs.push(syn::parse_quote!(
                #[allow(clippy::unused_self, clippy::needless_pass_by_value, clippy::unused_async)]
            ));
            while let Some(extra) = method.attrs.iter().position(|a| feature_of(a).is_some()) {
                let extra = method.attrs.remove(extra);
                let other = feature_of(&extra).unwrap_or("tool");
                if other == feature {
                    cx.error_at(
                        &extra,
                        format!("`#[{feature}]` is given twice on this method; keep one"),
                    );
                } else {
                    cx.error_at(
                        &extra,
                        format!(
                            "a method is one of tool, resource, prompt or completion; this one is already a {feature}, so remove `#[{other}]` or move it to another method"
                        ),
                    );
                }
            }
            match feature {
                "resource" => server
                    .resources
                    .extend(Resource::from_method(cx, &attr, method)),
                "prompt" => server
                    .prompts
                    .extend(Prompt::from_method(cx, &attr, method)),
                "completion" => server
                    .completions
                    .extend(Completion::from_method(cx, &attr, method)),
                _ => server.tools.push(Tool::from_method(cx, &attr, method)),
            }
        }
        server
    }
}

impl Tool {
    fn from_method(cx: &mut Ctxt, attr: &Attribute, method: &mut syn::ImplItemFn) -> Self {
        let tool_args = ToolArgs::of_attr(cx, attr);
        crate::icon::check(cx, &tool_args.icons, "tool");
        let (name, name_span) = match &tool_args.name {
            Some(lit) => (lit.value(), lit.span()),
            None => (method_name(&method.sig.ident), method.sig.ident.span()),
        };
        if let Err(why) = crate::tool::name::check(&name) {
            match &tool_args.name {
                Some(lit) => cx.error_at(lit, why),
                None => cx.error_at(&method.sig.ident, why),
            }
        }
        if let Some(key) = &tool_args.blocking
            && method.sig.asyncness.is_some()
        {
            cx.error_at(
                key,
                "`blocking` is for a plain `fn` that blocks its thread; an `async fn` must not block: \
                 remove `blocking`, or make the method a plain `fn`",
            );
        }
        if let Some((_, lit)) = &tool_args.task
            && method.sig.asyncness.is_none()
        {
            cx.error_at(
                lit,
                "a task is what a call becomes while the tool waits, and a plain `fn` never waits: \
                 make the method an `async fn`, or remove `task`",
            );
        }
        let description = description(tool_args.description.as_ref(), &method.attrs);
        if description.as_deref().is_none_or(|d| d.trim().is_empty()) {
            let message = format!(
                "tool `{name}` has no description; models choose tools by what their \
                 descriptions say: write a doc comment (`/// What it does.`) above the method, \
                 or `#[tool(description = \"…\")]`"
            );
            match &tool_args.description {
                Some(lit) => cx.error_at(lit, message),
                None => cx.error_at(&method.sig.ident, message),
            }
        }
        let owner = Owner {
            kind: Kind::Tool,
            name: &name,
        };
        let params = param::params(cx, owner, &mut method.sig);
        let returns = returns(&method.sig.output);
        Tool {
            ident: method.sig.ident.clone(),
            name,
            name_span,
            args: tool_args,
            description,
            is_async: method.sig.asyncness.is_some(),
            params,
            returns,
        }
    }
}

/// Which of `#[tool]`, `#[resource]`, `#[prompt]`, `#[completion]` this attribute is.
fn feature_of(attr: &Attribute) -> Option<&'static str> {
    let last = attr.path().segments.last()?;
    FEATURES.iter().copied().find(|f| last.ident == f)
}

/// Classifies the return type by its syntax.
fn returns(output: &ReturnType) -> Returns {
    match return_spans(output) {
        Some(r) => Returns {
            output_span: r.ok.span(),
            output: classify(r.ok),
            error_span: r.error,
        },
        None => Returns {
            output: Output::Content,
            output_span: proc_macro2::Span::call_site(),
            error_span: None,
        },
    }
}

fn classify(ty: Type) -> Output {
    let is_content = match &ty {
        Type::Tuple(t) => t.elems.is_empty(),
        Type::Reference(r) => last_ident(&r.elem).is_some_and(|s| s.ident == "str"),
        _ => match last_ident(&ty) {
            Some(s) if s.ident == "Vec" => first_type_arg(s)
                .and_then(last_ident)
                .is_some_and(|inner| inner.ident == "Content"),
            Some(s) => matches!(
                s.ident.to_string().as_str(),
                "String" | "Content" | "CallToolResult"
            ),
            None => false,
        },
    };
    if is_content {
        Output::Content
    } else {
        Output::Structured(Box::new(ty))
    }
}
