//! The development authorization server on its own, over real HTTP on 127.0.0.1: what it
//! issues, and what it refuses (wrong passwords, replayed codes, PKCE mismatches, redirect
//! URIs it was not given, client ID metadata documents that cannot be used, token exchange
//! by a client that may not, forged DPoP proofs), each with the RFC's error and nothing
//! issued.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_runtime::dev_auth::{DevAuthError, DevAuthServer, DevUser};
use mcp_runtime::testing::DpopKey;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

const RESOURCE: &str = "http://127.0.0.1:9/mcp";
const REDIRECT: &str = "http://127.0.0.1:8978/callback";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn server(auto_login: Option<&str>) -> DevAuthServer {
    let mut builder = DevAuthServer::builder()
        .scopes(["notes:read", "notes:write"])
        .user(DevUser::new("alice", "wonderland").claim("roles", json!(["editor"])))
        .user(DevUser::new("bob", "builder").scopes(["notes:read"]))
        .client("notes-server", "s3cret");
    if let Some(user) = auto_login {
        builder = builder.auto_login(user);
    }
    builder.start().await.unwrap()
}

async fn register(dev: &DevAuthServer) -> String {
    let resp = http()
        .post(format!("{}/register", dev.issuer()))
        .json(
            &json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
                      "client_name": "<script>alert(1)</script>"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body.get("client_secret").is_none(),
        "a public client: {body}"
    );
    body["client_id"].as_str().unwrap().to_owned()
}

struct Pkce {
    verifier: String,
    challenge: String,
}

fn pkce() -> Pkce {
    let verifier = URL_SAFE_NO_PAD.encode(rand_bytes());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

fn rand_bytes() -> [u8; 32] {
    use std::io::Read as _;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .unwrap();
    bytes
}

fn authorize_url(dev: &DevAuthServer, client: &str, scope: &str, pkce: &Pkce) -> reqwest::Url {
    reqwest::Url::parse_with_params(
        &dev.authorization_endpoint(),
        [
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "st4te"),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
            ("resource", RESOURCE),
        ],
    )
    .unwrap()
}

async fn get(url: reqwest::Url) -> reqwest::Response {
    http().get(url).send().await.unwrap()
}

/// A registered client, its PKCE pair and a code for `scope` from a server that signs its
/// user in itself.
async fn code_for(dev: &DevAuthServer, scope: &str) -> (String, Pkce, String) {
    let client = register(dev).await;
    let pkce = pkce();
    let resp = get(authorize_url(dev, &client, scope, &pkce)).await;
    let code = redirected(&resp)["code"].clone();
    (client, pkce, code)
}

/// `url` with query parameter `name` set to `value`, or removed for `None`.
fn with_param(mut url: reqwest::Url, name: &str, value: Option<&str>) -> reqwest::Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != name)
        .collect();
    let mut query = url.query_pairs_mut();
    query.clear().extend_pairs(pairs);
    if let Some(value) = value {
        query.append_pair(name, value);
    }
    drop(query);
    url
}

/// The query of a redirect to [`REDIRECT`].
fn redirected(resp: &reqwest::Response) -> std::collections::HashMap<String, String> {
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{resp:?}");
    let location = resp.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    reqwest::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

async fn token(dev: &DevAuthServer, form: &[(&str, &str)]) -> (StatusCode, Value) {
    token_request(dev, None, form).await
}

/// Like [`token`], with a `DPoP` header.
async fn token_with_proof(
    dev: &DevAuthServer,
    proof: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    token_request(dev, Some(proof), form).await
}

async fn token_request(
    dev: &DevAuthServer,
    proof: Option<&str>,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut request = http().post(dev.token_endpoint()).form(form);
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    let resp = request.send().await.unwrap();
    let status = resp.status();
    assert_eq!(resp.headers()["cache-control"], "no-store");
    (status, resp.json().await.unwrap())
}

/// A proof for a token request by `key`: no `ath`, as no token is presented.
fn token_proof(dev: &DevAuthServer, key: DpopKey) -> mcp_runtime::testing::ProofBuilder {
    key.proof("POST", &dev.token_endpoint(), "").without("ath")
}

/// The form redeeming `code` for `client`.
fn redeem_form<'a>(client: &'a str, code: &'a str, verifier: &'a str) -> [(&'a str, &'a str); 6] {
    [
        ("grant_type", "authorization_code"),
        ("client_id", client),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
        ("resource", RESOURCE),
    ]
}

