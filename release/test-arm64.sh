#!/usr/bin/env bash
# `make test-dist-arm64`: the aarch64 artifacts in dist/ where they run, in an arm64 Debian root
# (mmdebstrap, Debian's packages) under qemu-user-static, talking to the native tscb-sim on
# loopback (the root shares the host's network):
# - the aarch64 manylinux wheel, installed --no-index into a venv of the root's python3: the
#   smoke test (release/smoke.py);
# - the aarch64 glibc C tarball: the C example and the C++ test built by the root's gcc through
#   pkg-config and CMake find_package(tscb), shared and static, and run;
# - the aarch64 musl C tarball: the C example linked dynamically by zig, run with the root's musl.
# The root is release/arm64-root.sh's, cached in target/arm64/root; CI builds it fresh. Needs root
# (chroot, mounts) and binfmt_misc, which that script registers if need be.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=release/common.sh
. release/common.sh

[ "$(id -u)" = 0 ] || die "the arm64 root needs root (chroot and mounts)"
dist="$root/dist"
case "$version" in 0.*) soversion=${version%.*} ;; *) soversion=${version%%.*} ;; esac
tools_venv
# The root (cached; .ci/run starts building it at its start).
bash release/arm64-root.sh
sysroot="$target/arm64/root"

wheels=("$dist/tscb-$version-cp39-abi3-"*manylinux*_aarch64.whl)
[ -f "${wheels[0]}" ] || die "no aarch64 manylinux wheel in dist/ (run make dist)"
gnu_tar="$dist/libtscb-$version-aarch64-linux-gnu.tar.gz"
musl_tar="$dist/libtscb-$version-aarch64-linux-musl.tar.gz"
[ -f "$gnu_tar" ] && [ -f "$musl_tar" ] || die "missing the aarch64 C tarballs in dist/ (run make dist)"

cargo build --release --locked -q -p tscb-sim
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tscb-test-arm64.XXXXXX")
# /work in the root: what the tests use, and a copy of the sources they build.
work="$tmp/work"
mkdir -p "$work/src/release" "$work/src/examples" "$work/src/tests"
sim_log="$work/sim.log"
# shellcheck source=tests/sim.sh
. "$root/tests/sim.sh"
trap 'rc=$?; stop_sim; rm -rf "$tmp"; exit $rc' EXIT

cp "${wheels[0]}" release/smoke.py "$work/"
cp -r release/cmake "$work/src/release/"
cp -r examples/c "$work/src/examples/"
cp -r tests/cpp "$work/src/tests/"
tar -xzf "$gnu_tar" -C "$work"
tar -xzf "$musl_tar" -C "$tmp"
# The musl example, linked dynamically by the pinned zig on the host; it runs in the root, which has
# the aarch64 musl loader (Debian's musl package).
musl="$tmp/libtscb-$version-aarch64-linux-musl"
"$venv/bin/python3" -m ziglang cc -target aarch64-linux-musl -std=c11 -Wall -Werror -O2 -I"$musl/include" \
    examples/c/register.c -o "$work/register_musl" -L"$musl/lib" -ltscb -Wl,-rpath,/work/musl-lib
mkdir -p "$work/musl-lib"
cp -a "$musl/lib/." "$work/musl-lib/"

cat >"$work/run.sh" <<SCRIPT
set -eu
cd /work
export HOME=/work LANG=C.UTF-8 PATH=/usr/bin:/bin
echo "== in the arm64 root: \$(uname -m), \$(python3 --version)"
python3 -m venv venv
venv/bin/pip install -q --disable-pip-version-check --no-index --only-binary=:all: ./$(basename "${wheels[0]}")
THINGSPACE_BASE_URL=\$(cat sim-url) THINGSPACE_BEARER_TOKEN=\$(cat sim-bearer) THINGSPACE_SESSION_TOKEN=\$(cat sim-session) \\
    venv/bin/python smoke.py $version
echo "Python: the aarch64 wheel registered, listed and deregistered against tscb-sim"
prefix=/work/libtscb-$version-aarch64-linux-gnu
export PKG_CONFIG_PATH=\$prefix/lib/pkgconfig
gcc -std=c11 -Wall -Wextra -Werror -O2 \$(pkg-config --cflags tscb) src/examples/c/register.c -o register_shared \
    \$(pkg-config --libs tscb) -Wl,-rpath,\$(pkg-config --variable=libdir tscb)
gcc -std=c11 -Wall -Wextra -Werror -O2 src/examples/c/register.c -o register_static \
    \$(pkg-config --cflags --static --libs tscb | sed 's/-ltscb\b/-l:libtscb.a/')
cmake -S src/release/cmake -B cmake -DCMAKE_PREFIX_PATH=\$prefix -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build cmake >/dev/null
SCRIPT

# chroot_run CMD...: in a mount namespace of its own, so that nothing stays mounted in the root.
chroot_run() {
    unshare --mount --propagation private sh -c '
        set -e
        sysroot=$1 work=$2
        shift 2
        mount -t proc proc "$sysroot/proc"
        mkdir -p "$sysroot/work"
        mount --bind "$work" "$sysroot/work"
        exec chroot "$sysroot" "$@"' chroot_run "$sysroot" "$work" "$@"
}

start_sim
echo "$TSCB_SIM_URL" >"$work/sim-url"
# The tokens as the simulator's banner prints them: they are written once, in tscb-sim.
sim_credential "bearer token" >"$work/sim-bearer"
sim_credential "session token" >"$work/sim-session"
chroot_run /bin/sh /work/run.sh

echo "== the C programs in the arm64 root, against tscb-sim"
run_in_root() {
    local exe=$1
    start_sim
    chroot_run /usr/bin/env THINGSPACE_BASE_URL="$TSCB_SIM_URL" THINGSPACE_BEARER_TOKEN="$(sim_credential "bearer token")" \
        THINGSPACE_SESSION_TOKEN="$(sim_credential "session token")" "$exe" TestAccount-2 CarrierService https://listener.example.com/cb \
        >"$tmp/register.out" 2>&1 || die "$exe: $(cat "$tmp/register.out")"
    grep -q '^registered CarrierService for account TestAccount-2$' "$tmp/register.out" || die "$exe: $(cat "$tmp/register.out")"
}
for exe in /work/register_shared /work/register_static /work/cmake/register_shared /work/cmake/register_static; do
    run_in_root "$exe"
    echo "C, aarch64 glibc, $exe: registered against tscb-sim"
done
for variant in shared static; do
    start_sim
    chroot_run /usr/bin/env TSCB_SIM_URL="$TSCB_SIM_URL" "/work/cmake/test_cpp_$variant" ||
        die "C++, aarch64 glibc, $variant failed"
    echo "C++, aarch64 glibc, cmake, $variant: passed against tscb-sim"
done
run_in_root /work/register_musl
echo "C, aarch64 musl, dynamic (the root's musl loader): registered against tscb-sim"
echo "test-dist-arm64: all passed"
