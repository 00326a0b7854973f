//! Resources, resource templates, prompts, completions, capabilities, caching hints,
//! pagination and icons over real HTTP on 127.0.0.1, in both protocol eras.

// A failed `unwrap` in a helper is a failed test, as in the tests themselves; clippy's
// `allow-unwrap-in-tests` only reaches `#[test]` functions.
#![allow(clippy::unwrap_used)]

mod support;

use base64::Engine as _;
use mcp_runtime::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use support::{MODERN, Session, json_of, post, spawn};

const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 3];

struct Everything;

#[mcp_server(name = "everything", version = "0.0.1")]
impl Everything {
    /// A static text resource.
    #[resource(uri = "test://static-text", mime_type = "text/plain")]
    fn static_text(&self) -> String {
        "This is the content of the static text resource.".into()
    }

    /// A static binary resource.
    #[resource(
        uri = "test://static-binary",
        name = "static_binary",
        title = "Static binary",
        mime_type = "image/png"
    )]
    async fn binary(&self) -> Blob {
        Blob(PNG.to_vec())
    }

    /// A resource clients subscribe to.
    #[resource(uri = "test://watched-resource", mime_type = "text/plain")]
    fn watched(&self) -> String {
        "watched".into()
    }

    /// A resource that fails.
    #[resource(uri = "test://broken")]
    fn broken(&self) -> Result<String, std::io::Error> {
        Err(std::io::Error::other("secret: password=hunter2"))
    }

    /// A resource that panics.
    #[resource(uri = "test://panics")]
    fn panics(&self) -> String {
        panic!("secret internal state")
    }

    /// Data for one id.
    #[resource(
        uri_template = "test://template/{id}/data",
        mime_type = "application/json"
    )]
    fn template_data(&self, id: String) -> String {
        json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")}).to_string()
    }

    /// Items that exist only for some ids.
    #[resource(
        uri_template = "test://items/{id}",
        description = "An item, if it exists"
    )]
    fn item(
        &self,
        ctx: RequestContext,
        id: String,
    ) -> Result<Vec<ResourceContents>, ResourceError> {
        if id == "missing" {
            return Err(ResourceError::NotFound);
        }
        Ok(vec![
            ResourceContents::text(format!("test://items/{id}"), id.clone()),
            ResourceContents::text("test://items/version", ctx.protocol_version())
                .with_mime_type("text/x-version"),
        ])
    }

    /// A simple prompt without arguments.
    #[prompt]
    fn test_simple_prompt(&self) -> String {
        "This is a simple prompt for testing.".into()
    }

    /// A prompt with two required arguments.
    #[prompt(title = "With arguments")]
    fn test_prompt_with_arguments(
        &self,
        #[arg(description = "First test argument")] arg1: String,
        #[arg(description = "Second test argument")] arg2: String,
        style: Option<String>,
    ) -> Vec<PromptMessage> {
        vec![PromptMessage::user(format!(
            "Prompt with arguments: arg1='{arg1}', arg2='{arg2}', style={style:?}"
        ))]
    }

    /// A prompt with an embedded resource.
    #[prompt]
    async fn test_prompt_with_embedded_resource(
        &self,
        #[arg(description = "The URI to embed")] resource_uri: String,
    ) -> GetPromptResult {
        GetPromptResult::new(vec![
            PromptMessage::user(
                ResourceContents::text(resource_uri, "Embedded resource content for testing.")
                    .with_mime_type("text/plain"),
            ),
            PromptMessage::user("Please process the embedded resource above."),
        ])
        .with_description("embeds a resource")
    }

    /// A prompt with an image.
    #[prompt(name = "test_prompt_with_image")]
    fn image_prompt(&self) -> Vec<PromptMessage> {
        vec![
            PromptMessage::user(Content::image(PNG, "image/png")),
            PromptMessage::user("Please analyze the image above."),
        ]
    }

    /// A prompt that refuses its argument.
    #[prompt]
    fn picky(&self, colour: String) -> Result<PromptMessage, PromptError> {
        if colour == "red" {
            Ok(PromptMessage::assistant("red it is"))
        } else if colour == "boom" {
            Err(PromptError::internal("secret: the database is down"))
        } else {
            Err(PromptError::invalid_argument("only `red` will do"))
        }
    }

    #[completion(prompt = "test_prompt_with_arguments", argument = "arg1")]
    fn complete_arg1(&self, value: String, context: CompletionContext) -> Vec<String> {
        let suffix = context.argument("arg2").unwrap_or_default().to_owned();
        ["paris", "patagonia", "lima"]
            .iter()
            .filter(|v| v.starts_with(&value))
            .map(|v| format!("{v}{suffix}"))
            .collect()
    }

    #[completion(resource = "test://template/{id}/data", argument = "id")]
    async fn complete_id(&self, value: String) -> Result<Completion, std::io::Error> {
        Ok(Completion::new(
            (0..150).map(|i| format!("{value}{i}")).collect(),
        ))
    }

    /// A tool beside the rest.
    #[tool]
    fn echo(&self, text: String) -> String {
        text
    }
}

