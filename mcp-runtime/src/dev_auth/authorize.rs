//! The authorization endpoint: a request is checked, then a person signs in and consents
//! on a plain HTML page (or the configured user does at once), and the client gets a code
//! at its redirect URI.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::token::Request;
use super::{Dev, Params, lock, scope_list};

/// Why an authorization request is refused: on a page of ours when the redirect URI
/// cannot be trusted, else back at the client's redirect URI.
enum Refused {
    Page(String),
    Redirect(String),
}

/// `GET /authorize`.
pub(super) async fn ask(State(dev): State<Arc<Dev>>, RawQuery(query): RawQuery) -> Response {
    let params = match super::params(query.unwrap_or_default().as_bytes()) {
        Ok(params) => params,
        Err(why) => return error_page(&format!("invalid_request: {why}")),
    };
    let request = match dev.check(&params).await {
        Ok(request) => request,
        Err(Refused::Page(why)) => return error_page(&why),
        Err(Refused::Redirect(to)) => return see_other(&to),
    };
    if let Some(username) = dev.auto_login.clone() {
        return see_other(&dev.approve(&request, &username));
    }
    let name = dev.client_name(&request).await;
    let id = lock(&dev.grants).pend(request.clone());
    sign_in_page(StatusCode::OK, &name, &request, &id, None)
}

/// How many wrong passwords one sign-in page takes before it is dropped.
const ATTEMPTS: u8 = 5;

/// `POST /authorize`: the sign-in and consent form, from this server's own page only.
pub(super) async fn answer(
    State(dev): State<Arc<Dev>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    // A form another site's page posts (the browser names that site, or `null`) is
    // refused; this server's page sends its origin (`Referrer-Policy: same-origin`).
    if headers
        .get(header::ORIGIN)
        .is_some_and(|origin| origin.as_bytes() != dev.issuer.as_bytes())
    {
        return html(
            StatusCode::FORBIDDEN,
            "<h1>Refused</h1><p class=\"error\">This form is only accepted from this server's own page.</p>",
        );
    }
    let form = super::params(&body).unwrap_or_default();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let id = field("request");
    let Some(request) = lock(&dev.grants).pending(id) else {
        return error_page("this sign-in is unknown or expired; start again from the application");
    };
    if field("decision") == "deny" {
        if lock(&dev.grants).take_pending(id).is_none() {
            return error_page("this sign-in was answered already");
        }
        return see_other(&back(
            &dev,
            &request,
            &[
                ("error", "access_denied"),
                ("error_description", "the user declined"),
            ],
        ));
    }
    let signed_in = dev.user(field("username")).is_some_and(|user| {
        constant_time_eq(user.password.as_bytes(), field("password").as_bytes())
    });
    if !signed_in {
        if !lock(&dev.grants).failed_attempt(id, ATTEMPTS) {
            return error_page("too many wrong passwords; start again from the application");
        }
        let name = dev.client_name(&request).await;
        return sign_in_page(
            StatusCode::UNAUTHORIZED,
            &name,
            &request,
            id,
            Some("Wrong username or password."),
        );
    }
    // Taken once: two answers to one page give one code.
    if lock(&dev.grants).take_pending(id).is_none() {
        return error_page("this sign-in was answered already");
    }
    see_other(&dev.approve(&request, field("username")))
}

impl Dev {
    /// The name a client gave itself, or its id.
    async fn client_name(&self, request: &Request) -> String {
        self.client(&request.client_id)
            .await
            .ok()
            .and_then(|c| c.name)
            .unwrap_or_else(|| request.client_id.clone())
    }

