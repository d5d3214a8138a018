# Sourced by the release scripts: aarch64 programs run under Debian's qemu-user-static.
# shellcheck shell=bash

# aarch64_binfmt: the kernel hands aarch64 executables to qemu (needed in a chroot, where nobody
# types qemu-aarch64-static). Debian's package registers the handler only where systemd-binfmt or
# binfmt-support's service runs; in a container neither does, so mount binfmt_misc and enable it.
# The handler has the F flag: the kernel keeps qemu open, so it works inside a chroot too.
aarch64_binfmt() {
    need_debs qemu-user-static binfmt-support
    if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
        [ "$(id -u)" = 0 ] || die "binfmt_misc is not mounted: as root, mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc"
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    fi
    if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
        [ "$(id -u)" = 0 ] || die "register qemu-aarch64 with binfmt_misc: update-binfmts --enable qemu-aarch64"
        update-binfmts --enable qemu-aarch64
    fi
    grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 ||
        die "the qemu-aarch64 binfmt handler lacks the F flag: it cannot run programs inside a chroot"
}
