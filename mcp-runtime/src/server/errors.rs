//! How the `Err` of a resource, prompt or completion method becomes a protocol error.
//!
//! An error type that converts into the feature's error type ([`ResourceError`],
//! [`PromptError`]) keeps its meaning (not found, invalid argument); any other error with a
//! `Display` is an internal failure: logged with its message, answered -32603 with a generic
//! one. The generated code picks between the two with autoref specialization on the concrete
//! error type: `(&ErrProbe::<E, T>::new(&e)).__mcp_tag()` resolves to [`ProbeInto`] when
//! `E: Into<T>` (a by-value match), and to [`ProbeDisplay`] (one autoref further) otherwise.
//!
//! [`ResourceError`]: super::resource::ResourceError
//! [`PromptError`]: super::prompt::PromptError

use std::fmt;
use std::marker::PhantomData;

/// A feature error type that can carry an internal failure's message.
#[doc(hidden)]
pub trait FromDisplay {
    /// An internal failure with this message (logged, never sent).
    fn from_display(message: String) -> Self;
}

/// The error type of a resource, prompt or completion method returning `Result<T, E>` when
/// `E` does not convert into the feature's error type: its `Display` is logged.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "error `{Self}` cannot be reported",
    label = "this error type needs `Display`, or a conversion into `ResourceError` / `PromptError`",
    note = "implement `std::fmt::Display` for it (the message is logged; the client sees a generic internal error), or `From<{Self}>` for `ResourceError` (resources) or `PromptError` (prompts)"
)]
pub trait ErrorMessage {
    /// The message to log.
    fn message(&self) -> String;
}

#[diagnostic::do_not_recommend]
impl<E: fmt::Display + ?Sized> ErrorMessage for E {
    fn message(&self) -> String {
        self.to_string()
    }
}

/// Which conversion the `Err(E)` of a method returning errors of kind `T` takes.
#[doc(hidden)]
pub struct ErrProbe<E, T>(PhantomData<fn(E) -> T>);

impl<E, T> ErrProbe<E, T> {
    /// The probe for `error`'s type.
    pub fn new(_error: &E) -> Self {
        Self(PhantomData)
    }
}

/// Chosen when `E: Into<T>`.
#[doc(hidden)]
pub trait ProbeInto<T> {
    /// The conversion.
    fn __mcp_tag(&self) -> IntoTag<T>;
}

impl<E: Into<T>, T> ProbeInto<T> for ErrProbe<E, T> {
    fn __mcp_tag(&self) -> IntoTag<T> {
        IntoTag(PhantomData)
    }
}

/// Chosen otherwise; requires `E: Display` when converting.
#[doc(hidden)]
pub trait ProbeDisplay<T> {
    /// The conversion.
    fn __mcp_tag(&self) -> DisplayTag<T>;
}

impl<E, T> ProbeDisplay<T> for &ErrProbe<E, T> {
    fn __mcp_tag(&self) -> DisplayTag<T> {
        DisplayTag(PhantomData)
    }
}

/// Converts with `Into`.
#[doc(hidden)]
pub struct IntoTag<T>(PhantomData<fn() -> T>);

impl<T> IntoTag<T> {
    /// `error.into()`.
    pub fn convert<E: Into<T>>(self, error: E) -> T {
        error.into()
    }
}

/// Converts through `Display`, as an internal failure.
#[doc(hidden)]
pub struct DisplayTag<T>(PhantomData<fn() -> T>);

impl<T: FromDisplay> DisplayTag<T> {
    /// An internal failure with `error`'s message.
    // By value, as `IntoTag::convert`: the generated call is the same for both.
    #[allow(clippy::needless_pass_by_value)]
    pub fn convert<E: ErrorMessage>(self, error: E) -> T {
        T::from_display(error.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::resource::ResourceError;

    struct Missing;

    impl From<Missing> for ResourceError {
        fn from(_: Missing) -> Self {
            Self::NotFound
        }
    }

    #[derive(Debug)]
    struct Both;

    impl fmt::Display for Both {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("both")
        }
    }

    impl From<Both> for ResourceError {
        fn from(_: Both) -> Self {
            Self::NotFound
        }
    }

    // The borrow is what picks `ProbeDisplay` when `Into` does not apply.
    #[allow(clippy::needless_borrow)]
    #[test]
    fn conversions_win_over_display() {
        let e = Missing;
        let r: ResourceError = (&ErrProbe::<_, ResourceError>::new(&e))
            .__mcp_tag()
            .convert(e);
        assert_eq!(r, ResourceError::NotFound);
        let e = Both;
        let r: ResourceError = (&ErrProbe::<_, ResourceError>::new(&e))
            .__mcp_tag()
            .convert(e);
        assert_eq!(r, ResourceError::NotFound);
        let e = std::io::Error::other("disk on fire");
        let r: ResourceError = (&ErrProbe::<_, ResourceError>::new(&e))
            .__mcp_tag()
            .convert(e);
        assert_eq!(r, ResourceError::Internal("disk on fire".into()));
        let e = ResourceError::NotFound;
        let r: ResourceError = (&ErrProbe::<_, ResourceError>::new(&e))
            .__mcp_tag()
            .convert(e);
        assert_eq!(r, ResourceError::NotFound);
    }
}