async fn redeem(
    dev: &DevAuthServer,
    client: &str,
    code: &str,
    verifier: &str,
) -> (StatusCode, Value) {
    token(dev, &redeem_form(client, code, verifier)).await
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The id of the request a sign-in page answers.
fn request_of(page: &str) -> String {
    let rest = page.split("name=\"request\" value=\"").nth(1).unwrap();
    rest.split('"').next().unwrap().to_owned()
}

/// A code, signed in through the page as `user` with `password`.
async fn sign_in(
    dev: &DevAuthServer,
    client: &str,
    scope: &str,
    pkce: &Pkce,
    user: &str,
    password: &str,
) -> reqwest::Response {
    let page = get(authorize_url(dev, client, scope, pkce)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let request = request_of(&html);
    http()
        .post(dev.authorization_endpoint())
        .form(&[
            ("request", request.as_str()),
            ("username", user),
            ("password", password),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn only_loopback_addresses_are_bound() {
    for addr in ["0.0.0.0:0", "192.0.2.1:0"] {
        let addr: SocketAddr = addr.parse().unwrap();
        let refused = DevAuthServer::builder()
            .bind(addr)
            .start()
            .await
            .unwrap_err();
        assert!(matches!(refused, DevAuthError::NotLoopback(a) if a == addr));
        assert!(refused.to_string().contains("loopback"), "{refused}");
    }
}

#[tokio::test]
async fn the_sign_in_page_issues_a_code_for_the_right_password_only() {
    let dev = server(None).await;
    let client = register(&dev).await;
    let pkce = pkce();
    let wrong = sign_in(&dev, &client, "notes:read", &pkce, "alice", "guess").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get("location").is_none());
    let page = wrong.text().await.unwrap();
    assert!(page.contains("Wrong username or password"), "{page}");
    assert!(
        page.contains("&lt;script&gt;") && !page.contains("<script>"),
        "the client's name is escaped: {page}"
    );

    let right = sign_in(
        &dev,
        &client,
        "notes:read notes:write",
        &pkce,
        "alice",
        "wonderland",
    )
    .await;
    let query = redirected(&right);
    assert_eq!(query["state"], "st4te");
    assert_eq!(query["iss"], dev.issuer());
    let (status, body) = redeem(&dev, &client, &query["code"], &pkce.verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let jwt = body["access_token"].as_str().unwrap();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (header["alg"].as_str(), header["typ"].as_str()),
        (Some("RS256"), Some("at+jwt"))
    );
    let claims = claims(jwt);
    assert_eq!(claims["aud"], RESOURCE);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["iss"], dev.issuer());
    assert_eq!(claims["scope"], "notes:read notes:write");
    assert_eq!(claims["roles"], json!(["editor"]));
    assert_eq!(claims["client_id"], client.as_str());
}

#[tokio::test]
async fn a_user_gets_only_the_scopes_they_may_have_and_a_denial_issues_nothing() {
    let dev = server(None).await;
    let client = register(&dev).await;
    let pkce = pkce();
    let bob = sign_in(
        &dev,
        &client,
        "notes:read notes:write",
        &pkce,
        "bob",
        "builder",
    )
    .await;
    let (status, body) = redeem(&dev, &client, &redirected(&bob)["code"], &pkce.verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "notes:read");
    assert!(
        body.get("refresh_token").is_none(),
        "no offline_access: {body}"
    );

    let unknown = get(authorize_url(&dev, &client, "admin", &pkce)).await;
    let query = redirected(&unknown);
    assert_eq!(query["error"], "invalid_scope");
    assert!(!query.contains_key("code"));

    let page = get(authorize_url(&dev, &client, "notes:read", &pkce))
        .await
        .text()
        .await
        .unwrap();
    let request = request_of(&page);
    let denied = http()
        .post(dev.authorization_endpoint())
        .form(&[("request", request.as_str()), ("decision", "deny")])
        .send()
        .await
        .unwrap();
    let query = redirected(&denied);
    assert_eq!(query["error"], "access_denied");
    assert!(!query.contains_key("code"));
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_what_it_gave() {
    let dev = server(Some("alice")).await;
    let (client, pkce, code) = code_for(&dev, "notes:read offline_access").await;
    let (status, first) = redeem(&dev, &client, &code, &pkce.verifier).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(
        first["scope"], "notes:read",
        "offline_access asks for a refresh token"
    );
    let (status, again) = redeem(&dev, &client, &code, &pkce.verifier).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(again["error"], "invalid_grant", "{again}");
    assert!(again.get("access_token").is_none());
    let refresh = first["refresh_token"].as_str().unwrap();
    let (status, refreshed) = token(
        &dev,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client),
            ("refresh_token", refresh),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "revoked: {refreshed}");
    assert_eq!(refreshed["error"], "invalid_grant");
}

#[tokio::test]
async fn a_pkce_mismatch_is_refused_and_burns_the_code() {
    let dev = server(Some("alice")).await;
    let client = register(&dev).await;
    let pkce = pkce();
    let resp = get(authorize_url(&dev, &client, "notes:read", &pkce)).await;
    let code = redirected(&resp)["code"].clone();
    let other = "x".repeat(43);
    let (status, body) = redeem(&dev, &client, &code, &other).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (status, body) = redeem(&dev, &client, &code, &pkce.verifier).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "one try per code: {body}");

    // Without a challenge there is no code at all.
    let url = authorize_url(&dev, &client, "notes:read", &pkce);
    let url = with_param(
        with_param(url, "code_challenge", None),
        "code_challenge_method",
        None,
    );
    let query = redirected(&http().get(url).send().await.unwrap());
    assert_eq!(query["error"], "invalid_request");
    assert!(!query.contains_key("code"));
}

#[tokio::test]
async fn a_redirect_uri_that_was_not_registered_gets_a_page_not_a_redirect() {
    let dev = server(Some("alice")).await;
    let client = register(&dev).await;
    let pkce = pkce();
    let url = with_param(
        authorize_url(&dev, &client, "notes:read", &pkce),
        "redirect_uri",
        Some("https://evil.example/cb"),
    );
    let resp = http().get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get("location").is_none());
    let page = resp.text().await.unwrap();
    assert!(page.contains("not a redirect URI of this client"), "{page}");

    // A loopback redirect URI matches on any port.
    let url = with_param(
        authorize_url(&dev, &client, "notes:read", &pkce),
        "redirect_uri",
        Some("http://127.0.0.1:41234/callback"),
    );
    let resp = http().get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
}

/// Serves `document` as `/client.json` (and one larger than the limit as `/big.json`);
/// the base URL.
async fn documents(document: impl Fn(&str) -> Value + Send + Sync + 'static) -> String {
    let (listener, base) = support::listen().await;
    let base = base.trim_end_matches("/mcp").to_owned();
    let url = format!("{base}/client.json");
    let doc = document(&url);
    let app = axum::Router::new()
        .route(
            "/client.json",
            axum::routing::get(move || async move { axum::Json(doc) }),
        )
        .route(
            "/big.json",
            axum::routing::get(|| async { "x".repeat(6000) }),
        );
    support::serve(listener, app);
    base
}

#[tokio::test]
async fn a_client_id_metadata_document_is_read_and_checked() {
    let dev = server(Some("alice")).await;
    let pkce = pkce();
    let good = documents(
        |url| json!({"client_id": url, "client_name": "Doc client", "redirect_uris": [REDIRECT]}),
    )
    .await;
    let client = format!("{good}/client.json");
    let resp = get(authorize_url(&dev, &client, "notes:read", &pkce)).await;
    let code = redirected(&resp)["code"].clone();
    let (status, body) = redeem(&dev, &client, &code, &pkce.verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["client_id"],
        client.as_str()
    );

    let mismatched = documents(
        |_| json!({"client_id": "https://elsewhere.example/c.json", "redirect_uris": [REDIRECT]}),
    )
    .await;
    let closed = format!("http://127.0.0.1:{}/client.json", support::free_port());
    for (client, why) in [
        (
            format!("{mismatched}/client.json"),
            "names another `client_id`",
        ),
        (closed, "cannot be read"),
        (format!("{good}/big.json"), "larger than"),
    ] {
        let resp = get(authorize_url(&dev, &client, "notes:read", &pkce)).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{client}");
        assert!(resp.headers().get("location").is_none());
        let page = resp.text().await.unwrap();
        assert!(
            page.contains("invalid_client") && page.contains(why),
            "{client}: {page}"
        );
    }
}

#[tokio::test]
async fn token_exchange_gives_a_confidential_client_a_token_for_another_audience() {
    let dev = server(Some("alice")).await;
    let client = register(&dev).await;
    let pkce = pkce();
    let resp = get(authorize_url(&dev, &client, "notes:read", &pkce)).await;
    let (_, user) = redeem(&dev, &client, &redirected(&resp)["code"], &pkce.verifier).await;
    let subject = user["access_token"].as_str().unwrap();
    let exchange = |secret: &'static str, subject: String| {
        let dev_token = dev.token_endpoint();
        async move {
            let resp = http()
                .post(dev_token)
                .basic_auth("notes-server", Some(secret))
                .form(&[
                    (
                        "grant_type",
                        "urn:ietf:params:oauth:grant-type:token-exchange",
                    ),
                    ("subject_token", subject.as_str()),
                    (
                        "subject_token_type",
                        "urn:ietf:params:oauth:token-type:access_token",
                    ),
                    ("resource", "https://calendar.example/api"),
                    ("scope", "notes:read"),
                ])
                .send()
                .await
                .unwrap();
            let status = resp.status();
            (status, resp.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = exchange("s3cret", subject.to_owned()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    let claims = claims(body["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], "https://calendar.example/api");
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["act"]["sub"], "notes-server");
    assert_ne!(body["access_token"].as_str(), Some(subject));

    let (status, body) = exchange("wrong", subject.to_owned()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    let forged = format!("{}x", &subject[..subject.len() - 1]);
    let (status, body) = exchange("s3cret", forged).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request")),
        "RFC 8693, section 2.2.2"
    );

    // A client that registered itself may not exchange.
    let (status, body) = token(
        &dev,
        &[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("client_id", &client),
            ("subject_token", subject),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:access_token",
            ),
            ("audience", "calendar"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unauthorized_client"))
    );
}

#[tokio::test]
async fn refresh_tokens_rotate() {
    let dev = server(Some("alice")).await;
    let client = register(&dev).await;
    let pkce = pkce();
    let resp = get(authorize_url(
        &dev,
        &client,
        "notes:read notes:write offline_access",
        &pkce,
    ))
    .await;
    let (_, first) = redeem(&dev, &client, &redirected(&resp)["code"], &pkce.verifier).await;
    let old = first["refresh_token"].as_str().unwrap().to_owned();
    let refresh = async |token: &str, scope: Option<&str>| {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("client_id", client.as_str()),
            ("refresh_token", token),
        ];
        form.extend(scope.map(|s| ("scope", s)));
        self::token(&dev, &form).await
    };
    let (status, second) = refresh(&old, Some("notes:read")).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["scope"], "notes:read", "narrowed");
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let newer = second["refresh_token"].as_str().unwrap().to_owned();
    let (status, wider) = refresh(&newer, Some("notes:read notes:write admin")).await;
    assert_eq!(
        (status, wider["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_scope"))
    );
    let (status, elsewhere) = refresh(&newer, None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the refused request kept the token: {elsewhere}"
    );
    assert_eq!(
        elsewhere["scope"], "notes:read notes:write",
        "as first granted"
    );
    let newest = elsewhere["refresh_token"].as_str().unwrap().to_owned();
    // A replaced token presented again revokes its whole family.
    let (status, reused) = refresh(&old, None).await;
    assert_eq!(
        (status, reused["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (status, revoked) = refresh(&newest, None).await;
    assert_eq!(
        (status, revoked["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "the family is revoked"
    );
}

/// Clients in a browser page (the MCP Inspector) read the metadata, register and redeem
/// codes across origins; the sign-in page is a navigation and allows no framing.
#[tokio::test]
async fn browser_clients_may_call_the_endpoints_across_origins() {
    let dev = server(None).await;
    let origin = "http://localhost:6274";
    let preflight = http()
        .request(reqwest::Method::OPTIONS, dev.token_endpoint())
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, mcp-protocol-version",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{preflight:?}");
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("mcp-protocol-version"), "{allowed}");
    let metadata = http()
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            dev.issuer()
        ))
        .header("origin", origin)
        .send()
        .await
        .unwrap();
    assert_eq!(metadata.headers()["access-control-allow-origin"], "*");
    let page = get(authorize_url(
        &dev,
        &register(&dev).await,
        "notes:read",
        &pkce(),
    ))
    .await;
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(page.headers().get("access-control-allow-origin").is_none());
}

/// Registrations are bounded, and a flood of them never pushes out the clients the
/// server was configured with.
#[tokio::test]
async fn a_registration_flood_keeps_the_configured_clients() {
    let dev = server(None).await;
    let http = http();
    for _ in 0..101 {
        let calls: Vec<_> = (0..100)
            .map(|_| {
                let request = http.post(format!("{}/register", dev.issuer())).json(
                    &json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}),
                );
                tokio::spawn(async move { request.send().await.unwrap().status() })
            })
            .collect();
        for call in calls {
            assert_eq!(call.await.unwrap(), StatusCode::CREATED);
        }
    }
    let resp = http
        .post(dev.token_endpoint())
        .basic_auth("notes-server", Some("s3cret"))
        .form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("subject_token", "not-a-token"),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:access_token",
            ),
            ("audience", "calendar"),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["error"], "invalid_request",
        "still known and authenticated: {body}"
    );
}

/// A refresh token buys tokens for the resource it was granted for only (RFC 8707), and a
/// code replayed after its refresh token was rotated still revokes the rotated one.
#[tokio::test]
async fn refresh_keeps_its_resource_and_a_replay_revokes_rotated_tokens() {
    let dev = server(Some("alice")).await;
    let (client, pkce, code) = code_for(&dev, "notes:read offline_access").await;
    let (_, first) = redeem(&dev, &client, &code, &pkce.verifier).await;
    let refresh = first["refresh_token"].as_str().unwrap();
    let (status, body) = token(
        &dev,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client),
            ("refresh_token", refresh),
            ("resource", "http://127.0.0.1:9/other"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_target"))
    );
    let (status, rotated) = token(
        &dev,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client),
            ("refresh_token", refresh),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert_eq!(
        claims(rotated["access_token"].as_str().unwrap())["aud"],
        RESOURCE
    );
    let (status, _) = redeem(&dev, &client, &code, &pkce.verifier).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "replayed");
    let (status, body) = token(
        &dev,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client),
            ("refresh_token", rotated["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "revoked with its code"
    );
}

/// Parameters given twice or too long are refused, and the sign-in form only from the
/// server's own page, and for five wrong passwords at most.
#[tokio::test]
async fn repeated_or_oversized_parameters_and_foreign_forms_are_refused() {
    let dev = server(None).await;
    let client = register(&dev).await;
    let pkce = pkce();
    let mut twice = authorize_url(&dev, &client, "notes:read", &pkce);
    twice.query_pairs_mut().append_pair("scope", "notes:write");
    let resp = get(twice).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("given more than once"));
    let long = with_param(
        authorize_url(&dev, &client, "notes:read", &pkce),
        "state",
        Some(&"s".repeat(3000)),
    );
    let resp = get(long).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("longer than"));
    let (status, body) = token(
        &dev,
        &[
            ("grant_type", "refresh_token"),
            ("grant_type", "authorization_code"),
            ("client_id", &client),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );

    let page = get(authorize_url(&dev, &client, "notes:read", &pkce))
        .await
        .text()
        .await
        .unwrap();
    let request = request_of(&page);
    assert!(
        page.contains("http://127.0.0.1:8978"),
        "the page names where the answer goes"
    );
    let foreign = http()
        .post(dev.authorization_endpoint())
        .header("origin", "https://evil.example")
        .form(&[
            ("request", request.as_str()),
            ("username", "alice"),
            ("password", "wonderland"),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert!(foreign.headers().get("location").is_none());
    for attempt in 1..=5 {
        let resp = http()
            .post(dev.authorization_endpoint())
            .form(&[
                ("request", request.as_str()),
                ("username", "alice"),
                ("password", "guess"),
                ("decision", "allow"),
            ])
            .send()
            .await
            .unwrap();
        let expected = if attempt < 5 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(resp.status(), expected, "attempt {attempt}");
    }
    let late = http()
        .post(dev.authorization_endpoint())
        .form(&[
            ("request", request.as_str()),
            ("username", "alice"),
            ("password", "wonderland"),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), StatusCode::BAD_REQUEST, "the page is gone");
}

/// With auto-login, codes go to loopback redirect URIs only.
#[tokio::test]
async fn auto_login_sends_codes_to_this_machine_only() {
    let dev = server(Some("alice")).await;
    let resp = http()
        .post(format!("{}/register", dev.issuer()))
        .json(&json!({"redirect_uris": ["https://evil.example/cb"], "token_endpoint_auth_method": "none"}))
        .send()
        .await
        .unwrap();
    let client: Value = resp.json().await.unwrap();
    let client = client["client_id"].as_str().unwrap();
    let url = with_param(
        authorize_url(&dev, client, "notes:read", &pkce()),
        "redirect_uri",
        Some("https://evil.example/cb"),
    );
    let resp = get(url).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.headers().get("location").is_none());
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("loopback redirect URIs only")
    );
}

