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
        crate::transport::http::oauth::backend::ready();
        let (encoding, n, e) = fresh_rsa_key()?;
        let (n, e) = (URL_SAFE_NO_PAD.encode(n), URL_SAFE_NO_PAD.encode(e));
        let decoding = DecodingKey::from_rsa_components(&n, &e)
            .map_err(|e| format!("cannot read the signing key back: {e}"))?;
        let kid = format!("dev-{:016x}", rand::random::<u64>());
        let jwk = json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e});
        Ok(Self {
            kid,
            encoding,
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

/// A fresh 2048-bit RSA key for signing, and its public modulus and exponent (big-endian).
#[cfg(feature = "aws-lc-rs")]
fn fresh_rsa_key() -> Result<(EncodingKey, Vec<u8>, Vec<u8>), String> {
    use aws_lc_rs::encoding::AsDer as _;
    use aws_lc_rs::signature::KeyPair as _;
    let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .map_err(|_| "cannot generate a signing key".to_owned())?;
    let public = key.public_key();
    let (n, e) = (
        public.modulus().big_endian_without_leading_zero().to_vec(),
        public.exponent().big_endian_without_leading_zero().to_vec(),
    );
    let der = key
        .as_der()
        .map_err(|_| "cannot encode the signing key".to_owned())?;
    // PKCS#8, which `EncodingKey` reads in its PEM form.
    let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    let encoding = EncodingKey::from_rsa_pem(pem.as_bytes())
        .map_err(|e| format!("cannot read the signing key back: {e}"))?;
    Ok((encoding, n, e))
}

/// A fresh 2048-bit RSA key for signing, and its public modulus and exponent (big-endian).
#[cfg(not(feature = "aws-lc-rs"))]
fn fresh_rsa_key() -> Result<(EncodingKey, Vec<u8>, Vec<u8>), String> {
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    use rsa::traits::PublicKeyParts as _;
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
        .map_err(|e| format!("cannot generate a signing key: {e}"))?;
    let der = key
        .to_pkcs1_der()
        .map_err(|e| format!("cannot encode the signing key: {e}"))?;
    Ok((
        EncodingKey::from_rsa_der(der.as_bytes()),
        key.n().to_bytes_be(),
        key.e().to_bytes_be(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_signs_what_its_jwk_verifies() {
        let key = SigningKey::generate().unwrap();
        let jwk = &key.jwks()["keys"][0];
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        assert_eq!(n.len(), 256, "a 2048-bit modulus");
        assert_eq!(jwk["e"], "AQAB");

        let claims = json!({"iss": "http://as.test", "sub": "alice", "exp": 4_000_000_000_u64});
        let token = key.sign(claims.as_object().unwrap());
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        let read = key.verify(&token, "http://as.test").expect("its own token");
        assert_eq!(read["sub"], "alice");
        assert!(key.verify(&token, "http://other.test").is_none());

        // The JWK alone, as a resource server holds it, verifies the signature.
        let decoding =
            DecodingKey::from_jwk(&serde_json::from_value(jwk.clone()).unwrap()).unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_aud = false;
        assert!(jsonwebtoken::decode::<Value>(&token, &decoding, &validation).is_ok());
        let other = SigningKey::generate().unwrap();
        assert!(other.verify(&token, "http://as.test").is_none());
    }
}
