"""What the single-URL Python client scripts share: run one coroutine against the URL
given on the command line and print its result as ONE line of JSON; any failure exits
non-zero with a one-line message on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any, Awaitable, Callable

import anyio


def main(name: str, run: Callable[[str], Awaitable[dict[str, Any]]]) -> None:
    if len(sys.argv) != 2:
        sys.stderr.write(f"usage: {name}.py <server url>\n")
        sys.exit(2)
    try:
        out = anyio.run(run, sys.argv[1])
    except Exception as exc:  # noqa: BLE001 - every failure becomes a one-line message
        sys.stderr.write(f"{name}: {type(exc).__name__}: {exc}\n")
        sys.exit(1)
    sys.stdout.write(json.dumps(out) + "\n")
