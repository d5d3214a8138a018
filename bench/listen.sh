#!/usr/bin/env bash
# How many messages per second `tscb listen` accepts, writing to stdout (redirected to a file:
# flushed, not synced) and with --output (a file synced before the answers; one sync covers the
# messages that arrived together), side by side with a minimal hyper listener that checks
# nothing and writes nothing: alternating rounds in one run, medians and ratios.
# Beside each rate, the CPU time each listener process used per message (all its threads, from
# /proc, read before and after each of its rounds): the load, the listener and nats-server share
# the machine's cores, so a rate says how they split them, while CPU per message says what the
# listener itself costs, as it would on a core of its own.
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
declare -A pid_of
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
    pid_of[$name]=$!
    # Up to the '/' after the port: stderr is unbuffered, so the line may still be half written.
    for _ in $(seq 400); do
        addr=$(sed -n 's|^listening on https\?://\([^/]*\)/.*|\1|p' "$out/$name.log" | head -n 1)
        [ -n "$addr" ] && break
        sleep 0.05
    done
    [ -n "$addr" ] || { echo "$name did not start:" >&2; cat "$out/$name.log" >&2; exit 1; }
}
# cpu_ns PID: the CPU time PID's threads have used, in ns. schedstat counts nanoseconds, where
# /proc/PID/stat counts 10 ms ticks (a round takes about 100 ms); a thread that ended would be
# missed, but the listeners' threads (the runtime's workers, the writer, the log) live on.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'; }
# round NAME COMMAND...: one round of load on NAME's listener, its rate to NAME.txt and the
# listener's CPU time for it to NAME.cpu.
round() {
    local name=$1 before after
    shift
    before=$(cpu_ns "${pid_of[$name]}")
    "$@" >>"$out/$name.txt"
    after=$(cpu_ns "${pid_of[$name]}")
    echo $((after - before)) >>"$out/$name.cpu"
}
# per_message NAME: µs of CPU per message, the median of NAME's rounds (a round that meets a
# busier machine costs more: the runtime's workers switch and search more).
per_message() {
    awk -v m="$messages" '{printf "%.4f\n", $1 / 1000 / m}' "$out/$1.cpu" >"$out/$1.cpu-per-message"
    median "$out/$1.cpu-per-message"
}
rm -f "$out/messages.jsonl"
start minimal "$bench" minimal 127.0.0.1:0; minimal=$addr
start stdout "$tscb" listen --listen 127.0.0.1:0 --any-source; stdout=$addr
start file "$tscb" listen --listen 127.0.0.1:0 --any-source --output "$out/messages.jsonl"; file=$addr

names=(minimal stdout file)
for name in "${names[@]}"; do : >"$out/$name.txt"; : >"$out/$name.cpu"; done
for round in $(seq "$rounds"); do
    # Rotate the order, so that none always meets a warmer or colder machine.
    for i in 0 1 2; do
        name=${names[$(((round + i) % 3))]}
        round "$name" "$bench" load "${!name}" "$messages" "$connections"
    done
done
median() { sort -n "$1" | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
m=$(median "$out/minimal.txt"); s=$(median "$out/stdout.txt"); f=$(median "$out/file.txt")
written=$(wc -l <"$out/messages.jsonl")
echo "tscb listen vs a minimal listener: $rounds rotating rounds of $messages messages over $connections connections"
printf '  minimal (no checks, no writes): %8.0f messages/s\n' "$m"
printf '  tscb listen, stdout:            %8.0f messages/s  (%.2f of minimal)\n' "$s" "$(awk -v a="$s" -v b="$m" 'BEGIN {print a / b}')"
printf '  tscb listen --output (fsync):   %8.0f messages/s  (%.2f of minimal; %d lines written)\n' "$f" "$(awk -v a="$f" -v b="$m" 'BEGIN {print a / b}')" "$written"
# Messages per CPU-second relative to another: its CPU per message over this one's.
per_core() { awk -v a="$1" -v b="$2" 'BEGIN {print b / a}'; }
cm=$(per_message minimal); cs=$(per_message stdout); cf=$(per_message file)
echo "  CPU per message, the listener process alone:"
printf '    minimal:                      %8.2f µs\n' "$cm"
printf '    tscb listen, stdout:          %8.2f µs  (%.2f of minimal per CPU-second)\n' "$cs" "$(per_core "$cs" "$cm")"
printf '    tscb listen --output (fsync): %8.2f µs  (%.2f of minimal per CPU-second)\n' "$cf" "$(per_core "$cf" "$cm")"

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
for name in "${nats_names[@]}"; do : >"$out/$name.txt"; : >"$out/$name.cpu"; done
for round in $(seq "$rounds"); do
    for i in 0 1 2 3; do
        name=${nats_names[$(((round + i) % 4))]}
        case $name in
            # It measures its own CPU (getrusage): its rate, then its CPU time in ns.
            publisher)
                "$bench" nats-publish "$nats" tscb.bench "$messages" "$connections" | {
                    read -r rate cpu
                    echo "$rate" >>"$out/publisher.txt"
                    echo "$cpu" >>"$out/publisher.cpu"
                }
                ;;
            minimal_nats) round minimal_nats "$bench" load "$minimal_nats" "$messages" "$connections" ;;
            nats1) round nats1 "$bench" load "$nats1" "$messages" "$connections" ;;
            nats2) "$bench" load "$nats1,$nats2" "$messages" "$connections" >>"$out/nats2.txt" ;;
        esac
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
cp=$(per_message publisher); cmn=$(per_message minimal_nats); cn=$(per_message nats1)
echo "  CPU per message, each process alone (nats-server not counted):"
printf '    bare publisher:               %8.2f µs\n' "$cp"
printf '    minimal listener + publish:   %8.2f µs  (%.2f of the bare publisher per CPU-second)\n' "$cmn" "$(per_core "$cmn" "$cp")"
printf '    tscb listen --nats:           %8.2f µs  (%.2f of minimal + publish, %.2f of the bare publisher per CPU-second)\n' "$cn" "$(per_core "$cn" "$cmn")" "$(per_core "$cn" "$cp")"
