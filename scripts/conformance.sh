#!/usr/bin/env bash
# Runs the official MCP conformance suite (pinned in tests/conformance/) against
# examples/everything.rs, once per protocol revision:
#
#   bash scripts/conformance.sh                  # --requirements 2025-11-25 and 2026-07-28
#   bash scripts/conformance.sh 2026-07-28       # one revision
#   bash scripts/conformance.sh --replicas 3 2026-07-28
#
# With --replicas N, N processes of the example share one Redis (a redis-server of the
# run's own on a free port, MCP_REDIS_URL) and one request-state key ring
# (MCP_REQUEST_STATE_KEYS), behind nginx with plain round-robin (no affinity), and the
# suite talks to nginx: every request may land on another replica. Output then goes to
# target/conformance/replicas/<revision>/.
#
# Each revision's checks go to target/conformance/<revision>/checks.json (every check of
# every scenario, scored or not) and a summary is printed. A scored failure fails the run,
# unless tests/conformance/expected-failures-<revision>.yml lists it; an entry there that
# passes fails the run too, so the list cannot go stale.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

replicas=0
if [[ "${1:-}" == --replicas ]]; then
    replicas="$2"
    shift 2
fi
revisions=("$@")
[[ ${#revisions[@]} -gt 0 ]] || revisions=(2025-11-25 2026-07-28)

bash scripts/install-test-tools.sh >/dev/null
node="$root/.tools/conformance/node_modules/.bin/node"
suite="$root/.tools/conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js"

cargo build --quiet -p mcp-tests --example everything
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
server_bin="$target_dir/debug/examples/everything"
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
out="$target_dir/conformance"
[[ "$replicas" -gt 0 ]] && out="$out/replicas"
mkdir -p "$out"

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

# wait_for PORT PID LOG: until PORT accepts connections; fails if PID exits first.
wait_for() {
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        kill -0 "$2" 2>/dev/null || { cat "$3" >&2; echo "conformance: $3: the process exited" >&2; exit 1; }
        sleep 0.1
    done
    echo "conformance: nothing listens on $1; see $3" >&2
    exit 1
}

if [[ "$replicas" -eq 0 ]]; then
    port="$(free_port)"
    MCP_BIND="127.0.0.1:$port" "$server_bin" >"$out/server.log" 2>&1 &
    pids+=($!)
    wait_for "$port" "${pids[-1]}" "$out/server.log"
else
    keys="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
    redis_port="$(free_port)"
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
        >"$out/redis.log" 2>&1 &
    pids+=($!)
    wait_for "$redis_port" "${pids[-1]}" "$out/redis.log"
    upstream=""
    for i in $(seq "$replicas"); do
        replica_port="$(free_port)"
        MCP_BIND="127.0.0.1:$replica_port" MCP_REQUEST_STATE_KEYS="$keys" \
            MCP_REDIS_URL="redis://127.0.0.1:$redis_port/" \
            "$server_bin" >"$out/replica-$i.log" 2>&1 &
        pids+=($!)
        wait_for "$replica_port" "${pids[-1]}" "$out/replica-$i.log"
        upstream+="        server 127.0.0.1:$replica_port;"$'\n'
    done
    port="$(free_port)"
    nginx_dir="$out/nginx"
    rm -rf "$nginx_dir"
    mkdir -p "$nginx_dir/logs"
    cat >"$nginx_dir/nginx.conf" <<CONF
daemon off;
worker_processes 1;
error_log $nginx_dir/logs/error.log warn;
pid $nginx_dir/nginx.pid;
events { worker_connections 1024; }
http {
    access_log $nginx_dir/logs/access.log;
    client_body_temp_path $nginx_dir/body;
    proxy_temp_path $nginx_dir/proxy;
    fastcgi_temp_path $nginx_dir/fastcgi;
    uwsgi_temp_path $nginx_dir/uwsgi;
    scgi_temp_path $nginx_dir/scgi;
    upstream replicas {
$upstream    }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$http_host;
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout 1h;
            proxy_next_upstream error timeout http_503;
        }
    }
}
CONF
    PATH="$PATH:/usr/sbin" nginx -p "$nginx_dir" -c "$nginx_dir/nginx.conf" >"$nginx_dir/logs/stderr.log" 2>&1 &
    pids+=($!)
    wait_for "$port" "${pids[-1]}" "$nginx_dir/logs/stderr.log"
    echo "conformance: $replicas replicas sharing Redis on 127.0.0.1:$redis_port behind nginx on 127.0.0.1:$port"
fi

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