struct OnlyTools;

#[mcp_server(stateless)]
impl OnlyTools {
    /// Says hello.
    #[tool]
    fn hello(&self) -> String {
        "hello".into()
    }
}

struct OnlyTemplates;

#[mcp_server(stateless)]
impl OnlyTemplates {
    /// A file.
    #[resource(uri_template = "files:///{name}")]
    fn file(&self, name: String) -> String {
        name
    }
}

struct Private;

#[mcp_server(name = "everything", oauth(scopes = ["docs:read"]))]
impl Private {
    /// The caller's own page.
    #[resource(uri = "docs://me")]
    fn me(&self, caller: Auth) -> String {
        caller.subject().into()
    }

    /// Greets the caller.
    #[prompt]
    fn hello(&self, caller: Auth) -> String {
        format!("Say hello to {}.", caller.subject())
    }
}

/// A 1×1 PNG as a `data:` URI.
const DOT: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

struct Iconic;

#[mcp_server(
    name = "iconic",
    icon = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==",
    icon(src = "https://example.com/logo-dark.svg", mime_type = "image/svg+xml", sizes = ["any"], theme = "dark")
)]
impl Iconic {
    /// Adds.
    #[tool(icon(src = "https://example.com/add.png", sizes = ["48x48", "96x96"]), read_only)]
    fn add(&self, a: i64, b: i64) -> String {
        (a + b).to_string()
    }

    /// No icon.
    #[tool]
    fn plain(&self) -> String {
        String::new()
    }

    /// The readme.
    #[resource(uri = "docs://readme", icon = "https://example.com/readme.webp")]
    fn readme(&self) -> String {
        String::new()
    }

    /// One page.
    #[resource(
        uri_template = "docs://pages/{page}",
        icon(src = "https://example.com/page.png", theme = "light"),
        icon(src = "https://example.com/page-dark.png", theme = "dark")
    )]
    fn page(&self, page: String) -> String {
        page
    }

    /// Summarizes.
    #[prompt(icon(src = "https://example.com/summary.jpg", mime_type = "image/jpeg"))]
    fn summarize(&self) -> String {
        "Summarize.".into()
    }
}

macro_rules! many_tools {
    ($($name:ident)*) => {
        struct Many;

        #[mcp_server(name = "many", stateless)]
        impl Many {
            $(
                /// One of many tools.
                #[tool]
                fn $name(&self) -> String {
                    stringify!($name).into()
                }
            )*

            /// Generated code stays hygienic inside `macro_rules!`.
            #[resource(uri_template = "many://{id}")]
            async fn one(&self, id: String) -> Result<String, std::io::Error> {
                Ok(id)
            }

            /// Likewise for prompts.
            #[prompt]
            fn some(&self, n: Option<String>) -> Result<String, PromptError> {
                n.ok_or_else(|| PromptError::invalid_argument("no n"))
            }

            #[completion(prompt = "some", argument = "n")]
            fn ns(&self, value: String) -> Result<Vec<String>, std::io::Error> {
                Ok(vec![value])
            }
        }
    };
}

