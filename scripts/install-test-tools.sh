#!/usr/bin/env bash
# Installs the real MCP clients used by tests/real_clients.rs into <repo>/.tools/
# (git-ignored):
#
#   .tools/node/node_modules/   official TypeScript SDK, exactly as pinned by
#                               tests/e2e/package.json + package-lock.json (npm ci)
#   .tools/bin/node             symlink to the node binary the TS client runs with
#   .tools/py/                  Python venv with the official Python SDK, exactly as
#                               pinned by tests/e2e/requirements.txt
#
# and, when missing, nginx and redis-server from Debian's packages (apt-get, as root) for
# the replica runs (nginx as the load balancer, Redis as the store they share), and
# chromium for the sign-in page.
#
# Idempotent: each half is skipped when its stamp file records the same pins
# (sha256 of the pin files, plus the interpreter version for the venv).
# Prints one line on success; on failure prints the installer's log to stderr
# and exits non-zero.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$script_dir/.." && pwd)"
e2e="$root/tests/e2e"
tools="$root/.tools"
logs="$tools/logs"

# The TS SDK's package.json declares engines.node ">=18"; the machine's node is used.
min_node_major=18

die() {
    echo "install-test-tools: error: $*" >&2
    exit 1
}

# run_logged LOGFILE CMD... : run CMD with all output sent to LOGFILE; on failure
# show the log and stop.
run_logged() {
    local log="$1"
    shift
    if ! "$@" >"$log" 2>&1; then
        echo "install-test-tools: command failed: $*" >&2
        echo "---- $log ----" >&2
        cat "$log" >&2
        echo "----" >&2
        exit 1
    fi
}

hash_files() {
    cat "$@" | sha256sum | cut -d' ' -f1
}

for f in package.json package-lock.json requirements.txt; do
    [[ -f "$e2e/$f" ]] || die "missing $e2e/$f"
done

mkdir -p "$tools" "$logs" "$tools/bin"

# Serialise concurrent runs (e.g. two test binaries starting at once).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$tools/.install.lock"
    flock 9
fi

started=$SECONDS
did=()

# ---------------------------------------------------------------- node + TS SDK
node_bin="$(command -v node || true)"
[[ -n "$node_bin" ]] || die "node not found on PATH (need Node >= $min_node_major; Debian: apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 || die "npm not found on PATH (Debian: apt-get install npm)"
node_version="$("$node_bin" --version)"
node_major="${node_version#v}"
node_major="${node_major%%.*}"
[[ "$node_major" =~ ^[0-9]+$ ]] || die "cannot parse node version '$node_version' from $node_bin"
((node_major >= min_node_major)) || die "$node_bin is $node_version; the TypeScript SDK needs Node >= $min_node_major"
ln -sfn "$node_bin" "$tools/bin/node"

node_dir="$tools/node"
node_stamp="$node_dir/.stamp"
node_want="$(hash_files "$e2e/package.json" "$e2e/package-lock.json")"
if [[ ! -f "$node_stamp" || "$(cat "$node_stamp")" != "$node_want" ||
    ! -f "$node_dir/node_modules/@modelcontextprotocol/sdk/package.json" ]]; then
    rm -rf "$node_dir"
    mkdir -p "$node_dir"
    cp "$e2e/package.json" "$e2e/package-lock.json" "$node_dir/"
    run_logged "$logs/npm-ci.log" \
        npm ci --prefix "$node_dir" --no-audit --no-fund --ignore-scripts --loglevel=warn
    echo "$node_want" >"$node_stamp"
    did+=("npm ci")
fi

# ---------------------------------------------------------------- python venv + SDK
python_bin="$(command -v python3 || true)"
[[ -n "$python_bin" ]] || die "python3 not found on PATH (Debian: apt-get install python3 python3-venv)"
python_version="$("$python_bin" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"

py_dir="$tools/py"
py_stamp="$py_dir/.stamp"
py_want="$( (cat "$e2e/requirements.txt"; echo "python $python_version") | sha256sum | cut -d' ' -f1)"
if [[ ! -f "$py_stamp" || "$(cat "$py_stamp")" != "$py_want" || ! -x "$py_dir/bin/python" ]]; then
    rm -rf "$py_dir"
    if ! "$python_bin" -m venv "$py_dir" >"$logs/venv.log" 2>&1; then
        cat "$logs/venv.log" >&2
        die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    fi
    run_logged "$logs/pip.log" \
        "$py_dir/bin/python" -m pip install --disable-pip-version-check --no-input \
        --require-virtualenv -r "$e2e/requirements.txt"
    run_logged "$logs/pip-check.log" "$py_dir/bin/python" -m pip check --disable-pip-version-check
    echo "$py_want" >"$py_stamp"
    did+=("pip install")
fi

# Smoke-check that both SDKs load (cheap; catches a half-broken .tools/).
run_logged "$logs/smoke-node.log" "$tools/bin/node" --input-type=module -e \
    "await import('$node_dir/node_modules/@modelcontextprotocol/sdk/dist/esm/client/streamableHttp.js')"
run_logged "$logs/smoke-py.log" "$py_dir/bin/python" -c 'import mcp.client.streamable_http, mcp'

