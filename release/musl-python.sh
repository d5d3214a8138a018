#!/usr/bin/env bash
# The x86_64 musllinux wheel run, not only audited: a CPython built from Debian's own sources with
# Debian's musl-gcc (linked dynamically against musl; only static links of Rust code need zig),
# cached in target/musl-python, runs release/smoke.py against tscb-sim with the wheel unpacked
# into its site-packages. The extension names musl's libc as musl systems do,
# libc.musl-x86_64.so.1: a link to Debian's musl in a directory on LD_LIBRARY_PATH stands in.
#   release/musl-python.sh WHEEL VERSION   (test-dist.sh; needs tscb-sim built)
#   release/musl-python.sh --build         (only the CPython: .ci/run starts it in the background;
#                                           a lock makes the other wait for a build under way)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=release/common.sh
. release/common.sh
need_debs musl-tools debian-archive-keyring

pyver=3.11
prefix="$target/musl-python/$pyver"
mkdir -p "$target/musl-python"
exec 9>"$target/musl-python/lock"
flock 9
if [ ! -x "$prefix/bin/python$pyver" ]; then
    echo "== CPython $pyver for musl, from Debian's sources"
    start=$(date +%s)
    src="$target/musl-python/src"
    rm -rf "$src" "$prefix"
    mkdir -p "$src/apt/lists/partial" "$src/apt/cache/archives/partial"
    # Debian's source package through apt, with a source list of our own (the system's may have
    # no deb-src line, and is not ours to change).
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" >"$src/apt/sources.list"
    apt=(apt-get -q -o Dir::Etc::SourceList="$src/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o Dir::State::Lists="$src/apt/lists" -o Dir::Cache="$src/apt/cache" -o APT::Sandbox::User=root)
    "${apt[@]}" update >/dev/null
    (cd "$src" && "${apt[@]}" source --download-only "python$pyver" >/dev/null)
    tar -xzf "$src"/python"$pyver"_*.orig.tar.gz -C "$src"
    # musl-gcc wraps the host's gcc, which names glibc's multiarch; CPython's configure checks it.
    cat >"$src/cc" <<'CC'
#!/bin/sh
case "$1" in -print-multiarch | --print-multiarch) echo x86_64-linux-musl; exit 0 ;; esac
exec musl-gcc "$@"
CC
    chmod +x "$src/cc"
    # Without the optional libraries (ssl, zlib, ffi, ...): the smoke test needs none of them.
    (cd "$src"/Python-"$pyver".* && ./configure -q CC="$src/cc" --prefix="$prefix" --without-ensurepip \
        --disable-test-modules >"$src/configure.log" 2>&1 && make -s -j"$(nproc)" >"$src/make.log" 2>&1 &&
        make -s install >"$src/install.log" 2>&1) || { tail -n 30 "$src"/*.log >&2; die "CPython did not build with musl-gcc"; }
    rm -rf "$src"
    echo "CPython $pyver for musl built in $(($(date +%s) - start)) s"
fi
flock -u 9
[ "${1:-}" = --build ] && exit 0
wheel_file=$1 want_version=$2
py="$prefix/bin/python$pyver"
readelf -lW "$py" | grep -q 'ld-musl-x86_64' || die "$py is not a musl program"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tscb-musl-python.XXXXXX")
sim_log="$tmp/sim.log"
# shellcheck source=tests/sim.sh
. "$root/tests/sim.sh"
trap 'rc=$?; stop_sim; rm -rf "$tmp"; exit $rc' EXIT
site="$tmp/site-packages" # a directory of that name: smoke.py checks the module is installed
mkdir -p "$site" "$tmp/lib"
python3 -m zipfile -e "$wheel_file" "$site" # (this CPython lacks binascii: no zlib)
ln -s "$(realpath /usr/lib/x86_64-linux-musl/libc.so)" "$tmp/lib/libc.musl-x86_64.so.1"
start_sim
(cd "$tmp" && env -i PATH=/usr/bin:/bin HOME="$tmp" LANG=C.UTF-8 LD_LIBRARY_PATH="$tmp/lib" PYTHONPATH="$site" \
    THINGSPACE_BASE_URL="$TSCB_SIM_URL" THINGSPACE_BEARER_TOKEN="$(sim_credential "bearer token")" \
    THINGSPACE_SESSION_TOKEN="$(sim_credential "session token")" "$py" "$root/release/smoke.py" "$want_version")
echo "musllinux x86_64 wheel: smoke test passed on CPython $("$py" -c 'import platform; print(platform.python_version())') built for musl"
