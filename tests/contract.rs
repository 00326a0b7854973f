//! What the examples expose, pinned: a change to a tool's schema or description shows up
//! as a failing test with a diff, to be reviewed like code.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

/// The `tools/list` answer of `cargo run --example quickstart`, byte for byte: no per-tool
/// `$schema` (2020-12 is MCP's default dialect), no `format: "double"` or `"int64"`.
#[tokio::test]
async fn the_quickstart_tools_list_is_pinned_to_the_byte() {
    let port = support::free_port();
    let mut server = support::ChildGuard::spawn_logged(
        std::process::Command::new(support::example_binary("quickstart"))
            .env("MCP_BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn"),
        "the quickstart example",
        support::log_dir("contract").join("quickstart.log"),
    );
    server.wait_for_port(port, Duration::from_mins(1));
    let url = format!("http://127.0.0.1:{port}/mcp");
    let resp = support::modern(&url, "tools/list", None, json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.bytes().await.unwrap();
    let text = std::str::from_utf8(&body).unwrap();
    assert!(!text.contains("$schema"), "{text}");
    assert!(!text.contains("\"double\""), "{text}");
    assert!(!text.contains("\"int64\""), "{text}");
    support::snapshot::assert_snapshot("quickstart.tools-list.json", &body);
}

/// The README's "Testing a protected server" is `tests/readme_protected.rs`, which runs, from
/// its first `use` on.
#[test]
fn the_readme_shows_the_protected_server_test_that_runs() {
    let root = support::repo_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let test = std::fs::read_to_string(root.join("tests/readme_protected.rs")).unwrap();
    let code = &test[test.find("use mcp_runtime::prelude::*;").unwrap()..];
    let section = &readme[readme
        .find("### Testing a protected server")
        .expect("the README's section")..];
    let block = section
        .split("```rust\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a rust code block in the section");
    assert!(
        block.trim_end() == code.trim_end(),
        "README.md's test differs from tests/readme_protected.rs:\n{}",
        mcp_runtime::contract::diff(code, block)
    );
}

/// `cargo run --example <name> -- --contract` for each example, compared with the contract
/// checked in under `tests/snapshots/`: a changed schema, description, annotation, scope or
/// metadata field fails here with a diff.
#[test]
fn each_example_prints_the_contract_that_is_checked_in() {
    for example in ["quickstart", "oauth", "everything"] {
        let output = std::process::Command::new(support::example_binary(example))
            .arg("--contract")
            // The oauth example names the issuer it would trust; pin the defaults.
            .env_remove("MCP_ISSUER")
            .env_remove("MCP_DEV_AUTH_BIND")
            .env_remove("MCP_BIND")
            .env_remove("MCP_RESOURCE_URL")
            .env("RUST_LOG", "off")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{example} --contract: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let contract: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert!(contract["tools"].as_array().is_some_and(|t| !t.is_empty()));
        support::snapshot::assert_snapshot(&format!("{example}.contract.json"), &output.stdout);
    }
}

/// The quickstart and the conformance fixture print one line per answered request without
/// any `RUST_LOG`, naming the method, the tool, the outcome and the duration.
#[tokio::test]
async fn the_examples_log_each_request_by_default() {
    for example in ["quickstart", "everything"] {
        let port = support::free_port();
        let log = support::log_dir("contract").join(format!("{example}-requests.log"));
        let mut server = support::ChildGuard::spawn_logged(
            std::process::Command::new(support::example_binary(example))
                .env("MCP_BIND", format!("127.0.0.1:{port}"))
                .env_remove("RUST_LOG")
                .env_remove("MCP_REDIS_URL"),
            example,
            log,
        );
        server.wait_for_port(port, Duration::from_mins(1));
        let url = format!("http://127.0.0.1:{port}/mcp");
        let tool = if example == "quickstart" {
            "add"
        } else {
            "test_simple_text"
        };
        let args = if example == "quickstart" {
            json!({"a": 2, "b": 3})
        } else {
            json!({})
        };
        let resp = support::modern(
            &url,
            "tools/call",
            Some(tool),
            json!({"name": tool, "arguments": args}),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let missing = support::modern(
            &url,
            "tools/call",
            Some("nope"),
            json!({"name": "nope", "arguments": {}}),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(missing.status(), StatusCode::OK);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let text = loop {
            let text = server.log_text();
            if text.matches("answered").count() >= 2 || std::time::Instant::now() > deadline {
                break text;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let line = |name: &str| {
            text.lines()
                .find(|l| l.contains("answered") && l.contains(&format!("name=\"{name}\"")))
                .unwrap_or_else(|| panic!("{example}: no request line for `{name}` in:\n{text}"))
                .to_owned()
        };
        let ok = line(tool);
        assert!(ok.contains("INFO"), "{ok}");
        assert!(ok.contains("method=\"tools/call\""), "{ok}");
        assert!(ok.contains("outcome=\"ok\""), "{ok}");
        assert!(ok.contains(" ms="), "{ok}");
        let failed = line("nope");
        assert!(failed.contains("outcome=\"-32602\""), "{failed}");
    }
}

/// Every tool schema of the examples compiles without an error or a warning in the
/// validators clients run: the official TypeScript SDK's (which compiles each
/// `outputSchema` on `tools/list`), Ajv 2020-12 as the MCP Inspector 2.x sets it up, and
/// strict Ajv on output schemas as the Inspector 1.x does. Integer widths are bounds, not
/// formats, and optional values are `type: [T, "null"]`, which all of them accept.
#[test]
fn every_schema_compiles_cleanly_in_the_validators_clients_run() {
    support::install_tools();
    let run = |files: &[std::path::PathBuf]| -> serde_json::Value {
        let output = std::process::Command::new(support::node())
            .arg(support::e2e_script("schema_validators.mjs"))
            .args(files)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "schema_validators.mjs: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let snapshots = support::repo_root().join("tests/snapshots");
    let contracts: Vec<_> = ["quickstart", "oauth", "everything"]
        .iter()
        .map(|name| snapshots.join(format!("{name}.contract.json")))
        .collect();
    let report = run(&contracts);
    assert!(report["checked"].as_u64().unwrap() >= 40, "{report}");
    let problems = report["problems"].as_array().unwrap();
    assert!(problems.is_empty(), "{problems:#?}");

    // What the check catches: schemars' own `format: "uint32"`, in the SDK and in Ajv 2020,
    // while `type: ["string", "null"]` beside it passes everywhere.
    let dir = support::log_dir("contract-validators");
    let probe = dir.join("probe.contract.json");
    let schema = json!({
        "type": "object",
        "properties": {
            "count": {"type": "integer", "format": "uint32", "minimum": 0},
            "note": {"type": ["string", "null"]}
        }
    });
    let contract =
        json!({"tools": [{"name": "probe", "inputSchema": schema, "outputSchema": schema}]});
    std::fs::write(&probe, contract.to_string()).unwrap();
    let report = run(&[probe]);
    let problems = report["problems"].as_array().unwrap();
    for validator in ["sdk", "ajv2020"] {
        assert!(
            problems.iter().any(|p| p["validator"] == validator
                && p["message"]
                    .as_str()
                    .unwrap()
                    .contains("unknown format \"uint32\"")),
            "{validator}: {report}"
        );
    }
    assert!(
        problems
            .iter()
            .all(|p| p["message"].as_str().unwrap().contains("uint32")),
        "{report}"
    );
}

mod declared {
    use mcp_runtime::prelude::*;

    /// A protected server with a per-tool scope, a resource and a prompt.
    pub(super) struct Files;

    #[mcp_server(oauth(scopes = ["files:read", "files:write"], required = ["files:read"]))]
    impl Files {
        /// Writes a file.
        #[tool(scopes = ["files:write"], destructive)]
        async fn write(&self, path: String, text: String) -> String {
            format!("{path}: {} bytes", text.len())
        }

        /// Reads a file.
        #[tool(read_only)]
        async fn read(&self, path: String) -> String {
            path
        }

        /// The index of every file.
        #[resource(uri = "files://index", mime_type = "text/plain")]
        async fn index(&self) -> String {
            String::new()
        }

        /// Asks for a summary of a file.
        #[prompt]
        async fn summarise(&self, path: String) -> String {
            format!("Summarise {path}")
        }
    }

    /// The same server without `oauth`.
    pub(super) struct Open;

    #[mcp_server]
    impl Open {
        /// Reads a file.
        #[tool]
        async fn read(&self, path: String) -> String {
            path
        }
    }
}

/// Each operation lists the scopes it needs (the server's required ones and its own), and
/// the metadata is what the configuration serves at its well-known URL, whether taken from
/// the builder (no authorization server reached) or from the built configuration.
#[tokio::test]
async fn a_protected_contract_names_each_operations_scopes_and_the_metadata_served() {
    use mcp_runtime::prelude::*;
    let issuer = mcp_runtime::testing::TestIssuer::start().await.unwrap();
    let builder = || {
        OAuthConfig::builder()
            // Written as `build()` would serve it: scheme and host lowercased.
            .resource("HTTPS://Files.Example.COM/mcp")
            .authorization_server(issuer.url())
            .resource_name("Files")
    };
    let contract = declared::Files::contract(&builder());
    let json = contract.as_json();
    let tools = json["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["read", "write"], "sorted by name");
    assert_eq!(tools[0]["scopes"], serde_json::json!(["files:read"]));
    assert_eq!(
        tools[1]["scopes"],
        serde_json::json!(["files:read", "files:write"])
    );
    assert_eq!(tools[1]["annotations"]["destructiveHint"], true);
    assert_eq!(json["resources"][0]["uri"], "files://index");
    assert_eq!(
        json["resources"][0]["scopes"],
        serde_json::json!(["files:read"])
    );
    assert_eq!(json["prompts"][0]["name"], "summarise");
    assert_eq!(
        json["oauth"]["requiredScopes"],
        serde_json::json!(["files:read"])
    );
    assert_eq!(
        json["oauth"]["scopes"],
        serde_json::json!(["files:read", "files:write"])
    );
    let metadata = &json["oauth"]["protectedResourceMetadata"];
    assert_eq!(metadata["resource"], "https://files.example.com/mcp");
    assert_eq!(metadata["resource_name"], "Files");
    assert_eq!(
        metadata["authorization_servers"],
        serde_json::json!([issuer.url()])
    );

    // The built configuration gives the same contract, and serves that metadata.
    let config = builder().build().await.unwrap();
    assert_eq!(declared::Files::contract(&config), contract);
    let url = support::spawn(declared::Files.router(config)).await;
    let origin = url.trim_end_matches("/mcp");
    let resp = reqwest::get(format!("{origin}/.well-known/oauth-protected-resource/mcp"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(&support::json_of(resp).await, metadata);

    // Keys are sorted at every depth, so the text is stable.
    let text = contract.to_string();
    let server = text.find("\"server\"").unwrap();
    assert!(text.find("\"oauth\"").unwrap() < server, "{text}");
    assert!(text.ends_with("}\n"));
}

/// A server without `oauth` has no scopes and no metadata in its contract.
#[test]
fn an_open_contract_has_no_oauth_part() {
    use mcp_runtime::prelude::*;
    let contract = declared::Open::contract(&HttpConfig::new());
    assert!(contract.as_json().get("oauth").is_none());
    assert!(contract.as_json()["tools"][0].get("scopes").is_none());
    assert_eq!(contract.as_json()["server"]["stateless"], false);
}

/// `assert_unchanged` passes on the file it would write, and fails with a diff that names
/// the change, or with the whole contract when the file is missing.
#[test]
fn assert_unchanged_fails_with_a_diff() {
    use mcp_runtime::prelude::*;
    let dir = support::log_dir("contract-assert");
    let path = dir.join("open.contract.json");
    let contract = declared::Open::contract(&HttpConfig::new());
    std::fs::write(&path, contract.to_string()).unwrap();
    contract.assert_unchanged(&path);

    let changed = contract
        .to_string()
        .replace("Reads a file.", "Reads a file!");
    std::fs::write(&path, changed).unwrap();
    let message = panic_message(|| contract.assert_unchanged(&path));
    assert!(message.contains("MCP_UPDATE_SNAPSHOTS=1"), "{message}");
    assert!(
        message.contains("-        \"description\": \"Reads a file!\","),
        "{message}"
    );
    assert!(
        message.contains("+        \"description\": \"Reads a file.\","),
        "{message}"
    );
    assert!(
        !message.contains("\"name\": \"open\""),
        "only context near the change: {message}"
    );

    std::fs::remove_file(&path).unwrap();
    let message = panic_message(|| contract.assert_unchanged(&path));
    assert!(message.contains("cannot be read"), "{message}");
    assert!(message.contains(&contract.to_string()), "{message}");
}

fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).expect_err("the assertion fails");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

/// docs.rs documents every feature, each item marked with the features it needs, and the
/// crate page is the guide in `mcp-runtime/README.md`, whose examples run as doc tests.
#[test]
fn docs_rs_builds_every_feature_with_its_badges() {
    let root = support::repo_root();
    let manifest = std::fs::read_to_string(root.join("mcp-runtime/Cargo.toml")).unwrap();
    let section = manifest
        .split("[package.metadata.docs.rs]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("a [package.metadata.docs.rs] section");
    let lines: Vec<&str> = section.lines().map(str::trim).collect();
    assert!(lines.contains(&"all-features = true"), "{section}");
    assert!(
        lines.contains(&r#"rustdoc-args = ["--cfg", "docsrs"]"#),
        "{section}"
    );
    let lib = std::fs::read_to_string(root.join("mcp-runtime/src/lib.rs")).unwrap();
    assert!(lib.contains("#![cfg_attr(docsrs, feature(doc_cfg))]"));
    assert!(lib.contains(r#"#![doc = include_str!("../README.md")]"#));
    let guide = std::fs::read_to_string(root.join("mcp-runtime/README.md")).unwrap();
    for section in [
        "## `#[tool]` options",
        "## Protecting a server with OAuth 2.1",
        "## Stateless servers",
        "## Serving in production",
        "## Telemetry",
        "## What a server exposes, checked in",
        "## Features",
    ] {
        assert!(guide.contains(section), "the crate guide lacks {section}");
    }
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.contains("https://docs.rs/mcp-runtime"),
        "the README links the guide"
    );
}

/// The scope-challenge fixture as the conformance suite's SEP-2350 scenario drives it: with
/// `mcp-conformance-scope-low` every operation is refused with 403 and one challenge naming
/// all the scopes it needs, with `mcp-conformance-scope-full` each is served, and without a
/// token the answer is 401.
#[tokio::test]
async fn the_scope_challenge_fixture_meets_the_suites_contract() {
    let port = support::free_port();
    let mut server = support::ChildGuard::spawn_logged(
        std::process::Command::new(support::example_binary("scope_challenge"))
            .env("MCP_BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn"),
        "the scope-challenge fixture",
        support::log_dir("contract").join("scope-challenge.log"),
    );
    server.wait_for_port(port, Duration::from_mins(1));
    let url = format!("http://127.0.0.1:{port}/mcp");
    let operations = [
        (
            "tools/call",
            "test_simple_text",
            json!({"name": "test_simple_text", "arguments": {}}),
            [
                "mcp:conformance:tools:call",
                "mcp:conformance:tools:test_simple_text",
            ],
        ),
        (
            "resources/read",
            "test://static-text",
            json!({"uri": "test://static-text"}),
            [
                "mcp:conformance:resources:read",
                "mcp:conformance:resources:static",
            ],
        ),
        (
            "resources/read",
            "test://template/123/data",
            json!({"uri": "test://template/123/data"}),
            [
                "mcp:conformance:resources:read",
                "mcp:conformance:resources:template:123",
            ],
        ),
        (
            "prompts/get",
            "test_simple_prompt",
            json!({"name": "test_simple_prompt"}),
            [
                "mcp:conformance:prompts:get",
                "mcp:conformance:prompts:test_simple_prompt",
            ],
        ),
    ];
    for (method, name, params, needed) in operations {
        let send = |token: Option<&'static str>| {
            let request = support::modern(&url, method, Some(name), params.clone());
            match token {
                Some(token) => request.bearer_auth(token),
                None => request,
            }
            .send()
        };
        let low = send(Some("mcp-conformance-scope-low")).await.unwrap();
        assert_eq!(low.status(), StatusCode::FORBIDDEN, "{name}");
        let challenge = low.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            challenge.starts_with("Bearer error=\"insufficient_scope\""),
            "{challenge}"
        );
        assert!(challenge.contains("resource_metadata=\""), "{challenge}");
        let scope = challenge
            .split("scope=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        for needed in needed {
            assert!(
                scope.split(' ').any(|s| s == needed),
                "{name}: {needed} not in {scope}"
            );
        }
        let full = send(Some("mcp-conformance-scope-full")).await.unwrap();
        assert_eq!(full.status(), StatusCode::OK, "{name}");
        let body: serde_json::Value = full.json().await.unwrap();
        assert!(body.get("result").is_some(), "{name}: {body}");
        let anonymous = send(None).await.unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{name}");
    }
}
