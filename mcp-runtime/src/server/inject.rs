//! Handler parameters read by type: `RequestContext`, `Session` and `Auth<C>` are provided by
//! the runtime from the request; any other type a tool takes is one of its JSON arguments.
//!
//! `#[mcp_server]` sees only how a type is spelled, so a parameter spelled like a provided type
//! is read through [`ToolParam`], whose impls pick the source at compile time: a user's own
//! `Session` struct is then an argument, and the runtime's is injected. Whether the server
//! may provide a value is a bound on the server type (`S` below), so `Auth` without `oauth` and
//! `Session` on a `stateless` server are compile errors at the parameter's type.

use serde_json::{Map, Value};

use super::schema::{ParamSpec, ToolInput, params_schema};
use super::{RequestContext, Session};
use crate::protocol::RpcError;

/// A value the runtime provides from the request to a handler of server `S`.
///
/// Implemented for `RequestContext`, for `Session` on a server that keeps sessions and for
/// `Auth<C>` on a server declared with `oauth`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a value the runtime provides to a handler",
    label = "the runtime provides `RequestContext`, `Session` and `Auth`",
    note = "resources, prompts and completions take their other parameters as `String`s; a tool reads other types from JSON when the parameter has a plain name like `point: Point`"
)]
pub trait FromCaller<S>: Sized {
    /// The value for the request in `ctx`.
    fn from_context(ctx: &RequestContext) -> Result<Self, RpcError>;
}

impl<S> FromCaller<S> for RequestContext {
    fn from_context(ctx: &RequestContext) -> Result<Self, RpcError> {
        Ok(ctx.clone())
    }
}

/// Implemented by `#[mcp_server(oauth(..))]`: the server's handlers may take `Auth`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`Auth` needs `#[mcp_server(oauth(..))]` on the server `{Self}`; add it, or remove this parameter",
    label = "the caller is known only to a server declared with `oauth`"
)]
pub trait DeclaresOAuth {}

/// Implemented by `#[mcp_server]` without `stateless`: the server's handlers may take
/// `Session`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`Session` needs a server that keeps sessions, but `{Self}` is declared `stateless`; remove `stateless`, or keep state elsewhere (`RequestContext::ask` works without a session)",
    label = "a `stateless` server keeps no sessions"
)]
pub trait KeepsSessions {}

/// A tool parameter spelled like a provided type: where its value comes from, chosen by its
/// type.
///
/// The source is an associated type rather than a bound on the impls, so that selecting the
/// impl never fails: a missing `oauth`, `Deserialize` on the claims or `JsonSchema` is then
/// reported by the trait that names it, not as "`ToolParam` is not implemented".
#[doc(hidden)]
pub trait ToolParam: Sized {
    /// [`Argument`] or [`Provided`].
    type Source;

    /// The parameter's property in the input schema; `None` for a provided value, which is
    /// no argument.
    fn spec(
        name: &'static str,
        description: Option<&'static str>,
        required: bool,
    ) -> Option<ParamSpec>;
}

impl<T: ToolInput> ToolParam for T {
    type Source = Argument;

    fn spec(
        name: &'static str,
        description: Option<&'static str>,
        required: bool,
    ) -> Option<ParamSpec> {
        Some(ParamSpec {
            name,
            description,
            required,
            schema: T::schema,
            header: None,
        })
    }
}

/// The impls for provided types, none of which reads from JSON (coherence relies on that:
/// none is `DeserializeOwned + JsonSchema`, and no other crate may make it one).
macro_rules! provided {
    ($($(#[$attr:meta])* [$($generics:tt)*] $ty:ty),* $(,)?) => {$(
        $(#[$attr])*
        #[diagnostic::do_not_recommend]
        impl<$($generics)*> ToolParam for $ty {
            type Source = Provided;

            fn spec(_: &'static str, _: Option<&'static str>, _: bool) -> Option<ParamSpec> {
                None
            }
        }
    )*};
}

provided! {
    [] RequestContext,
    [] Session,
    #[cfg(feature = "http")]
    [C] crate::auth::Auth<C>,
}

/// The source of a tool argument: the arguments object.
#[doc(hidden)]
pub enum Argument {}

/// The source of a provided value: the request.
#[doc(hidden)]
pub enum Provided {}

/// Reads a `T` for a tool of server `S` from its source.
#[doc(hidden)]
pub trait ReadParam<T, S> {
    /// The value: the argument `name` of `args`, or provided from `ctx`.
    ///
    /// # Errors
    ///
    /// -32602 for an argument that is missing or does not fit `T`; for a provided value, the
    /// error of [`FromCaller::from_context`].
    fn read(args: &Map<String, Value>, name: &str, ctx: &RequestContext) -> Result<T, RpcError>;
}

impl<T: ToolInput, S> ReadParam<T, S> for Argument {
    fn read(args: &Map<String, Value>, name: &str, _: &RequestContext) -> Result<T, RpcError> {
        T::from_arg(args, name)
    }
}

impl<T: FromCaller<S>, S> ReadParam<T, S> for Provided {
    fn read(_: &Map<String, Value>, _: &str, ctx: &RequestContext) -> Result<T, RpcError> {
        T::from_context(ctx)
    }
}

/// A tool parameter of server `S`, read from the arguments object or provided.
///
/// Its one impl dispatches on [`ToolParam::Source`]; the generated code names the parameter's
/// type as `Self`, so that an error underlines the whole type as written.
#[doc(hidden)]
pub trait FromArguments<S>: Sized {
    /// The value: the argument `name` of `args`, or provided from `ctx`.
    ///
    /// # Errors
    ///
    /// -32602 for an argument that is missing or does not fit; for a provided value, the
    /// error of [`FromCaller::from_context`].
    fn from_arguments(
        args: &Map<String, Value>,
        name: &str,
        ctx: &RequestContext,
    ) -> Result<Self, RpcError>;
}

impl<T: ToolParam, S> FromArguments<S> for T
where
    T::Source: ReadParam<T, S>,
{
    fn from_arguments(
        args: &Map<String, Value>,
        name: &str,
        ctx: &RequestContext,
    ) -> Result<Self, RpcError> {
        <T::Source as ReadParam<T, S>>::read(args, name, ctx)
    }
}

/// The input schema of a tool declared with individual parameters, without the provided ones
/// (`None`).
#[doc(hidden)]
pub fn input_schema(params: &[Option<ParamSpec>]) -> Value {
    let specs: Vec<ParamSpec> = params.iter().flatten().copied().collect();
    params_schema(&specs)
}

/// A type whose value a scope may name (`scopes = ["files:read:{project}"]`): a string, an
/// integer or a boolean, which the call's argument then spells out in the scope.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "a scope cannot name an argument of type `{Self}`",
    label = "not a string, an integer or a boolean",
    note = "a scope like `files:read:{{project}}` takes the argument's value as text: name a `String`, integer or `bool` argument"
)]
pub trait ScopeArg {}

impl ScopeArg for String {}
impl ScopeArg for bool {}
macro_rules! scope_integers {
    ($($ty:ty),*) => {$(impl ScopeArg for $ty {})*};
}
scope_integers!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

/// Checks at compile time that a scope may name an argument of type `T`.
#[doc(hidden)]
pub const fn scope_arg<T: ScopeArg>() {}
