//! Transports: Streamable HTTP on axum and newline-delimited stdio.

#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "http")]
pub(crate) mod session;
#[cfg(feature = "stdio")]
pub(crate) mod stdio;
