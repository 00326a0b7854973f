#!/usr/bin/env bash
# Runs every test of the workspace on a fresh machine: installs the real MCP clients the
# tests drive (pinned, into .tools/), then the unit, integration, compile-fail and doc tests,
# builds the docs with warnings denied, and runs the official MCP conformance suite on both
# protocol revisions, and on both again through nginx in front of three replicas that share
# a Redis.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-test-tools.sh
cargo test --workspace --all-features
# The runtime's own tests again with the pure-Rust signature backend instead of aws-lc-rs.
cargo test -p mcp-runtime --no-default-features --features testing,dev-auth,rust-crypto --lib
RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps --all-features --quiet
bash scripts/conformance.sh
# The same suite through nginx in front of three replicas (round-robin, no affinity)
# sharing their sessions in Redis.
bash scripts/conformance.sh --replicas 3
echo "all tests passed"
