#!/usr/bin/env bash
# make bench: every comparison side by side in one run, reported as ratios.
#  1. tscb against a bare reqwest::blocking request and a raw keep-alive socket, then 16 and 64
#     threads sharing a client (cargo bench, in-process simulator); targets as PASS/FAIL.
#  2. The C ABI against the Rust API: alternating rounds of the same register call against one
#     tscb-sim binary; the ratio of the medians is the cost the C layer adds.
#  3. Building a client with the platform's certificate verifier, with and without an extra CA
#     (core/examples/bench_build.rs; alternating rounds).
#  4. Python: tscb against requests and Verizon's SDK (with a raw socket and the Rust API as
#     references, pinned to one CPU), and the same client-building comparison
#     (bench/python/run.sh).
#  5. tscb apply over 1,000 accounts against a shell loop of tscb register (bench/fleet.py).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rounds=${TSCB_BENCH_ROUNDS:-21}
calls=${TSCB_BENCH_CALLS:-500}

# Pinned to one CPU: the bare reqwest::blocking client has its own runtime thread (tscb's runs on
# the caller's), and where the scheduler put those and the simulator's threads on two cores swung
# single unpinned runs from 0.67 to 1.22; pinned, four runs gave 1.010-1.015.
pin=()
if command -v taskset >/dev/null 2>&1; then pin=(taskset -c 0); fi
"${pin[@]}" cargo bench --locked -q -p tscb --bench register

target="${CARGO_TARGET_DIR:-$root/target}"
out="$target/bench"
mkdir -p "$out"
make -s install PREFIX="$out/prefix"
# Two steps: with --example, cargo builds only that example and libraries, not tscb-sim's binary.
cargo build --release --locked -q -p tscb-sim --bin tscb-sim
cargo build --release --locked -q -p tscb --example bench_calls
export PKG_CONFIG_PATH="$out/prefix/lib/pkgconfig"
# shellcheck disable=SC2046
cc -O2 -std=c11 bench/bench_register.c -o "$out/bench_register" $(pkg-config --cflags --libs tscb) \
    -Wl,-rpath,"$(pkg-config --variable=libdir tscb)"

"${pin[@]}" "$target/release/tscb-sim" >"$out/sim.log" 2>&1 &
sim_pid=$!
trap 'rc=$?; kill $sim_pid 2>/dev/null; exit $rc' EXIT
for _ in $(seq 100); do grep -q '^listening on ' "$out/sim.log" && break; sleep 0.05; done
url=$(sed -n 's/^listening on //p' "$out/sim.log" | head -n 1)
# The C round reads its tokens here, as the simulator's banner prints them (the banner's last
# line, accounts, says the tokens above it are written).
for _ in $(seq 100); do grep -q '^accounts: ' "$out/sim.log" && break; sleep 0.05; done
THINGSPACE_BEARER_TOKEN=$(sed -n 's/^bearer token: //p' "$out/sim.log")
THINGSPACE_SESSION_TOKEN=$(sed -n 's/^session token: //p' "$out/sim.log")
export THINGSPACE_BEARER_TOKEN THINGSPACE_SESSION_TOKEN
if [ -z "$url" ]; then
    echo "tscb-sim did not start:" >&2
    cat "$out/sim.log" >&2
    exit 1
fi

: >"$out/c.txt"
: >"$out/rust.txt"
for round in $(seq "$rounds"); do
    # Alternate which goes first, so neither always meets a warmer or colder machine.
    if [ $((round % 2)) -eq 0 ]; then
        "${pin[@]}" "$out/bench_register" "$url" "$calls" >>"$out/c.txt"
        "${pin[@]}" "$target/release/examples/bench_calls" "$url" "$calls" >>"$out/rust.txt"
    else
        "${pin[@]}" "$target/release/examples/bench_calls" "$url" "$calls" >>"$out/rust.txt"
        "${pin[@]}" "$out/bench_register" "$url" "$calls" >>"$out/c.txt"
    fi
done
median() { sort -n "$1" | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
c=$(median "$out/c.txt")
rust=$(median "$out/rust.txt")
echo "register_callback through the C ABI vs the Rust API: $rounds alternating rounds of $calls calls, one tscb-sim"
printf '  Rust API: %8.1f us/call (median round)\n' "$rust"
printf '  C ABI:    %8.1f us/call (median round)\n' "$c"
awk -v c="$c" -v r="$rust" 'BEGIN {printf "  ratio C/Rust: %.3f (target <= 1.05)\n", c / r}'

echo
echo "Building a client: the platform's certificate verifier, with and without an extra CA"
cargo build --release --locked -q -p tscb --example bench_build
"${pin[@]}" "$target/release/examples/bench_build"

echo
echo "Python: tscb vs a bare requests.Session vs Verizon's generated SDK (sdksio-verizon-apis-sdk)"
bash bench/python/run.sh

echo
cargo build --release --locked -q -p tscb-cli --bin tscb
# Not pinned: sixteen workers and the simulator's threads need both cores, as a user's would.
python3 bench/fleet.py "$target/release/tscb" "$target/release/tscb-sim"

echo
bash bench/listen.sh
