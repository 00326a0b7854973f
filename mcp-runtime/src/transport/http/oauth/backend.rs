//! The signature backend behind jsonwebtoken, chosen by the crate's features: aws-lc-rs by
//! default, the pure-Rust `RustCrypto` crates with `rust-crypto` for targets where aws-lc
//! cannot be built.

#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
compile_error!(
    "mcp-runtime's `http` feature verifies access tokens and needs a signature backend: \
     enable the feature `aws-lc-rs` (in the default features) or, where aws-lc cannot be \
     built, `rust-crypto`"
);

/// The backend in use, as the startup log names it.
pub(crate) const NAME: &str = if cfg!(feature = "aws-lc-rs") {
    "aws-lc-rs"
} else {
    "RustCrypto"
};

/// Makes jsonwebtoken sign and verify with aws-lc-rs when both backends are compiled in
/// (features are additive, and jsonwebtoken refuses to choose between two by itself). Leaves
/// a provider the application installed first alone. One atomic load after the first call.
#[inline]
pub(crate) fn ready() {
    #[cfg(all(feature = "aws-lc-rs", feature = "rust-crypto"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        });
    }
}
