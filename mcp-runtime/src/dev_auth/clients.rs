//! Who may ask for tokens: clients registered dynamically (RFC 7591), clients named by the
//! URL of their metadata document (client ID metadata documents), and the confidential
//! clients the server was configured with.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Dev, lock, random_token};

/// A client the server knows.
#[derive(Clone, Debug)]
pub(super) struct Client {
    pub(super) id: String,
    /// `None` for a public client.
    pub(super) secret: Option<String>,
    pub(super) redirect_uris: Vec<String>,
    pub(super) name: Option<String>,
    /// Given to the builder, not registered: the only clients that may exchange tokens.
    pub(super) configured: bool,
}

impl Client {
    /// Whether `uri` is one of the client's redirect URIs. A loopback `http` URI matches
    /// on any port (OAuth 2.1, section 8.4.2): a native app listens where it can.
    pub(super) fn redirects_to(&self, uri: &str) -> bool {
        let Ok(asked) = url::Url::parse(uri) else {
            return false;
        };
        self.redirect_uris.iter().any(|registered| {
            if registered == uri {
                return true;
            }
            let Ok(mut registered) = url::Url::parse(registered) else {
                return false;
            };
            if asked.scheme() != "http" || !is_loopback(&asked) {
                return false;
            }
            let _ = registered.set_port(asked.port());
            registered == asked
        })
    }
}

/// The clients, as many as [`MAX_CLIENTS`] registered, and the metadata documents read
/// lately.
#[derive(Default)]
pub(super) struct Clients {
    /// The clients the server was configured with: never let go.
    configured: HashMap<String, Client>,
    registered: HashMap<String, Client>,
    documents: HashMap<String, (Client, Instant)>,
}

/// Registrations kept at most; past it, an arbitrary one makes room for each new one.
const MAX_CLIENTS: usize = 10_000;
/// How long a client ID metadata document is used before it is read again.
const DOCUMENT_FOR: Duration = Duration::from_mins(1);
/// The largest client ID metadata document read.
const MAX_DOCUMENT: usize = 5 * 1024;

impl Clients {
    pub(super) fn configure(&mut self, client: Client) {
        self.configured.insert(client.id.clone(), client);
    }

    pub(super) fn add(&mut self, client: Client) {
        if self.registered.len() >= MAX_CLIENTS
            && let Some(oldest) = self.registered.keys().next().cloned()
        {
            self.registered.remove(&oldest);
        }
        self.registered.insert(client.id.clone(), client);
    }
}

/// Why a client cannot be used.
#[derive(Debug)]
pub(super) struct UnknownClient(pub(super) String);

impl Dev {
    /// The client `id` names: registered, configured, or the metadata document at that
    /// URL.
    pub(super) async fn client(&self, id: &str) -> Result<Client, UnknownClient> {
        {
            let clients = lock(&self.clients);
            if let Some(client) = clients
                .configured
                .get(id)
                .or_else(|| clients.registered.get(id))
            {
                return Ok(client.clone());
            }
            if let Some((client, read)) = clients.documents.get(id)
                && read.elapsed() < DOCUMENT_FOR
            {
                return Ok(client.clone());
            }
        }
        if !looks_like_document_url(id) {
            return Err(UnknownClient(format!("no client `{id}` is registered")));
        }
        let client = self.read_document(id).await?;
        let mut clients = lock(&self.clients);
        if clients.documents.len() >= MAX_CLIENTS {
            clients.documents.clear();
        }
        clients
            .documents
            .insert(id.to_owned(), (client.clone(), Instant::now()));
        Ok(client)
    }

