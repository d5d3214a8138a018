#!/usr/bin/env bash
# `make dist`: the release artifacts, into dist/, each with a .sha256 beside it:
#   tscb-<version>.tar.gz                             the Python sdist (builds with a Rust toolchain)
#   tscb-<version>-cp39-abi3-<platform>.whl           the Python wheels: any CPython >= 3.9, on
#       manylinux2014_{x86_64,aarch64} (glibc >= 2.17) and musllinux_1_2_{x86_64,aarch64} (musl >= 1.2)
#   libtscb-<version>-<arch>-linux-<libc>.tar.gz      the C library for the same four targets:
#       .so, .a, header, pkg-config, CMake
#   tscb-<version>-x86_64-linux.tar.gz                 the tscb command (static, any x86_64 Linux),
#       its manual pages and shell completions
# zig links every binary (cargo-zigbuild, maturin --zig): against glibc 2.17, so that they run on
# the systems manylinux2014 names and not only on glibc as new as this machine's, and against musl
# for the musl targets. The builds use target dirs of their own under target/dist/<triple>/, one
# each (in one dir the wheel and the library rebuild each other's dependencies every time), so that
# they never clobber the normal builds in target/ nor each other.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=release/common.sh
. release/common.sh

out="$root/dist"

tools_venv
# aarch64 archives are stripped with binutils for aarch64.
need_debs binutils-aarch64-linux-gnu
export PATH="$venv/bin:$PATH" # maturin finds zig through `python3 -m ziglang`: the venv's python3
# The file times in the archives and wheels: the last commit's, unless SOURCE_DATE_EPOCH is given.
# Kept out of the builds' environment: cc (ring's build script) asks cargo to rebuild when
# SOURCE_DATE_EPOCH changes, so with it exported every commit rebuilt ring and all above it in
# each of the nine builds. The sdist gets it, the wheels when they are repacked, the tarballs
# through tar --mtime.
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || true)}"
[ -n "$epoch" ] || die "not a git checkout: set SOURCE_DATE_EPOCH (seconds since 1970)"
unset SOURCE_DATE_EPOCH

rm -rf "$out"
mkdir -p "$out"

echo "== sdist"
(cd python && SOURCE_DATE_EPOCH=$epoch maturin sdist --out "$out")

# The standard library of each target (CI has rustup; elsewhere they must be installed already).
if command -v rustup >/dev/null; then
    rustup target add "${triples[@]}" >/dev/null
fi

# musl_soname FILE: zig links musl's libc as "libc.so" (the name of musl's link-time file); musl
# systems name it libc.musl-<arch>.so.1, as Alpine's compilers write, and that is the name
# auditwheel's musllinux policy allows. musl's loader takes any libc.* as itself: both run.
musl_soname() {
    patchelf --replace-needed libc.so "libc.musl-$arch.so.1" "$1"
}

