# Sourced by tests/c/run.sh and release/test-dist.sh: start and stop the processes the tests
# talk to. Needs $target (cargo's target directory, with release builds of tscb-sim) and
# $sim_log (where the simulator's output goes).

# wait_for_url LOG: waits up to 5 s for LOG's first line, "listening on URL" (tscb-sim) or
# "proxying on URL" (tscb-connect-proxy), and sets $started_url to the URL.
wait_for_url() {
    local line
    for _ in $(seq 100); do
        line=$(head -n 1 "$1" 2>/dev/null || true)
        case "$line" in "listening on "* | "proxying on "*) started_url="${line##* }"; return 0 ;; esac
        sleep 0.05
    done
    echo "$1: did not start: $(cat "$1")" >&2
    return 1
}

sim_pid=
stop_sim() {
    if [ -n "$sim_pid" ]; then
        kill "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
        sim_pid=
    fi
}

# start_sim: a fresh tscb-sim on a free port (each test program registers and expects to find
# what it registered); exports its base URL as TSCB_SIM_URL, and its banner (which holds the
# test credentials, read with sim_credential) as TSCB_SIM_BANNER.
start_sim() {
    stop_sim
    # Removed first: otherwise the wait could read the previous simulator's line before the new
    # process has truncated the file, and the tests would talk to a port nobody listens on.
    rm -f "$sim_log"
    "$target/release/tscb-sim" --listen 127.0.0.1:0 >"$sim_log" 2>&1 &
    sim_pid=$!
    wait_for_url "$sim_log" || return 1
    export TSCB_SIM_URL="$started_url"
    # The banner's last line: the credentials above it are written by then.
    for _ in $(seq 100); do
        grep -q '^accounts: ' "$sim_log" && break
        sleep 0.05
    done
    export TSCB_SIM_BANNER="$sim_log"
}

# sim_credential LABEL: the value of the banner's line "LABEL: value", e.g. "bearer token".
sim_credential() {
    sed -n "s/^$1: //p" "$sim_log" | head -n 1
}
