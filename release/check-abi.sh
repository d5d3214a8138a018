#!/usr/bin/env bash
# `make check-abi`: the C ABI of libtscb.so against the committed baseline ffi/pkg/libtscb.abi
# (libabigail's abidw). Fails when a function is removed or its signature, or a type the header
# shows, changes incompatibly, unless the SONAME changes too (then it says to renew the baseline).
# Additions are compatible: they pass. `make abi-baseline` (release/check-abi.sh --update) renews
# the baseline; do it when the SONAME changes, or to record additions.
#
# What is compared is tscb.h's ABI: a stand-in library with every declared function and C debug
# info (release/abi-probe.py), with the real library's SONAME; and the real libtscb.so must export
# exactly those functions (so a symbol the header forgot cannot slip past).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=release/common.sh
. release/common.sh

baseline=ffi/pkg/libtscb.abi
need_debs abigail-tools
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tscb-check-abi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The debug build: the same exports and SONAME as the release one, and usually built already.
cargo build --locked -q -p tscb-ffi
real="$target/debug/libtscb.so"
soname=$(readelf -dW "$real" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ -n "$soname" ] || die "$real has no SONAME"

mkdir -p "$tmp/probe"
python3 release/abi-probe.py include/tscb.h >"$tmp/probe/probe.c"
cc -g -O0 -shared -fPIC -Iinclude -Wall -Wno-unused-parameter -Wl,-soname,"$soname" \
    "$tmp/probe/probe.c" -o "$tmp/probe/libtscb.so"
exported() { nm -D --defined-only "$1" | awk '$3 ~ /^tscb_/ { print $3 }' | sort; }
if ! diff <(exported "$tmp/probe/libtscb.so") <(exported "$real") >"$tmp/symbols.diff"; then
    cat "$tmp/symbols.diff" >&2
    die "libtscb.so's exported tscb_ functions (>) differ from tscb.h's (<)"
fi
# No source locations nor paths: the baseline depends on the header only.
abidw --no-show-locs --no-corpus-path --no-comp-dir-path --headers-dir include --drop-private-types \
    "$tmp/probe/libtscb.so" >"$tmp/current.abi"

if [ "${1:-}" = --update ]; then
    cp "$tmp/current.abi" "$baseline"
    echo "wrote $baseline ($soname, $(exported "$real" | wc -l) functions)"
    exit 0
fi
[ -f "$baseline" ] || die "no baseline $baseline: make abi-baseline"
old_soname=$(grep -oE "soname='[^']*'" "$baseline" | head -n 1 | cut -d"'" -f2)
if [ "$old_soname" != "$soname" ]; then
    echo "check-abi: the SONAME changed ($old_soname -> $soname): any ABI change is allowed; renew the baseline with make abi-baseline"
    exit 0
fi
# abidiff's status is a bit mask: 4 an ABI change, 8 an incompatible one; 1 and 2 its own errors.
# --no-added-syms: new functions are compatible. Any other change (a removed function, a parameter
# or return type, an enum value, a struct's layout) fails.
status=0
abidiff --no-added-syms "$baseline" "$tmp/current.abi" >"$tmp/abidiff.txt" || status=$?
if [ "$status" != 0 ]; then
    cat "$tmp/abidiff.txt" >&2
    [ $((status & 3)) = 0 ] || die "abidiff failed (status $status)"
    die "the C ABI of $soname changed incompatibly (abidiff status $status): keep it, or change the SONAME (the version's major.minor before 1.0) and make abi-baseline"
fi
echo "check-abi: $soname compatible with $baseline ($(exported "$real" | wc -l) functions)"
