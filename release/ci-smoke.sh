#!/usr/bin/env bash
# The release workflow's smoke tests on hosted runners (macOS, Windows, in bash): runs COMMAND...
# against a fresh tscb-sim on loopback, with TSCB_SIM_URL and the THINGSPACE_* variables the C
# example reads set. Needs tscb-sim built (cargo build --release -p tscb-sim).
#   bash release/ci-smoke.sh python release/smoke.py 0.1.0
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
sim_log=$(mktemp)
# shellcheck source=tests/sim.sh
. "$root/tests/sim.sh"
trap 'rc=$?; stop_sim; rm -f "$sim_log"; exit $rc' EXIT
start_sim
THINGSPACE_BASE_URL="$TSCB_SIM_URL" THINGSPACE_BEARER_TOKEN="$(sim_credential "bearer token")" \
    THINGSPACE_SESSION_TOKEN="$(sim_credential "session token")" "$@"