many_tools!(
    t000 t001 t002 t003 t004 t005 t006 t007 t008 t009 t010 t011 t012 t013 t014 t015
    t016 t017 t018 t019 t020 t021 t022 t023 t024 t025 t026 t027 t028 t029 t030 t031
    t032 t033 t034 t035 t036 t037 t038 t039 t040 t041 t042 t043 t044 t045 t046 t047
    t048 t049 t050 t051 t052 t053 t054 t055 t056 t057 t058 t059 t060 t061 t062 t063
    t064 t065 t066 t067 t068 t069 t070 t071 t072 t073 t074 t075 t076 t077 t078 t079
    t080 t081 t082 t083 t084 t085 t086 t087 t088 t089 t090 t091 t092 t093 t094 t095
    t096 t097 t098 t099 t100 t101 t102 t103 t104 t105 t106 t107 t108 t109 t110 t111
    t112 t113 t114 t115 t116 t117 t118 t119 t120 t121 t122 t123 t124 t125 t126 t127
    t128 t129 t130 t131 t132 t133 t134 t135 t136 t137 t138 t139 t140 t141 t142 t143
    t144 t145 t146 t147 t148 t149 t150 t151 t152 t153 t154 t155 t156 t157 t158 t159
    t160 t161 t162 t163 t164 t165 t166 t167 t168 t169 t170 t171 t172 t173 t174 t175
    t176 t177 t178 t179 t180 t181 t182 t183 t184 t185 t186 t187 t188 t189 t190 t191
    t192 t193 t194 t195 t196 t197 t198 t199 t200 t201 t202 t203 t204 t205 t206 t207
    t208 t209 t210 t211 t212 t213 t214 t215 t216 t217 t218 t219 t220 t221 t222 t223
    t224 t225 t226 t227 t228 t229 t230 t231 t232 t233 t234 t235 t236 t237 t238 t239
    t240 t241 t242 t243 t244 t245 t246 t247 t248 t249
);

async fn everything() -> String {
    spawn(Everything.router(HttpConfig::new())).await
}

/// One 2026-07-28 request: status and body.
async fn modern(url: &str, method: &str, params: Value) -> (StatusCode, Value) {
    let name = match method {
        "prompts/get" | "tools/call" => params["name"].as_str(),
        "resources/read" => params["uri"].as_str(),
        _ => None,
    }
    .map(str::to_owned);
    let resp = support::modern(url, method, name.as_deref(), params)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, json_of(resp).await)
}

fn names<'a>(list: &'a Value, key: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v[key].as_str().unwrap())
        .collect()
}

fn assert_cacheable(result: &Value, scope: &str) {
    assert_eq!(result["resultType"], "complete", "{result}");
    assert!(
        result["ttlMs"].is_u64(),
        "ttlMs is a non-negative integer: {result}"
    );
    assert_eq!(result["cacheScope"], scope, "{result}");
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "everything"
    );
}

