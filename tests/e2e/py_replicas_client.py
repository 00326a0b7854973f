"""A session through a load balancer in front of several replicas, with the official MCP
Python SDK (pinned in requirements.txt).

    .tools/py/bin/python tests/e2e/py_replicas_client.py http://127.0.0.1:8080/mcp

Against examples/everything.rs at 2025-11-25 (`mode="legacy"`), as a client that answers
elicitations: calls `test_elicitation` three times (answering each), then
`test_trigger_tool_change` three times, waiting after each for
`notifications/tools/list_changed` on the session's GET stream. Which replica served which
request is for the load balancer's log to tell. Prints ONE line of JSON to stdout; any
failure exits non-zero with a message on stderr.
"""

from __future__ import annotations

import sys
from typing import Any

try:
    import anyio
    import one_line
    import mcp_types as types
    from mcp import Client
    from mcp_types import Implementation
    from mcp.client.streamable_http import streamable_http_client
except ImportError as exc:  # pragma: no cover - environment problem
    sys.stderr.write(f"py_replicas_client: cannot import the MCP Python SDK ({exc}); run scripts/install-test-tools.sh\n")
    sys.exit(1)


async def run(url: str) -> dict[str, Any]:
    questions: list[str] = []
    changes = 0
    changed = anyio.Event()
    errors: list[str] = []

    async def answer(_context: Any, params: Any) -> Any:
        questions.append(params.message)
        return types.ElicitResult(
            action="accept", content={"username": f"ada{len(questions)}", "email": "ada@example.com"}
        )

    async def on_message(message: Any) -> None:
        nonlocal changes, changed
        if isinstance(message, Exception):
            errors.append(f"{type(message).__name__}: {message}")
        elif getattr(message, "method", None) == "notifications/tools/list_changed":
            changes += 1
            changed.set()

    client = Client(
        streamable_http_client(url),
        mode="legacy",
        client_info=Implementation(name="mcp-runtime-e2e-py-replicas", version="0.0.0"),
        elicitation_callback=answer,
        message_handler=on_message,
    )
    async with client:
        elicitations = []
        for round_ in (1, 2, 3):
            result = await client.call_tool("test_elicitation", {"message": f"round {round_}"})
            elicitations.append(result.content[0].text if result.content else None)
        seen = []
        for _ in (1, 2, 3):
            before = changes
            changed = anyio.Event()
            await client.call_tool("test_trigger_tool_change", {})
            if changes == before:
                with anyio.move_on_after(10):
                    await changed.wait()
            seen.append(changes - before)
        protocol_version = client.protocol_version
    return {
        "protocolVersion": protocol_version,
        "questions": questions,
        "elicitations": elicitations,
        "seen": seen,
        "errors": errors,
    }


if __name__ == "__main__":
    one_line.main("py_replicas_client", run)
