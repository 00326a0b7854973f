//! The call of a handler method and the conversion of what it returns, the same for tools,
//! resources, prompts and completions: read the parameters, call, turn `T` or `Result<T, E>`
//! into the runtime's result.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{Ident, Type};

use crate::param::{Param, ParamKind};
use crate::rt::rt;

/// The generated reads of a method's parameters (`let` statements) and the arguments of its
/// call, in parameter order.
#[derive(Default)]
pub(crate) struct Call {
    pub(crate) reads: Vec<TokenStream>,
    pub(crate) args: Vec<TokenStream>,
}

impl Call {
    /// Binds `let #var: #ty = #value;` and passes `#var`.
    pub(crate) fn bind(&mut self, var: &Ident, ty: &Type, value: &TokenStream) {
        self.reads.push(quote!(let #var: #ty = #value;));
        self.args.push(quote!(#var));
    }

    /// Passes a provided parameter, read from `__mcp_ctx` through `FromCaller`, whose
    /// `Result` `unwrap` turns into the value; the server's type bounds what it may provide.
    /// False, passing nothing, for a parameter read from the request.
    pub(crate) fn inject(
        &mut self,
        p: &Param,
        var: &Ident,
        unwrap: impl FnOnce(&TokenStream) -> TokenStream,
    ) -> bool {
        let rt = rt();
        let ty = &p.ty;
        if !matches!(p.kind, ParamKind::Provided { .. }) {
            return false;
        }
        let read = quote_spanned!(ty.span()=>
            <#ty as #rt::FromCaller<Self>>::from_context(&__mcp_ctx));
        self.bind(var, ty, &unwrap(&read));
        true
    }
}

/// `#read?`: a failed read of a parameter ends the call with its error.
pub(crate) fn try_read(read: &TokenStream) -> TokenStream {
    quote!(#read?)
}

/// How a handler method is called.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Calling {
    /// `async fn`: awaited.
    Async,
    /// `fn`: called on the async worker, for short work.
    Inline,
    /// `fn` marked `blocking`: called where it may block (`block_in_place`).
    Blocking,
}

impl From<bool> for Calling {
    /// `Async` for an `async fn`, else `Inline`.
    fn from(is_async: bool) -> Self {
        if is_async { Self::Async } else { Self::Inline }
    }
}

impl Call {
    /// `{ reads; let __mcp_out = Self::method(self, args…); result }`, where `result` reads
    /// `__mcp_out` (see [`result`]).
    pub(crate) fn finish(
        self,
        method: &Ident,
        calling: impl Into<Calling>,
        result: &TokenStream,
    ) -> TokenStream {
        let Self { reads, args } = self;
        let call = call_expr(method, calling.into(), &args);
        quote! {{
            #(#reads)*
            let __mcp_out = #call;
            #result
        }}
    }
}

/// `Self::method(self, args…)`, awaited when the method is `async`, inside
/// `run_blocking` when it is `blocking`.
fn call_expr(method: &Ident, calling: Calling, args: &[TokenStream]) -> TokenStream {
    let rt = rt();
    // Calls whose trait bound is on an inferred type are spanned as a whole at the user's
    // tokens: a call expression spanning two contexts is reported at `#[mcp_server]`.
    match calling {
        Calling::Async => {
            // A future that is not `Send` is reported at the method.
            let send = quote_spanned!(method.span()=>
                #rt::send_tool(Self::#method(self, #(#args),*)));
            quote!(#send.await)
        }
        Calling::Inline => quote!(Self::#method(self, #(#args),*)),
        Calling::Blocking => quote!(#rt::run_blocking(|| Self::#method(self, #(#args),*))),
    }
}

/// `__mcp_out`, what the handler returned, as the runtime's `Result`: `Ok(ok(value))`; for a
/// `Result<T, E>` whose `E` is written at `error`, the error arm is `err(span)`, a whole
/// `Result` made of `__mcp_err`.
pub(crate) fn result(
    error: Option<Span>,
    ok: impl Fn(TokenStream) -> TokenStream,
    err: impl FnOnce(Span) -> TokenStream,
) -> TokenStream {
    let Some(span) = error else {
        let ok = ok(quote!(__mcp_out));
        return quote!(::core::result::Result::Ok(#ok));
    };
    let ok = ok(quote!(__mcp_ok));
    let err = err(span);
    quote! {
        match __mcp_out {
            ::core::result::Result::Ok(__mcp_ok) => ::core::result::Result::Ok(#ok),
            ::core::result::Result::Err(__mcp_err) => #err,
        }
    }
}

/// `__mcp_err` as the runtime's `#error` type, through `Display` or `Into`, whichever the
/// handler's error type has; spanned at the error type, so that neither is one error there.
pub(crate) fn probe(span: Span, error: &TokenStream) -> TokenStream {
    let rt = rt();
    quote_spanned!(span=> {
        #[allow(unused_imports)]
        use #rt::{ProbeDisplay as _, ProbeInto as _};
        (&#rt::ErrProbe::<_, #error>::new(&__mcp_err))
            .__mcp_tag()
            .convert(__mcp_err)
    })
}
