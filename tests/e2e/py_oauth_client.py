"""OAuth 2.1 end-to-end check with the official MCP Python SDK (pinned in requirements.txt).

    .tools/py/bin/python tests/e2e/py_oauth_client.py http://127.0.0.1:PORT/mcp [auto|legacy]

Uses the SDK's own authorization support, `mcp.client.auth.OAuthClientProvider`
(an httpx2.Auth), on the HTTP client of the Streamable HTTP transport:

  1. the first request without a token -> 401 + WWW-Authenticate;
  2. the SDK fetches the protected resource metadata and the authorization server
     metadata, registers a public client (RFC 7591), and builds an authorization
     request (code + PKCE S256 + resource indicator + state);
  3. `redirect_handler(url)` below plays the user agent headlessly: it GETs the URL
     and follows the redirects (keeping the authorization server's cookies) until
     the redirect_uri; `callback_handler()` hands code, state and iss (RFC 9207)
     back to the SDK, which checks them and exchanges the code for a token;
  4. `whoami`;
  5. `add_note` -> 403 insufficient_scope: mcp 2.x steps up by itself inside the
     same request (SEP-2350: re-authorizes with the union of the scopes) and
     retries it, so the call simply succeeds.

Prints ONE line of JSON to stdout:
  {whoami, addNote, authorizationRounds: [{scope, resource, iss}], tokens, http: [...]}
Any failure exits non-zero with a message (and the HTTP log) on stderr.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any
from urllib.parse import parse_qs, urljoin, urlparse

try:
    import anyio
    import httpx2
    from mcp import Client
    from mcp.client.auth import OAuthClientProvider
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
    from mcp.shared.auth import (
        AuthorizationCodeResult,
        OAuthClientInformationFull,
        OAuthClientMetadata,
        OAuthToken,
    )
    from mcp_types import Implementation
except ImportError as exc:  # pragma: no cover - environment problem
    sys.stderr.write(
        f"py_oauth_client: cannot import the MCP Python SDK ({exc}); run scripts/install-test-tools.sh\n"
    )
    sys.exit(1)

# Where the authorization server sends the browser back to. Nothing listens there:
# the headless user agent stops at the redirect and reads the parameters from it.
REDIRECT_URL = "http://127.0.0.1:8977/oauth/callback"
# Upper bound on the redirects of one authorization round.
MAX_AUTHORIZATION_HOPS = 20

HTTP_LOG: list[dict[str, Any]] = []


class StepError(Exception):
    pass


async def _step(name: str, coro: Any) -> Any:
    try:
        return await coro
    except Exception as exc:  # noqa: BLE001 - every failure becomes a one-line message
        raise StepError(f"{name} failed: {type(exc).__name__}: {exc}") from exc


async def _log_request(request: httpx2.Request) -> None:
    entry: dict[str, Any] = {
        "method": request.method,
        "url": str(request.url),
        "bearer": request.headers.get("authorization", "").startswith("Bearer "),
    }
    if request.method == "POST" and request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(request.content)
            if isinstance(body, dict) and isinstance(body.get("method"), str):
                entry["rpcMethod"] = body["method"]
                if body["method"] == "tools/call":
                    entry["tool"] = (body.get("params") or {}).get("name")
        except (ValueError, httpx2.RequestNotRead):
            pass
    request.extensions["e2e_log"] = entry
    HTTP_LOG.append(entry)


async def _log_response(response: httpx2.Response) -> None:
    entry = response.request.extensions.get("e2e_log")
    if entry is None:  # pragma: no cover - every request passes the request hook
        entry = {"method": response.request.method, "url": str(response.request.url)}
        HTTP_LOG.append(entry)
    entry["status"] = response.status_code
    challenge = response.headers.get("www-authenticate")
    if challenge:
        entry["wwwAuthenticate"] = challenge
    location = response.headers.get("location")
    if location:
        entry["location"] = location


def _hooks() -> dict[str, list[Any]]:
    return {"request": [_log_request], "response": [_log_response]}


class MemoryStorage:
    """`TokenStorage` in memory; also remembers every token it was handed."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None
        self.token_history: list[dict[str, Any]] = []
        self.registrations = 0

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        self.token_history.append(
            {
                "scope": tokens.scope,
                "tokenType": tokens.token_type,
                "expiresIn": tokens.expires_in,
                "refreshToken": tokens.refresh_token is not None,
            }
        )

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        if self.client_info is None or self.client_info.client_id != client_info.client_id:
            self.registrations += 1
        self.client_info = client_info


