#!/usr/bin/env bash
# Instructions and cache misses per request of one server under callgrind, repeatable
# whatever else the machine does. Usage:
#   bash bench/callgrind.sh [KIND [WORKLOAD [STYLE]]]      defaults: ours W1 2026
# e.g. `bash bench/callgrind.sh bare W1 2026`, `bash bench/callgrind.sh ours-list W3 2025`,
# `bash bench/callgrind.sh ours-oauth-small-cache W2u` (a test issuer is started for W2u),
# `bash bench/callgrind.sh ours-mirrored W1m` (W1 with `a` also sent in `Mcp-Param-A`).
# The server starts under valgrind with instrumentation off, takes 2 s of untimed load, then
# 4 s with instrumentation on at 4 connections; the totals are divided by the requests
# answered meanwhile. Needs valgrind (Debian's package).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
kind=${1:-ours}
workload=${2:-W1}
style=${3:-2026}
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
cargo build --release --quiet
bench=target/release/bench
out=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
issuer_args=()
load_args=()
if [ "$workload" = W2u ]; then
    taskset -c 1 "$bench" issuer --for-port "$port" --tokens "$out/tokens" >"$out/issuer.url" &
    issuer=$!
    for _ in $(seq 1 600); do [ -s "$out/issuer.url" ] && break; sleep 0.1; done
    issuer_args=(--issuer "$(cat "$out/issuer.url")")
    load_args=(--tokens "$out/tokens")
fi
taskset -c 0 valgrind --tool=callgrind --instr-atstart=no --cache-sim=yes \
    --callgrind-out-file="$out/callgrind.out" "$bench" server "$kind" --port "$port" "${issuer_args[@]}" \
    2>"$out/valgrind.log" &
server=$!
trap 'kill $server ${issuer:-} 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$out"' EXIT
for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.1
done
load() { taskset -c 1 "$bench" load "$workload" --port "$port" --style "$style" --concurrency 4 --warmup 0 --duration "$1" "${load_args[@]}"; }
load 2 >/dev/null
callgrind_control --instr=on "$server" >/dev/null 2>&1
# W2u: tokens the warm-up did not send, so that none is in the server's cache.
[ "$workload" = W2u ] && load_args+=(--from 8192)
answered=$(load 4)
callgrind_control --instr=off "$server" >/dev/null 2>&1
callgrind_control --dump "$server" >/dev/null 2>&1
kill "$server"; wait "$server" 2>/dev/null || true
rate=$(sed -E 's/.*: ([0-9]+) ops\/s.*/\1/' <<<"$answered")
requests=$((rate * 4))
callgrind_annotate "$out"/callgrind.out.* >"$out/annotated" 2>/dev/null
python3 - "$kind" "$workload" "$style" "$requests" "$out/annotated" <<'PY'
import re, sys
kind, workload, style, requests, path = sys.argv[1:]
annotated = open(path).read()
requests = int(requests)
events = next(l for l in annotated.splitlines() if l.startswith("Events shown:")).split()[2:]
totals = next(l for l in annotated.splitlines() if l.endswith("PROGRAM TOTALS") and "%" in l)
numbers = [int(n.replace(",", "")) for n in re.findall(r"([\d,]+) \(", totals)]
figures = dict(zip(events, numbers))
print(f"{kind} {workload} {style}: {requests} requests under callgrind, per request:")
for name, label in [("Ir", "instructions"), ("I1mr", "L1 instruction-cache misses"),
                    ("D1mr", "L1 data-cache read misses"), ("D1mw", "L1 data-cache write misses"),
                    ("ILmr", "last-level instruction-cache misses")]:
    if name in figures:
        print(f"  {label:38} {figures[name] / max(requests, 1):>12,.0f}")
PY