#[tokio::test]
async fn capabilities_follow_what_is_declared() {
    let url = everything().await;
    let session = Session::open(&url).await;
    assert_eq!(
        session.initialize["capabilities"],
        json!({
            "tools": {"listChanged": true},
            "resources": {"subscribe": true, "listChanged": true},
            "prompts": {"listChanged": true},
            "completions": {},
            "logging": {},
        })
    );
    let (status, body) = modern(&url, "server/discover", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["result"]["capabilities"],
        session.initialize["capabilities"]
    );

    // A server with tools only answers none of the rest, in either era.
    let url = spawn(OnlyTools.router(HttpConfig::new())).await;
    let session = Session::open(&url).await;
    assert_eq!(
        session.initialize["capabilities"],
        json!({"tools": {"listChanged": true}, "logging": {}})
    );
    for method in [
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "resources/subscribe",
        "prompts/list",
        "prompts/get",
        "completion/complete",
    ] {
        let body = session
            .call(method, json!({"uri": "x://y", "name": "x"}))
            .await;
        assert_eq!(body["error"]["code"], -32601, "{method}: {body}");
        let (status, body) = modern(&url, method, json!({"uri": "x://y", "name": "x"})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(body["error"]["code"], -32601, "{method}: {body}");
    }

    // Templates alone declare resources, with an empty list of fixed ones.
    let url = spawn(OnlyTemplates.router(HttpConfig::new())).await;
    let session = Session::open(&url).await;
    assert_eq!(
        session.initialize["capabilities"],
        json!({"resources": {"subscribe": true, "listChanged": true}, "logging": {}})
    );
    let body = session.call("resources/list", json!({})).await;
    assert_eq!(body["result"], json!({"resources": []}));
    let body = session.call("tools/list", json!({})).await;
    assert_eq!(body["error"]["code"], -32601);
    let body = session
        .call("resources/read", json!({"uri": "files:///a%2Fb"}))
        .await;
    assert_eq!(
        body["result"],
        json!({"contents": [{"uri": "files:///a%2Fb", "text": "a/b"}]})
    );
}

#[tokio::test]
async fn resources_are_listed_and_read_in_2025() {
    let url = everything().await;
    let s = Session::open(&url).await;

    let body = s.call("resources/list", json!({})).await;
    let result = &body["result"];
    assert_eq!(
        names(&result["resources"], "uri"),
        [
            "test://static-text",
            "test://static-binary",
            "test://watched-resource",
            "test://broken",
            "test://panics"
        ]
    );
    assert_eq!(
        result["resources"][0],
        json!({"uri": "test://static-text", "name": "static_text",
               "description": "A static text resource.", "mimeType": "text/plain"})
    );
    assert_eq!(
        result["resources"][1],
        json!({"uri": "test://static-binary", "name": "static_binary", "title": "Static binary",
               "description": "A static binary resource.", "mimeType": "image/png"})
    );
    assert!(
        result.get("resultType").is_none(),
        "legacy results carry no 2026 fields"
    );
    assert!(result.get("nextCursor").is_none());

    let body = s.call("resources/templates/list", json!({})).await;
    assert_eq!(
        body["result"],
        json!({"resourceTemplates": [
            {"uriTemplate": "test://template/{id}/data", "name": "template_data",
             "description": "Data for one id.", "mimeType": "application/json"},
            {"uriTemplate": "test://items/{id}", "name": "item", "description": "An item, if it exists"},
        ]})
    );

    let body = s
        .call("resources/read", json!({"uri": "test://static-text"}))
        .await;
    assert_eq!(
        body["result"],
        json!({"contents": [{"uri": "test://static-text", "mimeType": "text/plain",
                             "text": "This is the content of the static text resource."}]})
    );

    let body = s
        .call("resources/read", json!({"uri": "test://static-binary"}))
        .await;
    let contents = &body["result"]["contents"][0];
    assert_eq!(contents["mimeType"], "image/png");
    let blob = base64::engine::general_purpose::STANDARD
        .decode(contents["blob"].as_str().unwrap())
        .unwrap();
    assert_eq!(blob, PNG);

    let body = s
        .call("resources/read", json!({"uri": "test://template/123/data"}))
        .await;
    let contents = &body["result"]["contents"][0];
    assert_eq!(contents["uri"], "test://template/123/data");
    assert_eq!(contents["mimeType"], "application/json");
    let data: Value = serde_json::from_str(contents["text"].as_str().unwrap()).unwrap();
    assert_eq!(data["id"], "123");

    // Several contents; a variable is percent-decoded; the context is injected.
    let body = s
        .call("resources/read", json!({"uri": "test://items/a%20b"}))
        .await;
    assert_eq!(
        body["result"]["contents"],
        json!([{"uri": "test://items/a b", "text": "a b"},
               {"uri": "test://items/version", "mimeType": "text/x-version", "text": "2025-11-25"}])
    );

    // Not found: no resource, a template that does not match, a method saying so.
    for uri in [
        "test://nonexistent-resource-for-conformance-testing",
        "test://template/1/2/data",
        "test://items/missing",
    ] {
        let body = s.call("resources/read", json!({"uri": uri})).await;
        assert_eq!(body["error"]["code"], -32002, "{body}");
        assert_eq!(body["error"]["data"], json!({"uri": uri}));
        assert_eq!(body["id"], 2);
    }

    // Failures reach the client as a generic -32603, never with their message.
    for uri in ["test://broken", "test://panics"] {
        let body = s.call("resources/read", json!({"uri": uri})).await;
        assert_eq!(body["error"]["code"], -32603, "{body}");
        assert!(!body.to_string().contains("secret"), "{body}");
    }
    let body = s.call("resources/read", json!({})).await;
    assert_eq!(body["error"]["code"], -32602);
    let body = s.call("resources/read", json!({"uri": 5})).await;
    assert_eq!(body["error"]["code"], -32602);

    // Subscriptions accept what can be read, and answer exactly `{}`.
    for method in ["resources/subscribe", "resources/unsubscribe"] {
        for uri in ["test://watched-resource", "test://template/7/data"] {
            let body = s.call(method, json!({"uri": uri})).await;
            assert_eq!(body["result"], json!({}), "{method} {uri}: {body}");
        }
        let body = s.call(method, json!({"uri": "test://nope"})).await;
        assert_eq!(body["error"]["code"], -32002);
        assert_eq!(body["error"]["data"]["uri"], "test://nope");
    }
}

#[tokio::test]
async fn resources_are_cacheable_and_not_found_is_invalid_params_in_2026() {
    let url = everything().await;
    let (status, body) = modern(&url, "resources/list", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_cacheable(&body["result"], "public");
    assert_eq!(body["result"]["resources"][0]["uri"], "test://static-text");
    let (_, body) = modern(&url, "resources/templates/list", json!({})).await;
    assert_cacheable(&body["result"], "public");
    assert_eq!(
        body["result"]["resourceTemplates"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let (status, body) = modern(&url, "resources/read", json!({"uri": "test://static-text"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_cacheable(&body["result"], "public");
    assert_eq!(
        body["result"]["contents"][0]["text"],
        "This is the content of the static text resource."
    );
    let (_, body) = modern(
        &url,
        "resources/read",
        json!({"uri": "test://template/123/data"}),
    )
    .await;
    assert!(
        body["result"]["contents"][0]["text"]
            .as_str()
            .unwrap()
            .contains("123")
    );

    let uri = "test://nonexistent-resource-for-conformance-testing";
    let (status, body) = modern(&url, "resources/read", json!({"uri": uri})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["error"]["code"], -32602, "{body}");
    assert_eq!(body["error"]["data"], json!({"uri": uri}));
    assert_eq!(body["id"], 7);

    // Subscriptions belong to `subscriptions/listen` in 2026-07-28.
    let (status, body) = modern(
        &url,
        "resources/subscribe",
        json!({"uri": "test://watched-resource"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], -32601);
}

#[tokio::test]
async fn prompts_are_listed_and_built_in_both_eras() {
    let url = everything().await;
    let s = Session::open(&url).await;

    let body = s.call("prompts/list", json!({})).await;
    let prompts = &body["result"]["prompts"];
    assert_eq!(
        names(prompts, "name"),
        [
            "test_simple_prompt",
            "test_prompt_with_arguments",
            "test_prompt_with_embedded_resource",
            "test_prompt_with_image",
            "picky"
        ]
    );
    assert_eq!(
        prompts[0],
        json!({"name": "test_simple_prompt", "description": "A simple prompt without arguments.", "arguments": []})
    );
    assert_eq!(
        prompts[1],
        json!({"name": "test_prompt_with_arguments", "title": "With arguments",
        "description": "A prompt with two required arguments.",
        "arguments": [
            {"name": "arg1", "description": "First test argument", "required": true},
            {"name": "arg2", "description": "Second test argument", "required": true},
            {"name": "style", "required": false},
        ]})
    );
    let (_, modern_list) = modern(&url, "prompts/list", json!({})).await;
    assert_cacheable(&modern_list["result"], "public");
    assert_eq!(modern_list["result"]["prompts"], *prompts);

    let body = s
        .call("prompts/get", json!({"name": "test_simple_prompt"}))
        .await;
    assert_eq!(
        body["result"],
        json!({"description": "A simple prompt without arguments.", "messages": [
            {"role": "user", "content": {"type": "text", "text": "This is a simple prompt for testing."}}
        ]})
    );

    let args = json!({"name": "test_prompt_with_arguments",
                      "arguments": {"arg1": "testValue1", "arg2": "testValue2"}});
    let body = s.call("prompts/get", args.clone()).await;
    let text = body["result"]["messages"][0]["content"]["text"]
        .as_str()
        .unwrap();
    assert!(
        text.contains("testValue1") && text.contains("testValue2"),
        "{text}"
    );
    assert!(text.contains("style=None"), "{text}");
    let (status, body) = modern(&url, "prompts/get", args).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["result"]["resultType"], "complete");
    assert!(body["result"]["_meta"]["io.modelcontextprotocol/serverInfo"].is_object());
    assert!(
        body["result"].get("ttlMs").is_none(),
        "only lists and reads are cacheable"
    );

    let body = s
        .call(
            "prompts/get",
            json!({"name": "test_prompt_with_embedded_resource",
                                     "arguments": {"resource_uri": "test://example-resource"}}),
        )
        .await;
    let result = &body["result"];
    assert_eq!(result["description"], "embeds a resource");
    assert_eq!(
        result["messages"][0]["content"],
        json!({"type": "resource", "resource": {"uri": "test://example-resource",
               "mimeType": "text/plain", "text": "Embedded resource content for testing."}})
    );

    let body = s
        .call("prompts/get", json!({"name": "test_prompt_with_image"}))
        .await;
    let image = &body["result"]["messages"][0]["content"];
    assert_eq!(image["type"], "image");
    assert_eq!(image["mimeType"], "image/png");

    let body = s
        .call(
            "prompts/get",
            json!({"name": "picky", "arguments": {"colour": "red"}}),
        )
        .await;
    assert_eq!(body["result"]["messages"][0]["role"], "assistant");

    // Errors: each -32602 says what is wrong, in either era.
    let cases = [
        (
            json!({"name": "test_prompt_with_arguments", "arguments": {"arg2": "x"}}),
            "missing required argument `arg1`",
        ),
        (
            json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": 1, "arg2": "x"}}),
            "argument `arg1` must be a string",
        ),
        (
            json!({"name": "test_prompt_with_arguments", "arguments": ["x"]}),
            "`arguments` must be an object of strings",
        ),
        (json!({"name": "nope"}), "unknown prompt `nope`"),
        (
            json!({"name": "picky", "arguments": {"colour": "blue"}}),
            "only `red` will do",
        ),
    ];
    for (params, message) in cases {
        let body = s.call("prompts/get", params.clone()).await;
        assert_eq!(body["error"]["code"], -32602, "{body}");
        assert_eq!(body["error"]["message"], message);
        let (status, body) = modern(&url, "prompts/get", params).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["error"]["code"], -32602, "{body}");
    }
    let body = s
        .call(
            "prompts/get",
            json!({"name": "picky", "arguments": {"colour": "boom"}}),
        )
        .await;
    assert_eq!(body["error"]["code"], -32603);
    assert!(!body.to_string().contains("secret"), "{body}");
}

#[tokio::test]
async fn completions_suggest_values() {
    let url = everything().await;
    let s = Session::open(&url).await;
    let prompt_ref = json!({"type": "ref/prompt", "name": "test_prompt_with_arguments"});

    let body = s
        .call(
            "completion/complete",
            json!({"ref": prompt_ref, "argument": {"name": "arg1", "value": "pa"}}),
        )
        .await;
    assert_eq!(
        body["result"],
        json!({"completion": {"values": ["paris", "patagonia"]}})
    );

    // The other arguments reach the method.
    let body = s
        .call(
            "completion/complete",
            json!({"ref": prompt_ref, "argument": {"name": "arg1", "value": "li"},
                                            "context": {"arguments": {"arg2": "!"}}}),
        )
        .await;
    assert_eq!(body["result"]["completion"]["values"], json!(["lima!"]));

    // More than 100 values are cut, saying how many there are.
    let resource_ref = json!({"type": "ref/resource", "uri": "test://template/{id}/data"});
    let body = s
        .call(
            "completion/complete",
            json!({"ref": resource_ref, "argument": {"name": "id", "value": "1"}}),
        )
        .await;
    let completion = &body["result"]["completion"];
    assert_eq!(completion["values"].as_array().unwrap().len(), 100);
    assert_eq!(completion["values"][0], "10");
    assert_eq!(completion["hasMore"], true);
    assert_eq!(completion["total"], 150);

    // An argument, prompt or resource without a completion method gets no values.
    for reference in [
        json!({"type": "ref/prompt", "name": "test_simple_prompt"}),
        json!({"type": "ref/resource", "uri": "test://items/{id}"}),
        json!({"type": "ref/resource", "uri": "test://static-text"}),
    ] {
        let body = s
            .call(
                "completion/complete",
                json!({"ref": reference, "argument": {"name": "id", "value": ""}}),
            )
            .await;
        assert_eq!(
            body["result"],
            json!({"completion": {"values": []}}),
            "{reference}"
        );
    }

    // A reference to nothing, or a malformed request, is -32602.
    for params in [
        json!({"ref": {"type": "ref/prompt", "name": "nope"}, "argument": {"name": "a", "value": ""}}),
        json!({"ref": {"type": "ref/resource", "uri": "test://nope/{id}"}, "argument": {"name": "id", "value": ""}}),
        json!({"ref": {"type": "ref/tool", "name": "echo"}, "argument": {"name": "a", "value": ""}}),
        json!({"ref": prompt_ref, "argument": {"name": "arg1"}}),
        json!({"argument": {"name": "arg1", "value": ""}}),
    ] {
        let body = s.call("completion/complete", params.clone()).await;
        assert_eq!(body["error"]["code"], -32602, "{params}: {body}");
    }

    let (status, body) = modern(
        &url,
        "completion/complete",
        json!({"ref": prompt_ref, "argument": {"name": "arg1", "value": "p"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["result"]["completion"]["values"],
        json!(["paris", "patagonia"])
    );
    assert_eq!(body["result"]["resultType"], "complete");
}

#[tokio::test]
async fn a_protected_servers_reads_are_private_to_the_caller() {
    let issuer = mcp_runtime::testing::TestIssuer::start().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let config = OAuthConfig::builder()
        .resource(&url)
        .authorization_server(issuer.url())
        .build()
        .await
        .unwrap();
    let app = Private.router(config);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let token = issuer
        .token()
        .subject("alice")
        .audience(&url)
        .scopes(["docs:read"])
        .sign();
    let call = |method: &'static str, params: Value| {
        let (url, token) = (url.clone(), token.clone());
        async move {
            let mut params = params;
            params["_meta"] = json!({
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {},
            });
            let name = params.get("uri").or_else(|| params.get("name")).cloned();
            let mut req = post(&url)
                .bearer_auth(token)
                .header("mcp-protocol-version", MODERN)
                .header("mcp-method", method);
            if let Some(Value::String(name)) = name {
                req = req.header("mcp-name", name);
            }
            let resp = req
                .json(&json!({"jsonrpc":"2.0","id":1,"method":method,"params":params}))
                .send()
                .await
                .unwrap();
            json_of(resp).await
        }
    };
    let body = call("resources/list", json!({})).await;
    assert_cacheable(&body["result"], "public");
    let body = call("resources/read", json!({"uri": "docs://me"})).await;
    assert_cacheable(&body["result"], "private");
    assert_eq!(body["result"]["contents"][0]["text"], "alice");
    let body = call("prompts/get", json!({"name": "hello"})).await;
    assert_eq!(
        body["result"]["messages"][0]["content"]["text"],
        "Say hello to alice."
    );
}

#[tokio::test]
async fn lists_come_in_pages_of_one_hundred() {
    let url = spawn(Many.router(HttpConfig::new())).await;
    let list = |cursor: Value| {
        let url = url.clone();
        async move {
            let resp = post(&url)
                .header("mcp-protocol-version", "2025-11-25")
                .json(&json!({"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"cursor": cursor}}))
                .send()
                .await
                .unwrap();
            json_of(resp).await
        }
    };
    let first = list(Value::Null).await["result"].clone();
    assert_eq!(names(&first["tools"], "name")[..2], ["t000", "t001"]);
    assert_eq!(first["tools"].as_array().unwrap().len(), 100);
    let cursor = first["nextCursor"].clone();
    assert!(cursor.is_string());
    assert_eq!(
        list(json!("")).await["result"],
        first,
        "an empty cursor is the first page"
    );

    let second = list(cursor.clone()).await["result"].clone();
    assert_eq!(names(&second["tools"], "name")[0], "t100");
    let third = list(second["nextCursor"].clone()).await["result"].clone();
    let tail = names(&third["tools"], "name");
    assert_eq!((tail.len(), tail[49]), (50, "t249"));
    assert!(third.get("nextCursor").is_none());

    for bad in [
        json!("bm9wZQ"),
        json!("!!"),
        json!(100),
        json!({"offset": 100}),
    ] {
        let body = list(bad.clone()).await;
        assert_eq!(body["error"]["code"], -32602, "{bad}: {body}");
    }

    // In 2026-07-28 every page is cacheable, and walks the same way.
    let (_, body) = modern(&url, "tools/list", json!({"cursor": cursor})).await;
    let page = &body["result"];
    assert_eq!(names(&page["tools"], "name")[0], "t100");
    assert_eq!(page["nextCursor"], second["nextCursor"]);
    assert_eq!(page["cacheScope"], "public");
    assert!(page["ttlMs"].is_u64());
}

#[tokio::test]
async fn icons_are_listed_and_in_server_info_in_both_eras() {
    let url = spawn(Iconic.router(HttpConfig::new())).await;
    let server_icons = json!([
        {"src": DOT},
        {"src": "https://example.com/logo-dark.svg", "mimeType": "image/svg+xml",
         "sizes": ["any"], "theme": "dark"},
    ]);
    let tool_icons = json!([{"src": "https://example.com/add.png", "sizes": ["48x48", "96x96"]}]);
    let resource_icons = json!([{"src": "https://example.com/readme.webp"}]);
    let template_icons = json!([
        {"src": "https://example.com/page.png", "theme": "light"},
        {"src": "https://example.com/page-dark.png", "theme": "dark"},
    ]);
    let prompt_icons =
        json!([{"src": "https://example.com/summary.jpg", "mimeType": "image/jpeg"}]);
    // Each list: its key, the icons of its first entry.
    let lists = [
        ("tools/list", "tools", &tool_icons),
        ("resources/list", "resources", &resource_icons),
        (
            "resources/templates/list",
            "resourceTemplates",
            &template_icons,
        ),
        ("prompts/list", "prompts", &prompt_icons),
    ];

    // 2025-11-25: `initialize` and each list.
    let s = Session::open(&url).await;
    assert_eq!(
        s.initialize["serverInfo"],
        json!({"name": "iconic", "version": env!("CARGO_PKG_VERSION"), "icons": server_icons})
    );
    for (method, key, icons) in lists {
        let body = s.call(method, json!({})).await;
        assert_eq!(body["result"][key][0]["icons"], *icons, "{method}: {body}");
    }
    let body = s.call("tools/list", json!({})).await;
    assert!(
        body["result"]["tools"][1].get("icons").is_none(),
        "a tool without icons has no `icons`: {body}"
    );

    // 2026-07-28: `server/discover`, and each list with the server info in `_meta`.
    let (status, body) = modern(&url, "server/discover", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["icons"], server_icons,
        "{body}"
    );
    for (method, key, icons) in lists {
        let (status, body) = modern(&url, method, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{method}");
        let result = &body["result"];
        assert_eq!(result[key][0]["icons"], *icons, "{method}: {body}");
        assert_eq!(
            result["_meta"]["io.modelcontextprotocol/serverInfo"]["icons"], server_icons,
            "{method}: {body}"
        );
    }
}

/// Types of a server's own named like the values the runtime provides.
mod own {
    use schemars::JsonSchema;
    use serde::Deserialize;

    #[derive(Deserialize, JsonSchema)]
    pub(super) struct Session {
        pub(super) id: String,
    }

    #[derive(Deserialize, JsonSchema)]
    pub(super) struct Auth {
        pub(super) user: String,
    }

    #[derive(Deserialize, JsonSchema)]
    pub(super) struct RequestContext {
        pub(super) trace: u32,
    }
}

struct Desk;

#[mcp_server(stateless)]
impl Desk {
    /// Opens a session for a user.
    #[tool]
    fn open(&self, session: own::Session, auth: own::Auth, ctx: own::RequestContext) -> String {
        format!("{} opened {} ({})", auth.user, session.id, ctx.trace)
    }

    /// Says which request this is, from the runtime's context.
    #[tool]
    fn which(&self, ctx: RequestContext, n: i64) -> String {
        format!("{n} at {}", ctx.protocol_version())
    }
}

#[tokio::test]
async fn own_types_named_like_provided_ones_are_arguments() {
    let url = spawn(Desk.router(HttpConfig::new())).await;
    let (status, body) = modern(&url, "tools/list", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let open = &body["result"]["tools"][0]["inputSchema"];
    assert_eq!(
        open["required"],
        json!(["session", "auth", "ctx"]),
        "{open}"
    );
    for (argument, def) in [
        ("session", "Session"),
        ("auth", "Auth"),
        ("ctx", "RequestContext"),
    ] {
        assert_eq!(
            open["properties"][argument]["$ref"],
            format!("#/$defs/{def}"),
            "{open}"
        );
    }
    // The runtime's `RequestContext` is provided, so it is no argument.
    let which = &body["result"]["tools"][1]["inputSchema"];
    assert_eq!(which["required"], json!(["n"]), "{which}");
    assert!(which["properties"].get("ctx").is_none(), "{which}");

    let arguments = json!({"session": {"id": "s1"}, "auth": {"user": "ada"}, "ctx": {"trace": 7}});
    let (status, body) = modern(
        &url,
        "tools/call",
        json!({"name": "open", "arguments": arguments}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["result"]["content"][0]["text"], "ada opened s1 (7)",
        "{body}"
    );
    let (status, body) = modern(
        &url,
        "tools/call",
        json!({"name": "which", "arguments": {"n": 3}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["result"]["content"][0]["text"],
        format!("3 at {MODERN}"),
        "{body}"
    );
}