    /// Reads and checks the client ID metadata document at `url`.
    async fn read_document(&self, url: &str) -> Result<Client, UnknownClient> {
        let refused = |why: String| UnknownClient(format!("the client metadata at {url} {why}"));
        let mut response = self
            .fetch
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| refused(format!("cannot be read: {e}")))?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(refused(format!("answered {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| refused(format!("cannot be read: {e}")))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_DOCUMENT {
                return Err(refused(format!("is larger than {MAX_DOCUMENT} bytes")));
            }
        }
        let document: Value =
            serde_json::from_slice(&body).map_err(|e| refused(format!("is not JSON: {e}")))?;
        if document.get("client_id").and_then(Value::as_str) != Some(url) {
            return Err(refused("names another `client_id`".into()));
        }
        let method = document
            .get("token_endpoint_auth_method")
            .and_then(Value::as_str)
            .unwrap_or("none");
        if method != "none" || document.get("client_secret").is_some() {
            return Err(refused(
                "declares a client secret; only public clients are named by URL here".into(),
            ));
        }
        let redirect_uris = redirect_uris(&document).map_err(|e| refused(e.to_owned()))?;
        Ok(Client {
            id: url.to_owned(),
            secret: None,
            redirect_uris,
            configured: false,
            name: document
                .get("client_name")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }
}

/// An `https` URL with a path, or a loopback `http` one: what a client ID metadata
/// document's URL may be.
fn looks_like_document_url(id: &str) -> bool {
    let Ok(url) = url::Url::parse(id) else {
        return false;
    };
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url));
    scheme_ok
        && url.path() != "/"
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
}

pub(super) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    }
}

/// The `redirect_uris` of client metadata: absolute, without a fragment, and not plain
/// `http` except to loopback.
fn redirect_uris(metadata: &Value) -> Result<Vec<String>, &'static str> {
    let uris = metadata
        .get("redirect_uris")
        .and_then(Value::as_array)
        .filter(|uris| !uris.is_empty() && uris.len() <= 20)
        .ok_or("has no `redirect_uris` (an array of one to twenty URLs)")?;
    uris.iter()
        .map(|uri| {
            let text = uri
                .as_str()
                .filter(|t| t.len() <= super::MAX_PARAM)
                .ok_or("has a redirect URI that is not a string of at most 2048 bytes")?;
            let url = url::Url::parse(text).map_err(|_| "has a redirect URI that is not a URL")?;
            if url.fragment().is_some() {
                return Err("has a redirect URI with a fragment");
            }
            if matches!(url.scheme(), "javascript" | "data" | "file")
                || (url.scheme() == "http" && !is_loopback(&url))
            {
                return Err("has a redirect URI that is neither https, loopback http nor an app's own scheme");
            }
            Ok(text.to_owned())
        })
        .collect()
}

/// `POST /register` (RFC 7591): a new client, public unless it asks for a secret.
pub(super) async fn register(
    State(dev): State<std::sync::Arc<Dev>>,
    body: axum::body::Bytes,
) -> Response {
    let refuse = |error: &str, description: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": error, "error_description": description})),
        )
            .into_response()
    };
    let Ok(metadata) = serde_json::from_slice::<Value>(&body) else {
        return refuse("invalid_client_metadata", "the body is not a JSON object");
    };
    if !metadata.is_object() {
        return refuse("invalid_client_metadata", "the body is not a JSON object");
    }
    let redirect_uris = match redirect_uris(&metadata) {
        Ok(uris) => uris,
        Err(why) => return refuse("invalid_redirect_uri", &format!("the request {why}")),
    };
    let method = metadata
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
        .unwrap_or("client_secret_basic");
    if !matches!(
        method,
        "none" | "client_secret_basic" | "client_secret_post"
    ) {
        return refuse(
            "invalid_client_metadata",
            "token_endpoint_auth_method must be none, client_secret_basic or client_secret_post",
        );
    }
    let name = metadata
        .get("client_name")
        .and_then(Value::as_str)
        .map(|n| n.chars().take(200).collect::<String>());
    let client = Client {
        id: format!("dev-client-{}", random_token()),
        secret: (method != "none").then(random_token),
        redirect_uris,
        name,
        configured: false,
    };
    let mut answer = json!({
        "client_id": client.id,
        "client_id_issued_at": super::unix_now(),
        "redirect_uris": client.redirect_uris,
        "token_endpoint_auth_method": method,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
    });
    if let Some(secret) = &client.secret {
        answer["client_secret"] = secret.clone().into();
        answer["client_secret_expires_at"] = 0.into();
    }
    if let Some(name) = &client.name {
        answer["client_name"] = name.clone().into();
    }
    lock(&dev.clients).add(client);
    (StatusCode::CREATED, Json(answer)).into_response()
}