/// RFC 9449 §5: a code redeemed with a proof gives a token bound to the proof's key, and
/// the public client's refresh token is bound to it too: refreshed only with a proof by
/// that key, and a refused attempt does not use the refresh token up.
#[tokio::test]
async fn a_token_request_with_a_dpop_proof_binds_the_tokens_to_its_key() {
    let dev = server(Some("alice")).await;
    let key = DpopKey::new();
    let (client, pkce, code) = code_for(&dev, "notes:read offline_access").await;
    let form = redeem_form(&client, &code, &pkce.verifier);
    let (status, body) = token_with_proof(&dev, &token_proof(&dev, key).sign(), &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    let bound = claims(body["access_token"].as_str().unwrap());
    assert_eq!(bound["cnf"]["jkt"], key.thumbprint(), "{bound}");
    assert_eq!(bound["aud"], RESOURCE);
    let refresh = body["refresh_token"].as_str().unwrap();
    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("client_id", client.as_str()),
        ("refresh_token", refresh),
    ];

    let (status, body) = token(&dev, &refresh_form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no proof: {body}");
    assert_eq!(body["error"], "invalid_dpop_proof");
    let other = token_proof(&dev, DpopKey::other()).sign();
    let (status, body) = token_with_proof(&dev, &other, &refresh_form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "another key: {body}");
    assert_eq!(body["error"], "invalid_dpop_proof");
    assert!(body.get("access_token").is_none());

    let (status, body) =
        token_with_proof(&dev, &token_proof(&dev, key).sign(), &refresh_form).await;
    assert_eq!(status, StatusCode::OK, "the holder's key: {body}");
    assert_eq!(body["token_type"], "DPoP");
    let refreshed = claims(body["access_token"].as_str().unwrap());
    assert_eq!(refreshed["cnf"]["jkt"], key.thumbprint());

    // Without a proof, tokens stay bearer tokens.
    let (client, pkce, code) = code_for(&dev, "notes:read").await;
    let (status, body) = redeem(&dev, &client, &code, &pkce.verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(
        claims(body["access_token"].as_str().unwrap())
            .get("cnf")
            .is_none()
    );

    let metadata: Value = http()
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            dev.issuer()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let algs = metadata["dpop_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert!(algs.contains(&json!("ES256")), "{metadata}");
    assert!(!algs.contains(&json!("HS256")), "{metadata}");
}

/// Each forged proof at the token endpoint is refused with `invalid_dpop_proof`, issues
/// nothing and leaves the code usable.
#[tokio::test]
async fn forged_proofs_at_the_token_endpoint_issue_nothing() {
    let dev = server(Some("alice")).await;
    let key = DpopKey::new();
    let (client, pkce, code) = code_for(&dev, "notes:read").await;
    let form = redeem_form(&client, &code, &pkce.verifier);
    let replayed = token_proof(&dev, key).sign();
    let (status, body) = token_with_proof(
        &dev,
        &replayed,
        &[("grant_type", "refresh_token"), ("client_id", &client)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant", "{body}");
    let forged = [
        (
            "wrong method",
            token_proof(&dev, key).claim("htm", json!("GET")).sign(),
        ),
        (
            "wrong URL",
            token_proof(&dev, key).claim("htu", json!(RESOURCE)).sign(),
        ),
        ("stale iat", token_proof(&dev, key).issued_in(-3600).sign()),
        (
            "other key",
            token_proof(&dev, key).signed_by(DpopKey::other()).sign(),
        ),
        (
            "alg none",
            token_proof(&dev, key).header("alg", json!("none")).sign(),
        ),
        (
            "HS256",
            token_proof(&dev, key).header("alg", json!("HS256")).sign(),
        ),
        ("no jti", token_proof(&dev, key).without("jti").sign()),
        ("replayed jti", replayed),
        ("not a JWT", "proof".to_owned()),
    ];
    for (what, proof) in forged {
        let (status, body) = token_with_proof(&dev, &proof, &form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
        assert_eq!(body["error"], "invalid_dpop_proof", "{what}: {body}");
        assert!(body.get("access_token").is_none(), "{what}: {body}");
    }
    let (status, body) = token_with_proof(&dev, &token_proof(&dev, key).sign(), &form).await;
    assert_eq!(status, StatusCode::OK, "the code is still usable: {body}");
    assert_eq!(body["token_type"], "DPoP");
}
