//! What unauthenticated and forged requests cost a server declared with `oauth`: no body
//! read beyond a small prefix before the 401, one check per refused token, and a budget of
//! failed checks per peer that valid callers never run into. Real HTTP on 127.0.0.1 with
//! tokens from the test issuer.

// A failed `unwrap` in a helper is a failed test, as in the tests themselves; clippy's
// `allow-unwrap-in-tests` only reaches `#[test]` functions.
#![allow(clippy::unwrap_used)]

mod support;
#[path = "support/vault.rs"]
mod vault;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use support::json_of;
use vault::{start, whoami};

/// A flood of different forged tokens from one peer is refused with 429 once its budget of
/// failed checks is spent, without a signature check, and even when the tokens arrive all
/// at once; each 429 is held a moment, so a client looping on forged tokens slows itself
/// down. A valid token verified before is still served to that very peer, and another peer
/// still gets its ordinary 401.
#[tokio::test]
async fn a_forged_token_flood_is_throttled_without_starving_valid_callers() {
    let served = start(|b| b.failed_token_checks_per_peer(1, 5)).await;
    let valid = served.valid();
    let resp = whoami(&served.url, &valid, "127.0.0.1").await;
    assert_eq!(resp.status(), StatusCode::OK);

    let forged: Vec<_> = (0..30)
        .map(|n| {
            let (url, token) = (served.url.clone(), served.forged(n));
            tokio::spawn(async move {
                let started = Instant::now();
                let resp = whoami(&url, &token, "127.0.0.1").await;
                (started.elapsed(), resp)
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for answer in forged {
        let (took, resp) = answer.await.unwrap();
        let status = resp.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(took >= Duration::from_millis(250), "held: {took:?}");
            let wait: u64 = resp.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=2).contains(&wait), "{wait}");
            assert!(resp.headers().get("www-authenticate").is_none());
            let body = json_of(resp).await;
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("too many failed token checks"),
                "{body}"
            );
        } else {
            assert!(
                resp.headers()["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .contains("invalid_token")
            );
        }
        statuses.push(status);
    }
    let (refused, throttled) = refused_and_throttled(&statuses);
    assert!((5..=7).contains(&refused), "{statuses:?}");
    assert_eq!(refused + throttled, 30);

    let resp = whoami(&served.url, &valid, "127.0.0.1").await;
    assert_eq!(resp.status(), StatusCode::OK, "a cached valid token passes");
    assert_eq!(json_of(resp).await["result"]["content"][0]["text"], "alice");
    let resp = whoami(&served.url, &served.forged(99), "127.0.0.2").await;
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "another peer is checked"
    );
}

/// Forged tokens from many addresses, each within its own budget, spend the server's
/// budget in total: then peers that failed get 429, while a peer that never failed is
/// still checked and a valid token verified before is still served.
#[tokio::test]
async fn a_flood_from_many_addresses_spends_the_budget_in_total() {
    let served = start(|b| b.failed_token_checks_in_total(1, 5)).await;
    let valid = served.valid();
    let resp = whoami(&served.url, &valid, "127.0.0.1").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut statuses = Vec::new();
    for peer in 0..10 {
        let from = format!("127.0.2.{}", peer + 1);
        let resp = whoami(&served.url, &served.forged(peer), &from).await;
        statuses.push(resp.status());
    }
    let again: Vec<_> = (10..30)
        .map(|n| {
            let (url, token) = (served.url.clone(), served.forged(n));
            let from = format!("127.0.2.{}", n % 10 + 1);
            tokio::spawn(async move { whoami(&url, &token, &from).await.status() })
        })
        .collect();
    for status in again {
        statuses.push(status.await.unwrap());
    }
    let (checked, throttled) = refused_and_throttled(&statuses);
    // Each peer's first failure (five of them from the total), then what refills.
    assert!((10..=12).contains(&checked), "{statuses:?}");
    assert_eq!(checked + throttled, 30);
    let resp = whoami(&served.url, &served.forged(99), "127.0.2.200").await;
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "a new peer is checked"
    );
    let resp = whoami(&served.url, &valid, "127.0.2.1").await;
    assert_eq!(resp.status(), StatusCode::OK, "a cached valid token passes");
}

/// How many of `statuses` are 401 (the token was checked) and how many 429.
fn refused_and_throttled(statuses: &[StatusCode]) -> (usize, usize) {
    let count = |status| statuses.iter().filter(|s| **s == status).count();
    (
        count(StatusCode::UNAUTHORIZED),
        count(StatusCode::TOO_MANY_REQUESTS),
    )
}

/// The same refused token is checked once: repeating it costs no introspection.
#[tokio::test]
async fn a_refused_token_is_checked_once() {
    let served = start(|b| b).await;
    for _ in 0..5 {
        let resp = whoami(&served.url, "not-a-token-the-issuer-knows", "127.0.0.3").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(served.issuer.introspections(), 1);
}

/// An unauthenticated request gets its 401 without its body being read: a small body keeps
/// its `id`, a large one gets `id: null`, and a body that never arrives does not delay the
/// answer.
#[tokio::test]
async fn an_unauthenticated_body_is_not_read_beyond_a_prefix() {
    let served = start(|b| b).await;
    let small = json!({"jsonrpc": "2.0", "id": 41, "method": "tools/list"});
    let resp = support::post(&served.url)
        .json(&small)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json_of(resp).await["id"], 41);

    let mut large = small.clone();
    large["params"] = json!({"pad": "x".repeat(3 << 20)});
    let resp = support::post(&served.url)
        .json(&large)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body = json_of(resp).await;
    assert_eq!(body["id"], serde_json::Value::Null, "{body}");

    // Headers that announce 3 MB, and then nothing: the 401 comes at once.
    let addr = served
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_owned();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    socket
        .write_all(
            b"POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
              Accept: application/json, text/event-stream\r\nContent-Length: 3000000\r\n\r\n{\"jsonrpc\"",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let mut head = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(5), socket.read_exact(&mut head))
        .await
        .expect("answered without waiting for the body")
        .unwrap();
    assert_eq!(&head, b"HTTP/1.1 401");
    assert!(started.elapsed() < Duration::from_secs(2));
}
