//! The server's signing key: generated at start, never written anywhere.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value, json};

/// An RS256 key pair and its JWK.
pub(super) struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Value,
}

impl SigningKey {
    /// A fresh 2048-bit RSA key.
    pub(super) fn generate() -> Result<Self, String> {
        use rsa::pkcs1::EncodeRsaPrivateKey as _;
        use rsa::traits::PublicKeyParts as _;
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
            .map_err(|e| format!("cannot generate a signing key: {e}"))?;
        let der = key
            .to_pkcs1_der()
            .map_err(|e| format!("cannot encode the signing key: {e}"))?;
        let (n, e) = (
            URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
            URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        );
        let decoding = DecodingKey::from_rsa_components(&n, &e)
            .map_err(|e| format!("cannot read the signing key back: {e}"))?;
        let kid = format!("dev-{:016x}", rand::random::<u64>());
        let jwk = json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e});
        Ok(Self {
            kid,
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            decoding,
            jwk,
        })
    }

    /// The JWK Set that holds the public key.
    pub(super) fn jwks(&self) -> Value {
        json!({"keys": [self.jwk]})
    }

    /// An access token (RFC 9068: `typ: at+jwt`) with these claims.
    pub(super) fn sign(&self, claims: &Map<String, Value>) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("at+jwt".into());
        header.kid = Some(self.kid.clone());
        // Signing a JSON object with a valid RSA key does not fail.
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap_or_default()
    }

    /// The claims of a live access token this key signed for `issuer`, whatever its
    /// audience.
    pub(super) fn verify(&self, token: &str, issuer: &str) -> Option<Map<String, Value>> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.kid.as_deref() != Some(&self.kid) {
            return None;
        }
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        jsonwebtoken::decode::<Map<String, Value>>(token, &self.decoding, &validation)
            .ok()
            .map(|data| data.claims)
    }
}