if ((${#did[@]})); then
    status="installed (${did[*]}) in $((SECONDS - started))s"
else
    status="up to date"
fi
echo "install-test-tools: node $node_version ($node_bin), python $python_version; .tools $status"

# ====================================================================================
# Authorization server for tests/oauth_e2e.rs (separate block, appended; keeps the
# part above unchanged). Installs oidc-provider, exactly as pinned by
# tests/e2e/as/package.json + package-lock.json (npm ci), into
#
#   .tools/as/node_modules/     run by tests/e2e/as/server.mjs with .tools/bin/node
#
# Skipped when .tools/as/.stamp records the same pins. Prints one more line.
# ====================================================================================
as_src="$root/tests/e2e/as"
as_dir="$tools/as"
as_stamp="$as_dir/.stamp"
as_started=$SECONDS
for f in package.json package-lock.json server.mjs; do
    [[ -f "$as_src/$f" ]] || die "missing $as_src/$f"
done
as_want="$(hash_files "$as_src/package.json" "$as_src/package-lock.json")"
if [[ ! -f "$as_stamp" || "$(cat "$as_stamp")" != "$as_want" ||
    ! -f "$as_dir/node_modules/oidc-provider/package.json" ]]; then
    rm -rf "$as_dir"
    mkdir -p "$as_dir"
    cp "$as_src/package.json" "$as_src/package-lock.json" "$as_dir/"
    run_logged "$logs/npm-ci-as.log" \
        npm ci --prefix "$as_dir" --no-audit --no-fund --ignore-scripts --loglevel=warn
    echo "$as_want" >"$as_stamp"
    as_status="installed in $((SECONDS - as_started))s"
else
    as_status="up to date"
fi
run_logged "$logs/smoke-as.log" "$tools/bin/node" --input-type=module -e \
    "await import('$as_dir/node_modules/oidc-provider/lib/index.js')"
as_version="$("$tools/bin/node" -p "require('$as_dir/node_modules/oidc-provider/package.json').version")"
echo "install-test-tools: oidc-provider $as_version in .tools/as $as_status"

# ====================================================================================
# The official MCP conformance suite for scripts/conformance.sh, with the Node.js 22 it
# needs (npm package `node`), exactly as pinned by tests/conformance/package.json +
# package-lock.json, into .tools/conformance/. Skipped when its stamp matches.
# ====================================================================================
cf_src="$root/tests/conformance"
cf_dir="$tools/conformance"
cf_stamp="$cf_dir/.stamp"
cf_started=$SECONDS
cf_want="$(hash_files "$cf_src/package.json" "$cf_src/package-lock.json")"
if [[ ! -f "$cf_stamp" || "$(cat "$cf_stamp")" != "$cf_want" ||
    ! -x "$cf_dir/node_modules/.bin/node" ]]; then
    rm -rf "$cf_dir"
    mkdir -p "$cf_dir"
    cp "$cf_src/package.json" "$cf_src/package-lock.json" "$cf_dir/"
    # The `node` package installs its platform binary from the registry in a preinstall
    # script, so scripts run here.
    run_logged "$logs/npm-ci-conformance.log" \
        npm ci --prefix "$cf_dir" --no-audit --no-fund --loglevel=warn
    echo "$cf_want" >"$cf_stamp"
    cf_status="installed in $((SECONDS - cf_started))s"
else
    cf_status="up to date"
fi
run_logged "$logs/smoke-conformance.log" "$cf_dir/node_modules/.bin/node" --version
cf_node_version="$(cat "$logs/smoke-conformance.log")"
[[ "$cf_node_version" == v22.* ]] || die "the conformance suite needs Node.js 22, got '$cf_node_version'"
cf_version="$("$cf_dir/node_modules/.bin/node" -p "require('$cf_dir/node_modules/@modelcontextprotocol/conformance/package.json').version")"
echo "install-test-tools: conformance $cf_version on node $cf_node_version in .tools/conformance $cf_status"

# Debian packages the replica tests run for real: nginx as the load balancer, Redis as the
# shared store. The versions are Debian's (bookworm: nginx 1.22.1, Redis 7.0); apt-get
# refreshes its lists only when the first try fails.
apt_install() {
    local command="$1" package="$2"
    command -v "$command" >/dev/null 2>&1 && return 0
    [[ "$(id -u)" == 0 ]] || die "$command not found and not root to install it (Debian: apt-get install $package)"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q "$package" >"$logs/apt-$package.log" 2>&1; then
        run_logged "$logs/apt-update.log" apt-get update -q
        run_logged "$logs/apt-$package.log" apt-get install -y -q "$package"
    fi
    command -v "$command" >/dev/null 2>&1 || die "$package installed but $command is not on PATH"
}
PATH="$PATH:/usr/sbin"
apt_install nginx nginx-light
apt_install redis-server redis-server
# Chromium, driven by playwright-core (pinned in tests/e2e/package.json) through the
# development authorization server's sign-in page.
apt_install chromium chromium
run_logged "$logs/smoke-playwright.log" "$tools/bin/node" --input-type=module -e \
    "await import('$node_dir/node_modules/playwright-core/index.mjs')"
# The package starts a system-wide server on 6379; the tests start their own on ports of
# their own, so it is left as Debian configures it.
echo "install-test-tools: $(nginx -v 2>&1); $(redis-server --version | cut -d' ' -f1-3); $(chromium --version 2>/dev/null | head -1)"
