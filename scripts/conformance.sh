#!/usr/bin/env bash
# Runs the official MCP conformance suite (pinned in tests/conformance/) against
# examples/everything.rs, once per protocol revision:
#
#   bash scripts/conformance.sh                  # --requirements 2025-11-25 and 2026-07-28
#   bash scripts/conformance.sh 2026-07-28       # one revision
#
# Each revision's checks go to target/conformance/<revision>/checks.json (every check of
# every scenario, scored or not) and a summary is printed. A scored failure fails the run,
# unless tests/conformance/expected-failures-<revision>.yml lists it; an entry there that
# passes fails the run too, so the list cannot go stale.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

revisions=("$@")
[[ ${#revisions[@]} -gt 0 ]] || revisions=(2025-11-25 2026-07-28)

bash scripts/install-test-tools.sh >/dev/null
node="$root/.tools/conformance/node_modules/.bin/node"
suite="$root/.tools/conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js"

cargo build --quiet -p mcp-tests --example everything
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
server_bin="$target_dir/debug/examples/everything"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
out="$target_dir/conformance"
mkdir -p "$out"

MCP_BIND="127.0.0.1:$port" "$server_bin" >"$out/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$out/server.log" >&2; echo "conformance: the server exited" >&2; exit 1; }
    sleep 0.1
done

status=0
for revision in "${revisions[@]}"; do
    dir="$out/$revision"
    rm -rf "$dir"
    mkdir -p "$dir"
    args=(server --url "http://127.0.0.1:$port/mcp" --requirements "$revision" -o "$dir/raw")
    baseline="tests/conformance/expected-failures-$revision.yml"
    [[ -f "$baseline" ]] && args+=(--expected-failures "$baseline")
    echo "conformance: $revision"
    if "$node" "$suite" "${args[@]}" >"$dir/output.txt" 2>&1; then
        result=passed
    else
        result=FAILED
        status=1
    fi
    python3 - "$dir" "$revision" "$result" <<'PY'
import json, pathlib, sys
dir, revision, result = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
checks = []
for f in sorted(dir.glob("raw/*/checks.json")):
    scenario = f.parent.name.removeprefix("server-").rsplit("-", 3)[0]
    for check in json.loads(f.read_text()):
        check["scenario"] = scenario
        checks.append(check)
(dir / "checks.json").write_text(json.dumps(checks, indent=2) + "\n")
by = {}
for c in checks:
    by.setdefault(c["status"], []).append(c)
counts = ", ".join(f"{len(v)} {k.lower()}" for k, v in sorted(by.items()))
print(f"  {revision}: {result}; {len(checks)} checks: {counts}")
for c in by.get("FAILURE", []):
    print(f"    FAILURE {c['scenario']}: {c['id']}: {c.get('errorMessage', '')[:160]}")
PY
    tail -n 15 "$dir/output.txt" | sed 's/^/    /'
done
exit "$status"
