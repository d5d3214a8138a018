#!/usr/bin/env bash
# How many messages per second `tscb listen` accepts, writing to stdout (redirected to a file:
# flushed, not synced) and with --output (a file synced before the answers; one sync covers the
# messages that arrived together), side by side with a minimal hyper listener that checks
# nothing and writes nothing: alternating rounds in one run, medians and ratios.
# Bounded: TSCB_LISTEN_ROUNDS rounds (5) of TSCB_LISTEN_MESSAGES messages (2000) over
# TSCB_LISTEN_CONNECTIONS connections (8) each, all on loopback.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rounds=${TSCB_LISTEN_ROUNDS:-5}
messages=${TSCB_LISTEN_MESSAGES:-2000}
connections=${TSCB_LISTEN_CONNECTIONS:-8}
target="${CARGO_TARGET_DIR:-$root/target}"
out="$target/bench/listen"
mkdir -p "$out"
cargo build --release --locked -q -p tscb-cli --bin tscb --example listen_bench
tscb="$target/release/tscb"
bench="$target/release/examples/listen_bench"

pids=()
trap 'rc=$?; for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; exit $rc' EXIT
# start NAME COMMAND...: runs a listener on a free port, sets $addr from its first stderr line.
start() {
    local name=$1
    shift
    # Emptied here: the child's own redirection may come after the first read below, which
    # would then find the previous run's port.
    : >"$out/$name.log"
    "$@" >"$out/$name.stdout" 2>>"$out/$name.log" &
    pids+=($!)
    # Up to the '/' after the port: stderr is unbuffered, so the line may still be half written.
    for _ in $(seq 400); do
        addr=$(sed -n 's|^listening on https\?://\([^/]*\)/.*|\1|p' "$out/$name.log" | head -n 1)
        [ -n "$addr" ] && break
        sleep 0.05
    done
    [ -n "$addr" ] || { echo "$name did not start:" >&2; cat "$out/$name.log" >&2; exit 1; }
}
rm -f "$out/messages.jsonl"
start minimal "$bench" minimal 127.0.0.1:0; minimal=$addr
start stdout "$tscb" listen --listen 127.0.0.1:0 --any-source; stdout=$addr
start file "$tscb" listen --listen 127.0.0.1:0 --any-source --output "$out/messages.jsonl"; file=$addr

names=(minimal stdout file)
for name in "${names[@]}"; do : >"$out/$name.txt"; done
for round in $(seq "$rounds"); do
    # Rotate the order, so that none always meets a warmer or colder machine.
    for i in 0 1 2; do
        name=${names[$(((round + i) % 3))]}
        "$bench" load "${!name}" "$messages" "$connections" >>"$out/$name.txt"
    done
done
median() { sort -n "$1" | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
m=$(median "$out/minimal.txt"); s=$(median "$out/stdout.txt"); f=$(median "$out/file.txt")
written=$(wc -l <"$out/messages.jsonl")
echo "tscb listen vs a minimal listener: $rounds rotating rounds of $messages messages over $connections connections"
printf '  minimal (no checks, no writes): %8.0f messages/s\n' "$m"
printf '  tscb listen, stdout:            %8.0f messages/s  (%.2f of minimal)\n' "$s" "$(awk -v a="$s" -v b="$m" 'BEGIN {print a / b}')"
printf '  tscb listen --output (fsync):   %8.0f messages/s  (%.2f of minimal; %d lines written)\n' "$f" "$(awk -v a="$f" -v b="$m" 'BEGIN {print a / b}')" "$written"

# tscb listen --nats against the same HTTP front publishing each body to JetStream and answering
# after the ack, with no checks (minimal-nats: the fair comparison, behind the same load), and
# against a bare async-nats publisher with no HTTP at all (the most NATS could take here); then
# the end-to-end figure with two instances behind one load. All into one nats-server (JetStream,
# file storage), in rotating rounds.
if ! command -v nats-server >/dev/null; then
    echo "  (--nats not measured: nats-server is not installed; apt-get install nats-server)"
    exit 0
fi
nats_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
rm -rf "$out/nats"
nats-server -js -a 127.0.0.1 -p "$nats_port" -sd "$out/nats" >"$out/nats-server.log" 2>&1 &
pids+=($!)
nats="nats://127.0.0.1:$nats_port"
for _ in $(seq 100); do "$bench" nats-stream "$nats" tscb.bench 2>/dev/null && break; sleep 0.1; done
start minimal_nats "$bench" minimal-nats 127.0.0.1:0 "$nats" tscb.bench; minimal_nats=$addr
start nats1 "$tscb" listen --listen 127.0.0.1:0 --any-source --nats "$nats" --nats-subject tscb.bench; nats1=$addr
start nats2 "$tscb" listen --listen 127.0.0.1:0 --any-source --nats "$nats" --nats-subject tscb.bench; nats2=$addr
nats_names=(publisher minimal_nats nats1 nats2)
for name in "${nats_names[@]}"; do : >"$out/$name.txt"; done
for round in $(seq "$rounds"); do
    for i in 0 1 2 3; do
        name=${nats_names[$(((round + i) % 4))]}
        case $name in
            publisher) "$bench" nats-publish "$nats" tscb.bench "$messages" "$connections" ;;
            minimal_nats) "$bench" load "$minimal_nats" "$messages" "$connections" ;;
            nats1) "$bench" load "$nats1" "$messages" "$connections" ;;
            nats2) "$bench" load "$nats1,$nats2" "$messages" "$connections" ;;
        esac >>"$out/$name.txt"
    done
done
p=$(median "$out/publisher.txt"); mn=$(median "$out/minimal_nats.txt")
n1=$(median "$out/nats1.txt"); n2=$(median "$out/nats2.txt")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {print a / b}'; }
echo "tscb listen --nats: $rounds rotating rounds of $messages messages, $connections at a time"
printf '  bare publisher (no HTTP):       %8.0f messages/s\n' "$p"
printf '  minimal listener + publish:     %8.0f messages/s  (%.2f of the bare publisher)\n' "$mn" "$(ratio "$mn" "$p")"
printf '  tscb listen --nats, one:        %8.0f messages/s  (%.2f of minimal + publish; %.2f of the bare publisher)\n' "$n1" "$(ratio "$n1" "$mn")" "$(ratio "$n1" "$p")"
printf '  tscb listen --nats, two:        %8.0f messages/s  (end to end, the load over both)\n' "$n2"