for triple in "${triples[@]}"; do
    short=$(short_name "$triple")
    arch=${triple%%-*}
    case "$triple" in
    *-gnu) zig_target="$triple.$glibc" compat=manylinux2014 rustflags= ;;
    # -crt-static: a shared library that links musl dynamically, as every musl program does; with
    # crt-static (the musl target's default) libtscb.so would carry a libc of its own.
    *-musl) zig_target="$triple" compat=musllinux_1_2 rustflags="-C target-feature=-crt-static" ;;
    esac
    dir="$target/dist/$triple"

    echo "== wheel $triple ($compat)"
    # maturin itself builds musl extension modules without crt-static.
    rm -rf "$dir/built" "$dir/unpacked"
    (cd python && CARGO_TARGET_DIR="$dir/wheel" maturin build --release --locked --strip --zig \
        --target "$triple" --compatibility "$compat" --auditwheel check --out "$dir/built")
    built=("$dir/built"/*.whl)
    [ ${#built[@]} = 1 ] && [ -f "${built[0]}" ] || die "maturin did not write one wheel for $triple"
    wheel unpack -d "$dir/unpacked" "${built[0]}" >/dev/null
    [ "$compat" = musllinux_1_2 ] && musl_soname "$dir/unpacked/tscb-$version"/tscb/_native*.so
    # maturin's SBOM, as maturin writes it given SOURCE_DATE_EPOCH: the epoch's time, no random
    # serial number (else no two builds of the wheel are the same).
    sbom=("$dir/unpacked/tscb-$version"/tscb-"$version".dist-info/sboms/*.json)
    for f in "${sbom[@]}"; do
        [ -f "$f" ] || continue
        sed -i -e '/^  "serialNumber": "urn:uuid:[0-9a-f-]*",$/d' \
            -e "s/^\(    \"timestamp\": \"\)[^\"]*\"/\1$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%S.000000000Z)\"/" "$f"
        python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$f" || die "$f is not JSON after setting its time"
    done
    # wheel pack: the same name and files, a new RECORD, sorted entries and the epoch's time.
    SOURCE_DATE_EPOCH=$epoch wheel pack -d "$out" "$dir/unpacked/tscb-$version" >/dev/null
    [ -f "$out/$(basename "${built[0]}")" ] || die "wheel pack did not write $(basename "${built[0]}")"

    echo "== C library $triple"
    # The static archive's native dependencies, as rustc reports them for this target, become the
    # pkg-config Libs.private and the CMake package's link libraries (musl: the unwinder).
    CARGO_TARGET_DIR="$dir/lib" RUSTFLAGS="$rustflags" cargo-zigbuild rustc --release --locked -p tscb-ffi \
        --target "$zig_target" -- --print native-static-libs 2>"$dir/lib.log" || { cat "$dir/lib.log" >&2; die "the C library for $triple did not build"; }
    native=$(sed -n 's/.*native-static-libs: //p' "$dir/lib.log" | tail -n 1)
    [ -n "$native" ] || { cat "$dir/lib.log" >&2; die "rustc did not print the native static libraries for $triple"; }
    # musl: rustc names libgcc_s because the library is built without crt-static (for the .so,
    # above); a static link, which is what Libs.private is for, takes the unwinder as the static
    # libunwind instead, as rustc says with crt-static. zig brings it; Alpine has it in
    # llvm-libunwind-static. (The .so needs neither: zig links its libunwind into it.)
    case "$triple" in *-musl) native=$(echo " $native " | sed 's/ -lgcc_s / -lunwind /; s/^ //; s/ $//') ;; esac
    echo "native static libraries: $native"
    name="libtscb-$version-$short"
    stage="$target/dist/stage"
    rm -rf "$stage"
    # The tree `make install` makes (file names, SONAME links, pkg-config and CMake files), from
    # the zig build; -o lib: the library is built already, and for this target.
    make -s -o lib install DESTDIR="$stage/$name" PREFIX= TARGET_DIR="$dir/lib/$triple" NATIVE_STATIC_LIBS="$native"
    # make install writes an absolute prefix; here it is wherever the .pc file was unpacked
    # (the CMake package already finds itself through CMAKE_CURRENT_LIST_DIR).
    sed -i 's|^prefix=.*|prefix=${pcfiledir}/../..|' "$stage/$name/lib/pkgconfig/tscb.pc"
    # Without debug info, as the .so (the release profile strips it there): 40 MB -> 31 MB. -D: no
    # timestamps or owners in the archive's member headers. The host's strip knows only x86.
    strip=strip
    [ "$arch" = x86_64 ] || strip="$arch-linux-gnu-strip"
    "$strip" --strip-debug -D "$stage/$name/lib/libtscb.a"
    [ -f "$stage/$name/lib/libtscb.so.$version" ] || die "make install did not write libtscb.so.$version"
    [ "$compat" = musllinux_1_2 ] && musl_soname "$stage/$name/lib/libtscb.so.$version"
    install -m 644 LICENSE-MIT LICENSE-APACHE "$stage/$name/"
    sed "s/@PLATFORM@/$(platform_text "$triple")/" release/README-c.txt >"$stage/$name/README.txt"
    chmod 644 "$stage/$name/README.txt"
    # Reproducible: sorted names, no owner, one mtime, normalised modes, no timestamp in the gzip header.
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" --format=gnu \
        --mode='u+rwX,go+rX,go-w' -C "$stage" -cf - "$name" | gzip -9 -n >"$out/$name.tar.gz"
done

# The command line for any x86_64 Linux: static musl (crt-static, the musl target's default, which
# zig can link), with its manual pages and completion scripts, which the binary itself writes.
cli_triple=x86_64-unknown-linux-musl
echo "== CLI $cli_triple (static)"
cli_dir="$target/dist/$cli_triple/cli"
CARGO_TARGET_DIR="$cli_dir" cargo-zigbuild build --release --locked -q -p tscb-cli --target "$cli_triple"
name="tscb-$version-x86_64-linux"
stage="$target/dist/stage"
rm -rf "$stage"
share="$stage/$name/share"
install -d "$stage/$name/bin" "$share/bash-completion/completions" "$share/zsh/site-functions" \
    "$share/fish/vendor_completions.d" "$share/tscb/completions"
install -m 755 "$cli_dir/$cli_triple/release/tscb" "$stage/$name/bin/tscb"
cli="$stage/$name/bin/tscb"
"$cli" man --out-dir "$share/man/man1"
"$cli" completions bash >"$share/bash-completion/completions/tscb"
"$cli" completions zsh >"$share/zsh/site-functions/_tscb"
"$cli" completions fish >"$share/fish/vendor_completions.d/tscb.fish"
"$cli" completions powershell >"$share/tscb/completions/tscb.ps1"
install -m 644 LICENSE-MIT LICENSE-APACHE "$stage/$name/"
install -m 644 release/README-cli.txt "$stage/$name/README.txt"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" --format=gnu \
    --mode='u+rwX,go+rX,go-w' -C "$stage" -cf - "$name" | gzip -9 -n >"$out/$name.tar.gz"

echo "== wrote (version $version, SOURCE_DATE_EPOCH $epoch)"
cd "$out"
for f in *; do
    sha256sum "$f" >"$f.sha256"
    printf '%-64s %9s bytes  sha256 %s\n' "dist/$f" "$(stat -c %s "$f")" "$(cut -d' ' -f1 "$f.sha256")"
done
