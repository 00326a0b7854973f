"""Mirrored arguments with the official MCP Python SDK (pinned in requirements.txt).

    .tools/py/bin/python tests/e2e/py_headers_client.py http://127.0.0.1:3001/mcp

Connects at 2026-07-28 (`mcp.Client(mode="2026-07-28")`), lists tools (the SDK drops any
tool whose `x-mcp-header` annotations it finds invalid), calls `test_custom_headers` twice
(a plain ASCII region, then one the SDK must send base64-encoded, with the optional
arguments) and prints ONE line of JSON: the tools kept, each call's result text and the
`Mcp-Param-*` headers the SDK sent. Any failure exits non-zero with a message on stderr.
"""

from __future__ import annotations

import json
import sys
from typing import Any

try:
    import anyio
    import httpx2
    from mcp import Client
    from mcp_types import Implementation
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
except ImportError as exc:  # pragma: no cover - environment problem
    sys.stderr.write(f"py_headers_client: cannot import the MCP Python SDK ({exc}); run scripts/install-test-tools.sh\n")
    sys.exit(1)


async def run(url: str) -> dict[str, Any]:
    sent: list[dict[str, str]] = []

    async def on_request(request: httpx2.Request) -> None:
        try:
            body = json.loads(request.content)
        except ValueError:
            return
        if isinstance(body, dict) and body.get("method") == "tools/call":
            sent.append({k.lower(): v for k, v in request.headers.items() if k.lower().startswith("mcp-param-")})

    http_client = create_mcp_http_client()
    http_client.event_hooks["request"].append(on_request)
    async with http_client:
        transport = streamable_http_client(url, http_client=http_client)
        client = Client(transport, mode="2026-07-28", client_info=Implementation(name="mcp-runtime-e2e-py", version="0.0.0"))
        await client.__aenter__()
        try:
            listed = await client.list_tools()
            tool = next((t for t in listed.tools if t.name == "test_custom_headers"), None)
            plain = await client.call_tool("test_custom_headers", {"region": "eu-west"})
            encoded = await client.call_tool(
                "test_custom_headers", {"region": " Zürich ", "priority": 3, "verbose": True}
            )
        finally:
            await client.__aexit__(None, None, None)

    def text(result: Any) -> dict[str, Any]:
        return {"isError": result.is_error, "text": [c.text for c in result.content if getattr(c, "text", None)]}

    return {
        "tools": sorted(t.name for t in listed.tools),
        "inputSchema": tool.input_schema if tool is not None else None,
        "plain": text(plain),
        "encoded": text(encoded),
        "sent": sent,
    }


def main() -> int:
    if len(sys.argv) != 2:
        sys.stderr.write("usage: py_headers_client.py <server url>\n")
        return 2
    try:
        out = anyio.run(run, sys.argv[1])
    except BaseException as exc:  # noqa: BLE001 - includes ExceptionGroup from anyio task groups
        sys.stderr.write(f"py_headers_client: {type(exc).__name__}: {exc}\n")
        return 1
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
