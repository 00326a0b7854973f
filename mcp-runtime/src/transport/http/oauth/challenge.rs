//! `WWW-Authenticate: Bearer …` challenges (RFC 6750 §3, RFC 9728 §5.1), and `DPoP …`
//! ones (RFC 9449 §7.1) that add `algs`.
//!
//! RFC 6750 §3.1: `error="invalid_token"` only when a token was presented; a request without
//! credentials gets the scheme and parameters with no error code. Nothing about why a token
//! failed is said beyond the error code.

/// The kind of challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// No token was sent (401).
    Missing,
    /// The token is bad, expired or not for us (401).
    InvalidToken,
    /// The `Authorization` header is malformed (400).
    InvalidRequest,
    /// The token lacks scopes (403).
    InsufficientScope,
    /// The DPoP proof is missing, malformed or wrong (401).
    InvalidDpopProof,
}

/// The header value of a `Bearer` challenge.
pub(crate) fn challenge_header(kind: Challenge, metadata_url: &str, scopes: &[&str]) -> String {
    challenge("Bearer ", kind, metadata_url, scopes)
}

/// The header value of a `DPoP` challenge, naming the proof algorithms `algs`.
pub(crate) fn dpop_challenge(
    kind: Challenge,
    metadata_url: &str,
    scopes: &[&str],
    algs: &str,
) -> String {
    let mut out = challenge("DPoP ", kind, metadata_url, scopes);
    out.push_str(", algs=\"");
    out.push_str(algs);
    out.push('"');
    out
}

fn challenge(scheme: &str, kind: Challenge, metadata_url: &str, scopes: &[&str]) -> String {
    let mut out = String::from(scheme);
    let error = match kind {
        Challenge::Missing => None,
        Challenge::InvalidToken => Some("invalid_token"),
        Challenge::InvalidRequest => Some("invalid_request"),
        Challenge::InsufficientScope => Some("insufficient_scope"),
        Challenge::InvalidDpopProof => Some("invalid_dpop_proof"),
    };
    if let Some(error) = error {
        out.push_str("error=\"");
        out.push_str(error);
        out.push_str("\", ");
    }
    if !scopes.is_empty() {
        out.push_str("scope=\"");
        out.push_str(&scopes.join(" "));
        out.push_str("\", ");
    }
    out.push_str("resource_metadata=\"");
    out.push_str(metadata_url);
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpop_challenges_name_the_proof_algorithms() {
        assert_eq!(
            dpop_challenge(Challenge::InvalidDpopProof, PRM, &[], "ES256 RS256"),
            format!(
                "DPoP error=\"invalid_dpop_proof\", resource_metadata=\"{PRM}\", algs=\"ES256 RS256\""
            )
        );
    }

    const PRM: &str = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";

    #[test]
    fn no_token_means_no_error_code() {
        assert_eq!(
            challenge_header(Challenge::Missing, PRM, &["notes:read"]),
            format!("Bearer scope=\"notes:read\", resource_metadata=\"{PRM}\"")
        );
    }

    #[test]
    fn bad_tokens_and_missing_scopes_say_so() {
        assert_eq!(
            challenge_header(Challenge::InvalidToken, PRM, &[]),
            format!("Bearer error=\"invalid_token\", resource_metadata=\"{PRM}\"")
        );
        assert_eq!(
            challenge_header(
                Challenge::InsufficientScope,
                PRM,
                &["notes:read", "notes:write"]
            ),
            format!(
                "Bearer error=\"insufficient_scope\", scope=\"notes:read notes:write\", resource_metadata=\"{PRM}\""
            )
        );
    }
}
