"""Resumption with the official MCP Python SDK (pinned in requirements.txt).

    .tools/py/bin/python tests/e2e/py_resume_client.py http://127.0.0.1:3001/mcp

Against examples/everything.rs in a 2025-11-25 session, as a client that declares
elicitation (so that answers stream): calls `test_reconnection`, whose server closes the
call's SSE connection mid-call, so the SDK must reconnect with GET and Last-Event-ID to get
the result. Prints ONE line of JSON to stdout; any failure exits non-zero with a message on
stderr.
"""

from __future__ import annotations

import sys
import time
from typing import Any

try:
    import anyio
    import one_line
    import httpx2
    import mcp_types as types
    from mcp import Client
    from mcp_types import Implementation
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
except ImportError as exc:  # pragma: no cover - environment problem
    sys.stderr.write(f"py_resume_client: cannot import the MCP Python SDK ({exc}); run scripts/install-test-tools.sh\n")
    sys.exit(1)


async def decline(_context: Any, _params: Any) -> Any:
    """Declared so that the server may ask; this test never answers a question."""
    return types.ElicitResult(action="decline")


async def run(url: str) -> dict[str, Any]:
    resumes: list[str] = []

    async def on_request(request: httpx2.Request) -> None:
        last = request.headers.get("last-event-id")
        if request.method == "GET" and last:
            resumes.append(last)

    http_client = create_mcp_http_client()
    http_client.event_hooks["request"].append(on_request)
    async with http_client:
        transport = streamable_http_client(url, http_client=http_client)
        client = Client(
            transport,
            mode="legacy",
            client_info=Implementation(name="mcp-runtime-e2e-py-resume", version="0.0.0"),
            elicitation_callback=decline,
        )
        await client.__aenter__()
        try:
            started = time.monotonic()
            result = await client.call_tool("test_reconnection", {}, read_timeout_seconds=15)
            elapsed_ms = int((time.monotonic() - started) * 1000)
            protocol_version = client.protocol_version
        finally:
            await client.__aexit__(None, None, None)
    text = result.content[0].text if result.content else None
    return {
        "protocolVersion": protocol_version,
        "reconnectionText": text,
        "reconnectionMs": elapsed_ms,
        "resumes": resumes,
    }


if __name__ == "__main__":
    one_line.main("py_resume_client", run)
