"""Real-client check with the official MCP Python SDK (pinned in requirements.txt).

    .tools/py/bin/python tests/e2e/py_client.py http://127.0.0.1:3000/mcp [auto|legacy|2026-07-28]

Connects over Streamable HTTP with `mcp.Client`, lists tools, calls `add` and
`divide`, closes the client, and prints ONE line of JSON to stdout. Any failure
exits non-zero with a message on stderr.

The mode argument is `mcp.Client(mode=...)` of mcp 2.x:
  auto (default)  probe `server/discover` at 2026-07-28 (stateless, `_meta` per
                  request) and fall back to the `initialize` handshake on any
                  JSON-RPC / HTTP 4xx error from the probe (mcp/client/_probe.py);
                  so the negotiated `protocolVersion` tells which path was taken.
  legacy          `initialize` handshake only (2025-11-25, Mcp-Session-Id).
  2026-07-28      adopt 2026-07-28 without probing.

Every HTTP exchange is recorded in the output's `http` field (method, status,
JSON-RPC method, protocol-version header, whether a session id was sent/got).
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

try:
    import anyio
    import httpx2
    from mcp import Client
    from mcp_types import Implementation
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
except ImportError as exc:  # pragma: no cover - environment problem
    sys.stderr.write(f"py_client: cannot import the MCP Python SDK ({exc}); run scripts/install-test-tools.sh\n")
    sys.exit(1)


def _dump(value: Any) -> Any:
    """A pydantic model / list of models as plain JSON (wire field names)."""
    if value is None:
        return None
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(by_alias=True, mode="json", exclude_none=True)
    return value


class StepError(Exception):
    pass


async def _step(name: str, coro: Any) -> Any:
    try:
        return await coro
    except Exception as exc:  # noqa: BLE001 - every failure becomes a one-line message
        raise StepError(f"{name} failed: {type(exc).__name__}: {exc}") from exc


async def run(url: str, mode: str) -> dict[str, Any]:
    http_log: list[dict[str, Any]] = []

    async def on_response(response: httpx2.Response) -> None:
        req = response.request
        rpc_method = None
        if req.method == "POST":
            try:
                body = json.loads(req.content)
                rpc_method = body.get("method") if isinstance(body, dict) else "<batch>"
            except (ValueError, httpx2.RequestNotRead):
                pass
        http_log.append(
            {
                "method": req.method,
                "status": response.status_code,
                "rpcMethod": rpc_method,
                "mcpMethodHeader": req.headers.get("mcp-method"),
                "protocolVersionHeader": req.headers.get("mcp-protocol-version"),
                "sentSessionId": "mcp-session-id" in req.headers,
                "gotSessionId": "mcp-session-id" in response.headers,
                "contentType": response.headers.get("content-type"),
            }
        )

    http_client = create_mcp_http_client()
    http_client.event_hooks["response"].append(on_response)

    async with http_client:
        transport = streamable_http_client(url, http_client=http_client)
        client = Client(
            transport, mode=mode, client_info=Implementation(name="mcp-runtime-e2e-py", version="0.0.0")
        )
        await _step(f"connect (mode={mode})", client.__aenter__())
        try:
            protocol_version = client.protocol_version
            server_info = client.server_info
            session = client.session
            if mode not in ("auto", "legacy"):
                negotiated_by = "pinned"  # adopted without any wire traffic
            elif session.discover_result is not None:
                negotiated_by = "server/discover"
            elif mode == "auto":
                negotiated_by = "initialize-fallback"  # the discover probe was rejected
            else:
                negotiated_by = "initialize"
            listed = await _step("tools/list", client.list_tools())
            add_tool = next((t for t in listed.tools if t.name == "add"), None)
            # call_tool revalidates structured content against the listed outputSchema
            # (ClientSession.validate_tool_result) and raises when it does not conform.
            add = await _step("tools/call add", client.call_tool("add", {"a": 2, "b": 40}))
            divide = await _step("tools/call divide", client.call_tool("divide", {"a": 1, "b": 0}))
        finally:
            await client.__aexit__(None, None, None)

    return {
        "sdk": "python",
        "mode": mode,
        "protocolVersion": protocol_version,
        "negotiatedBy": negotiated_by,
        "serverName": server_info.name if server_info is not None else None,
        "serverVersion": server_info.version if server_info is not None else None,
        "tools": sorted(t.name for t in listed.tools),
        "addStructured": add.structured_content,
        "addContent": _dump(add.content),
        "addIsError": add.is_error,
        "divideByZeroIsError": divide.is_error,
        "divideByZeroContent": _dump(divide.content),
        "outputSchemaOfAdd": add_tool.output_schema if add_tool is not None else None,
        "inputSchemaOfAdd": add_tool.input_schema if add_tool is not None else None,
        "http": http_log,
    }


def main() -> int:
    if len(sys.argv) not in (2, 3):
        sys.stderr.write("usage: py_client.py <server url, e.g. http://127.0.0.1:3000/mcp> [auto|legacy|2026-07-28]\n")
        return 2
    url = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) == 3 else "auto"
    try:
        out = anyio.run(run, url, mode)
    except StepError as exc:
        sys.stderr.write(f"py_client: {exc}\n")
        if exc.__cause__ is not None:
            traceback.print_exception(exc.__cause__, file=sys.stderr)
        return 1
    except BaseException as exc:  # noqa: BLE001 - includes ExceptionGroup from anyio task groups
        sys.stderr.write(f"py_client: {type(exc).__name__}: {exc}\n")
        traceback.print_exc(file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
