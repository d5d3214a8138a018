#!/usr/bin/env bash
# tscb's Python package against a bare requests.Session and Verizon's generated SDK (and
# tscb.AsyncClient against httpx and aiohttp: async_bench.py): calls per
# second (with a raw socket and tscb's Rust API as references), import time, peak memory and
# runtime dependencies, all against one tscb-sim in one run. See bench.py for what is measured and how. Run from anywhere: bash bench/python/run.sh
# TSCB_PYBENCH_ROUNDS (30) and TSCB_PYBENCH_CALLS (100 a round) trade time for steadier ratios:
# a round of tscb calls lasts ~10 ms, so on a busy machine one scheduler hiccup shows.
#
# Exit status: 0 once everything was measured, targets met or not; non-zero when something
# could not be built, started or measured.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/bench-venv"
py="$venv/bin/python"
pip_quiet=(-q --disable-pip-version-check)

# A venv of its own: the SDK's 19 dependencies must not leak into the project's test
# environments, and the dependency counts must not see anything the benchmark did not install.
if [ ! -x "$py" ]; then
    python3 -m venv "$venv"
fi
# Pinned peers (a no-op once they are there). Then our package from the working tree, rebuilt
# every run so that the numbers are those of the code as it is now; with the pinned maturin
# rather than a fresh build environment, so no build tool is fetched per run (maturin's build
# hook runs the `maturin` it finds on PATH, hence the venv's bin first).
"$py" -m pip install "${pip_quiet[@]}" -r bench/python/requirements.txt
PATH="$venv/bin:$PATH" "$py" -m pip install "${pip_quiet[@]}" --no-build-isolation --force-reinstall --no-deps ./python
"$py" -m pip check >/dev/null

cargo build --release --locked -q -p tscb-sim
# Two steps: with --example, cargo builds only that example and libraries, not tscb-sim's binary.
cargo build --release --locked -q -p tscb --example bench_calls

# Pinned to one CPU, the simulator and the clients alike (as bench/run.sh pins the Rust bench),
# unless TSCB_PYBENCH_PIN=0. Unpinned, every call waits for two wake-ups across the two
# cores, which on this VM cost more than the rest of a fast call: a raw socket from Python took
# about 49 us a call, more than the 42 us that 10x the SDK asks of tscb, and rounds spread by
# +-40%. Pinned, a call costs what the client and the simulator compute, which is what is
# compared, and rounds spread by +-6%.
pin=()
if [ "${TSCB_PYBENCH_PIN:-1}" != 0 ] && command -v taskset >/dev/null 2>&1; then pin=(taskset -c 0); fi

# Nothing in this benchmark may leave the machine: no proxy may carry a loopback request
# elsewhere. (bench.py also refuses any non-loopback lookup or connection from Python.)
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

sim_log=$(mktemp)
"${pin[@]}" "$target/release/tscb-sim" --listen 127.0.0.1:0 >"$sim_log" 2>&1 &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; rm -f "$sim_log"' EXIT
for _ in $(seq 100); do
    grep -q '^listening on ' "$sim_log" && break
    sleep 0.05
done
url=$(sed -n '1s/^listening on //p' "$sim_log")
# The clients' credentials as the simulator's banner prints them (its last line, accounts, says
# the ones above it are written): bench.py and async_bench.py read them from these variables.
for _ in $(seq 100); do grep -q '^accounts: ' "$sim_log" && break; sleep 0.05; done
THINGSPACE_BEARER_TOKEN=$(sed -n 's/^bearer token: //p' "$sim_log")
THINGSPACE_SESSION_TOKEN=$(sed -n 's/^session token: //p' "$sim_log")
THINGSPACE_CLIENT_ID=$(sed -n 's/^client id: //p' "$sim_log")
THINGSPACE_CLIENT_SECRET=$(sed -n 's/^client secret: //p' "$sim_log")
export THINGSPACE_BEARER_TOKEN THINGSPACE_SESSION_TOKEN THINGSPACE_CLIENT_ID THINGSPACE_CLIENT_SECRET
case "$url" in
    http://127.0.0.1:*) ;;
    *) echo "run.sh: tscb-sim did not start:" >&2; cat "$sim_log" >&2; exit 1 ;;
esac

if [ ${#pin[@]} -gt 0 ]; then echo "(the simulator and the clients pinned to CPU 0; TSCB_PYBENCH_PIN=0 to not)"; fi
"${pin[@]}" "$py" bench/python/bench.py --base-url "$url" --rust-calls "$target/release/examples/bench_calls"

# tscb.AsyncClient vs httpx.AsyncClient vs aiohttp, against the same simulator. Sequential
# awaits and 64 concurrent tasks are bound by the CPU a call costs: pinned, as above.
echo
"${pin[@]}" "$py" bench/python/async_bench.py --base-url "$url" --modes sequential,concurrent
# 256 tasks with every answer 50 ms late are bound by latency instead: what counts is how close
# to 50 ms each call stays. Pinned to the CPU of the simulator's 256 threads, a client's threads
# queue behind them for it, and the result was the scheduler's order (tscb / aiohttp 1.00-1.02
# over 5 runs, 0.96-0.99 against nginx; bench/README.md). So the clients run as a service does,
# free to use both CPUs, while the simulator stays pinned to CPU 0.
if [ ${#pin[@]} -gt 0 ]; then echo "(the clients of the next mode not pinned, the simulator still on CPU 0)"; fi
"$py" bench/python/async_bench.py --base-url "$url" --modes delayed

# Client construction with and without an extra CA: any CA no system trusts will do, and
# `tscb-sim --tls` writes its throw-away one before it says it is listening.
ca_dir=$(mktemp -d)
"$target/release/tscb-sim" --tls --ca-out "$ca_dir/ca.pem" >"$ca_dir/log" 2>&1 &
tls_pid=$!
for _ in $(seq 100); do
    grep -q '^listening on ' "$ca_dir/log" && break
    sleep 0.05
done
kill "$tls_pid" 2>/dev/null || true
wait "$tls_pid" 2>/dev/null || true
echo
"$py" bench/python/client_build.py "$ca_dir/ca.pem"
rm -rf "$ca_dir"