    /// Checks an authorization request in the order RFC 6749 (section 4.1.2.1) sets: the
    /// client and its redirect URI first, since errors go back to that URI only once it
    /// is known to be the client's.
    async fn check(&self, params: &Params) -> Result<Request, Refused> {
        let get = |name: &str| {
            params
                .get(name)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
        };
        let client_id = get("client_id").ok_or_else(|| {
            Refused::Page("invalid_request: the request names no `client_id`".into())
        })?;
        let client = self
            .client(client_id)
            .await
            .map_err(|e| Refused::Page(format!("invalid_client: {}", e.0)))?;
        let redirect_uri = get("redirect_uri").ok_or_else(|| {
            Refused::Page("invalid_request: the request names no `redirect_uri`".into())
        })?;
        if !client.redirects_to(redirect_uri) {
            return Err(Refused::Page(format!(
                "invalid_request: `{redirect_uri}` is not a redirect URI of this client"
            )));
        }
        // Signing in without a page hands codes to whoever asks: only to this machine.
        if self.auto_login.is_some()
            && url::Url::parse(redirect_uri).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https") && !super::clients::is_loopback(&u)
            })
        {
            return Err(Refused::Page(
                "invalid_request: with auto-login, codes go to loopback redirect URIs only".into(),
            ));
        }
        let mut request = Request {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            challenge: String::new(),
            scopes: Vec::new(),
            resource: None,
            state: get("state").map(str::to_owned),
        };
        let refuse = |error: &str, description: &str| {
            Refused::Redirect(back(
                self,
                &request,
                &[("error", error), ("error_description", description)],
            ))
        };
        if get("response_type") != Some("code") {
            return Err(refuse(
                "unsupported_response_type",
                "only `code` is supported",
            ));
        }
        let challenge = get("code_challenge").filter(|c| (43..=128).contains(&c.len()));
        if get("code_challenge_method") != Some("S256") || challenge.is_none() {
            return Err(refuse(
                "invalid_request",
                "PKCE is required, with `code_challenge_method=S256`",
            ));
        }
        let scopes = scope_list(get("scope"));
        if let Some(unknown) = scopes
            .iter()
            .find(|s| !self.scopes.contains(s) && *s != super::token::OFFLINE_ACCESS)
        {
            return Err(refuse(
                "invalid_scope",
                &format!("this server has no scope `{unknown}`"),
            ));
        }
        let resource = get("resource");
        if resource.is_some_and(|r| !super::token::is_resource(r)) {
            return Err(refuse(
                "invalid_target",
                "`resource` must be an absolute http(s) URL without a fragment",
            ));
        }
        challenge
            .unwrap_or_default()
            .clone_into(&mut request.challenge);
        request.scopes = scopes;
        request.resource = resource.map(str::to_owned);
        Ok(request)
    }

    /// A code for `username`'s consent to `request`: the redirect that carries it.
    fn approve(&self, request: &Request, username: &str) -> String {
        let code = lock(&self.grants).code(request.clone(), username);
        back(self, request, &[("code", &code)])
    }
}

/// The client's redirect URI with `pairs`, its `state` and our `iss` (RFC 9207).
fn back(dev: &Dev, request: &Request, pairs: &[(&str, &str)]) -> String {
    let Ok(mut url) = url::Url::parse(&request.redirect_uri) else {
        return request.redirect_uri.clone();
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
        if let Some(state) = &request.state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", &dev.issuer);
    }
    url.into()
}

fn see_other(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => error_page("the redirect URI cannot be sent back"),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// `&`, `<`, `>`, `"` and `'` as entities.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html(status: StatusCode, body: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sign in: development authorization server</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#222}}\
         .dev{{background:#fff3cd;border:1px solid #e0c36c;padding:.5rem .75rem;border-radius:4px;font-size:.9rem}}\
         label{{display:block;margin:.75rem 0 .25rem}}input{{width:100%;padding:.45rem;box-sizing:border-box}}\
         .error{{color:#a40000}}button{{margin:1rem .5rem 0 0;padding:.5rem 1.2rem}}\
         </style></head><body><p class=\"dev\">Development authorization server: not for production.</p>\
         {body}</body></html>"
    );
    let mut response = (status, page).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    response
}

fn error_page(why: &str) -> Response {
    html(
        StatusCode::BAD_REQUEST,
        &format!(
            "<h1>This request cannot be authorized</h1><p class=\"error\">{}</p>",
            escape(why)
        ),
    )
}

fn sign_in_page(
    status: StatusCode,
    client: &str,
    request: &Request,
    id: &str,
    error: Option<&str>,
) -> Response {
    let back_to = url::Url::parse(&request.redirect_uri).map_or_else(
        |_| request.redirect_uri.clone(),
        |u| u.origin().ascii_serialization(),
    );
    let mut body = format!(
        "<h1>Sign in</h1><p><strong>{}</strong> (which names itself so, and will get the \
         answer at <code>{}</code>) asks for access",
        escape(client),
        escape(&back_to)
    );
    if let Some(resource) = &request.resource {
        let _ = write!(body, " to <code>{}</code>", escape(resource));
    }
    body.push_str(".</p>");
    if !request.scopes.is_empty() {
        body.push_str("<p>Scopes:</p><ul>");
        for scope in &request.scopes {
            let _ = write!(body, "<li><code>{}</code></li>", escape(scope));
        }
        body.push_str("</ul>");
    }
    if let Some(error) = error {
        let _ = write!(
            body,
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape(error)
        );
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/authorize\">\
         <input type=\"hidden\" name=\"request\" value=\"{}\">\
         <label for=\"username\">Username</label>\
         <input id=\"username\" name=\"username\" autocomplete=\"username\" required autofocus>\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\">\
         <button type=\"submit\" name=\"decision\" value=\"allow\">Sign in and allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\" formnovalidate>Deny</button>\
         </form>",
        escape(id)
    );
    html(status, &body)
}
