#!/usr/bin/env bash
# The arm64 Debian root that release/test-arm64.sh runs the aarch64 artifacts in: mmdebstrap from
# Debian's packages under qemu-user-static, cached in target/arm64/root and rebuilt when the
# package list changes. Its own script so that .ci/run can start it first, in the background: most
# of its 4-9 minutes is downloading and dpkg under emulation, which overlaps the compiles. A lock
# makes a second caller (test-arm64.sh) wait for a build under way instead of starting another.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=release/common.sh
. release/common.sh
# shellcheck source=release/qemu.sh
. release/qemu.sh

[ "$(id -u)" = 0 ] || die "the arm64 root needs root (chroot and mounts)"
need_debs mmdebstrap arch-test debian-archive-keyring
aarch64_binfmt

packages=python3,python3-venv,gcc,g++,libc6-dev,make,pkg-config,cmake,musl
suite=bookworm
sysroot="$target/arm64/root"
stamp="$target/arm64/packages"
mkdir -p "$target/arm64"
exec 9>"$target/arm64/lock"
flock 9
if [ "$(cat "$stamp" 2>/dev/null)" != "$suite $packages" ]; then
    echo "== arm64 root ($suite: $packages)"
    rm -rf "$sysroot" "$sysroot.tmp" "$stamp"
    start=$(date +%s)
    mmdebstrap --quiet --mode=root --arch=arm64 --variant=apt --include="$packages" \
        "$suite" "$sysroot.tmp" http://deb.debian.org/debian
    mv "$sysroot.tmp" "$sysroot"
    echo "$suite $packages" >"$stamp"
    echo "arm64 root built in $(($(date +%s) - start)) s"
fi