class HeadlessUserAgent:
    """The "browser": follows the authorization server's redirects with plain GETs."""

    def __init__(self) -> None:
        self.rounds: list[dict[str, Any]] = []
        self._result: AuthorizationCodeResult | None = None

    async def redirect_handler(self, authorization_url: str) -> None:
        query = parse_qs(urlparse(authorization_url).query)

        def one(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        round_info: dict[str, Any] = {
            "scope": one("scope"),
            "resource": one("resource"),
            "codeChallengeMethod": one("code_challenge_method"),
            "clientId": one("client_id"),
            "prompt": one("prompt"),
        }
        self.rounds.append(round_info)
        # A fresh client (and cookie jar) per round, as a new browser session.
        async with httpx2.AsyncClient(follow_redirects=False, timeout=30, event_hooks=_hooks()) as ua:
            url = authorization_url
            for hop in range(MAX_AUTHORIZATION_HOPS):
                response = await ua.get(url)
                location = response.headers.get("location")
                if not (300 <= response.status_code < 400) or not location:
                    raise RuntimeError(
                        f"authorization stopped at {url} with HTTP {response.status_code}: {response.text[:500]}"
                    )
                target = urljoin(url, location)
                if target.startswith(REDIRECT_URL):
                    params = parse_qs(urlparse(target).query)
                    if "error" in params:
                        raise RuntimeError(
                            f"authorization server answered {params['error'][0]}: "
                            f"{params.get('error_description', [''])[0]}"
                        )
                    if "code" not in params:
                        raise RuntimeError(f"redirect to {REDIRECT_URL} without a code: {target}")
                    round_info["iss"] = params.get("iss", [None])[0]
                    round_info["hops"] = hop + 1
                    self._result = AuthorizationCodeResult(
                        code=params["code"][0],
                        state=params.get("state", [None])[0],
                        iss=params.get("iss", [None])[0],
                    )
                    return
                url = target
        raise RuntimeError(f"authorization did not reach {REDIRECT_URL} within {MAX_AUTHORIZATION_HOPS} redirects")

    async def callback_handler(self) -> AuthorizationCodeResult:
        result, self._result = self._result, None
        if result is None:
            raise RuntimeError("no authorization result is pending")
        return result


async def run(url: str, mode: str) -> dict[str, Any]:
    storage = MemoryStorage()
    agent = HeadlessUserAgent()
    oauth = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(
            client_name="mcp-runtime-e2e-py-oauth",
            redirect_uris=[REDIRECT_URL],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=agent.redirect_handler,
        callback_handler=agent.callback_handler,
    )

    http_client = create_mcp_http_client(auth=oauth)
    http_client.event_hooks = _hooks()

    async with http_client:
        transport = streamable_http_client(url, http_client=http_client)
        client = Client(
            transport, mode=mode, client_info=Implementation(name="mcp-runtime-e2e-py-oauth", version="0.0.0")
        )
        await _step(f"connect (mode={mode})", client.__aenter__())
        try:
            protocol_version = client.protocol_version
            whoami = await _step("tools/call whoami", client.call_tool("whoami", {}))
            add_note = await _step(
                "tools/call add_note",
                client.call_tool(
                    "add_note", {"title": "OAuth step-up (python)", "body": "written after SEP-2350 step-up"}
                ),
            )
        finally:
            await client.__aexit__(None, None, None)

    for name, result in (("whoami", whoami), ("add_note", add_note)):
        if result.is_error:
            raise StepError(f"{name} returned isError: {result.content!r}")
        if result.structured_content is None:
            raise StepError(f"{name} has no structuredContent: {result!r}")

    challenge = next((e for e in HTTP_LOG if e.get("status") == 403), None)
    return {
        "sdk": "python",
        "mode": mode,
        "protocolVersion": protocol_version,
        "whoami": whoami.structured_content,
        "addNote": add_note.structured_content,
        "authorizationRounds": agent.rounds,
        "tokens": storage.token_history,
        "registrations": storage.registrations,
        "stepUp": {
            "status": challenge.get("status") if challenge else None,
            "wwwAuthenticate": challenge.get("wwwAuthenticate") if challenge else None,
        },
        "http": HTTP_LOG,
    }


def main() -> int:
    if len(sys.argv) not in (2, 3):
        sys.stderr.write("usage: py_oauth_client.py <server url, e.g. http://127.0.0.1:3000/mcp> [auto|legacy]\n")
        return 2
    url = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) == 3 else "auto"
    try:
        out = anyio.run(run, url, mode)
    except BaseException as exc:  # noqa: BLE001 - includes ExceptionGroup from anyio task groups
        sys.stderr.write(f"py_oauth_client: {type(exc).__name__}: {exc}\n")
        traceback.print_exc(file=sys.stderr)
        sys.stderr.write("py_oauth_client: HTTP log:\n")
        for entry in HTTP_LOG:
            sys.stderr.write(f"  {json.dumps(entry)}\n")
        return 1
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
