#!/usr/bin/env bash
# `make test-dist`: proves what `make dist` wrote into dist/ works where Rust is absent.
# - every wheel (x86_64 and aarch64; manylinux2014 and musllinux_1_2): auditwheel's tag,
#   abi3audit --strict, and of its extension module the architecture, the highest GLIBC symbol
#   (2.17 at most), the NEEDED list and a non-executable stack;
# - the x86_64 glibc wheel: installed with --no-index into fresh venvs of the oldest and the newest
#   Python here (>= 3.9), in a clean environment without cargo or rustc, it imports, passes
#   stubtest and talks to tscb-sim (the aarch64 one runs in an arm64 root: release/test-arm64.sh);
# - the x86_64 musllinux wheel: the smoke test on a CPython built from Debian's sources with
#   musl-gcc (release/musl-python.sh);
# - every C tarball: unpacked into a fresh directory, its files and links, the same ELF checks on
#   libtscb.so; x86_64 glibc: a C and a C++ program built through pkg-config (shared with an rpath,
#   and static) and through CMake find_package(tscb), each run against tscb-sim; musl: the C example
#   linked by zig through pkg-config, static and dynamic, run against tscb-sim (aarch64 under
#   qemu-user-static, static only: there is no aarch64 musl loader here); aarch64 glibc: linked by
#   Debian's cross gcc through pkg-config, static and shared, run under qemu-user-static;
# - the sdist: builds and installs with the Rust toolchain into a fresh venv, and works.
# - the CLI archive: bin/tscb static for x86_64, runs in a clean environment and registers with
#   tscb-sim; its manual pages render (groff -ww, man -l), its completion scripts parse;
# - all of them carry LICENSE-MIT and LICENSE-APACHE, and the wheels and the sdist pass twine check.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=release/common.sh
. release/common.sh

dist="$root/dist"
case "$version" in 0.*) soversion=${version%.*} ;; *) soversion=${version%%.*} ;; esac
tools_venv
export PATH="$venv/bin:$PATH"
# musl's loader (the musl C programs linked dynamically), aarch64's glibc and qemu (the aarch64 ones).
need_debs musl libc6-arm64-cross qemu-user-static
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tscb-test-dist.XXXXXX")

sim_log="$tmp/sim.log"
. "$root/tests/sim.sh"
trap 'rc=$?; stop_sim; rm -rf "$tmp"; exit $rc' EXIT

# check_elf FILE TRIPLE: the target's architecture; for glibc, 2.17 at most and only the basic
# system libraries; for musl, only libc; a non-executable stack.
check_elf() {
    local f=$1 triple=$2 machine highest needed n stack
    case "$triple" in
    x86_64-*) machine="Advanced Micro Devices X86-64" ;;
    aarch64-*) machine=AArch64 ;;
    esac
    readelf -hW "$f" | grep -qE "Machine: +$machine\$" || die "$f is not built for $machine: $(readelf -hW "$f" | grep Machine:)"
    readelf --dyn-syms -W "$f" >"$tmp/dynsyms" || die "readelf could not read $f"
    grep -q GLIBC_PRIVATE "$tmp/dynsyms" && die "$f uses GLIBC_PRIVATE symbols"
    highest=$(grep -oE '@GLIBC_[0-9.]+' "$tmp/dynsyms" | tr -d '@' | sort -uV | tail -n 1 || true)
    case "$triple" in
    *-gnu)
        [ "$(printf '%s\n' "${highest#GLIBC_}" 2.17 | sort -V | tail -n 1)" = 2.17 ] ||
            die "$f needs $highest, newer than glibc 2.17" ;;
    *-musl) [ -z "$highest" ] || die "$f (musl) has glibc symbol versions: $highest" ;;
    esac
    needed=$(readelf -dW "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
    for n in $needed; do
        case "$triple:$n" in
        *-gnu:libc.so.6 | *-gnu:libm.so.6 | *-gnu:libpthread.so.0 | *-gnu:libdl.so.2) ;;
        x86_64-*-gnu:ld-linux-x86-64.so.2 | aarch64-*-gnu:ld-linux-aarch64.so.1) ;;
        x86_64-*-musl:libc.musl-x86_64.so.1 | aarch64-*-musl:libc.musl-aarch64.so.1) ;;
        *) die "$f needs $n (only libc, libm, libpthread, libdl and the loader are allowed; musl: libc.musl-<arch>.so.1)" ;;
        esac
    done
    stack=$(readelf -lW "$f" | awk '$1 == "GNU_STACK" { print $7 }')
    [ "$stack" = RW ] || die "$f: the stack is '${stack:-not declared}', not RW (non-executable)"
    echo "$(basename "$f") ($triple): $machine; highest glibc symbol ${highest:-none}; NEEDED $needed; stack $stack"
}

echo "== artifacts ($version)"
sdist="$dist/tscb-$version.tar.gz"
declare -A wheel ctar
shopt -s nullglob
for triple in "${triples[@]}"; do
    arch=${triple%%-*}
    case "$triple" in
    *-gnu) found=("$dist/tscb-$version-cp39-abi3-"*manylinux*_"$arch".whl) ;;
    *-musl) found=("$dist/tscb-$version-cp39-abi3-musllinux_1_2_$arch".whl) ;;
    esac
    [ ${#found[@]} = 1 ] || die "expected one wheel for $triple in dist/, found ${#found[@]} (run make dist)"
    wheel[$triple]=${found[0]}
    ctar[$triple]="$dist/libtscb-$version-$(short_name "$triple").tar.gz"
done
shopt -u nullglob
cli_name="tscb-$version-x86_64-linux"
cli_tar="$dist/$cli_name.tar.gz"
for f in "$sdist" "${wheel[@]}" "${ctar[@]}" "$cli_tar"; do
    [ -f "$f" ] && [ -f "$f.sha256" ] || die "missing $f or its .sha256 (run make dist)"
    (cd "$dist" && sha256sum --quiet -c "$(basename "$f").sha256") || die "$f does not match its .sha256"
    echo "present, with matching .sha256: $(basename "$f")"
done

# The licences travel with every artifact (both licences require it), as the same text.
for l in LICENSE-MIT LICENSE-APACHE; do
    cmp -s "$l" <(tar -xzOf "$sdist" "tscb-$version/$l") || die "the sdist lacks $l"
    for triple in "${triples[@]}"; do
        cmp -s "$l" <(python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
            "${wheel[$triple]}" "tscb-$version.dist-info/licenses/$l") || die "the $triple wheel lacks $l"
        cmp -s "$l" <(tar -xzOf "${ctar[$triple]}" "libtscb-$version-$(short_name "$triple")/$l") || die "the $triple C tarball lacks $l"
    done
    cmp -s "$l" <(tar -xzOf "$cli_tar" "$cli_name/$l") || die "the CLI archive lacks $l"
done
echo "licences: LICENSE-MIT and LICENSE-APACHE in the sdist and every wheel, C tarball and the CLI archive"

# The metadata PyPI will show (the README rendered, the licence fields), as its upload checks it.
twine check --strict "$sdist" "${wheel[@]}" >"$tmp/twine.txt" || { cat "$tmp/twine.txt" >&2; die "twine check failed"; }
echo "twine check --strict: the sdist and ${#wheel[@]} wheels passed"

cargo build --release --locked -q -p tscb-sim

for triple in "${triples[@]}"; do
    w=${wheel[$triple]}
    arch=${triple%%-*}
    echo "== wheel $triple: auditwheel, abi3audit, ELF"
    auditwheel show "$w" >"$tmp/auditwheel.txt"
    tag=$(tr '\n' ' ' <"$tmp/auditwheel.txt" | grep -oE 'consistent with the following platform tag: *"[^"]+"' | grep -oE '"[^"]+"' | tr -d '"')
    case "$triple:$tag" in
    *-gnu:manylinux_2_[0-9]_$arch | *-gnu:manylinux_2_1[0-7]_$arch | *-gnu:manylinux2014_$arch | *-gnu:manylinux2010_$arch | *-gnu:manylinux1_$arch)
        echo "auditwheel: consistent with $tag" ;;
    *-musl:musllinux_1_[0-2]_$arch) echo "auditwheel: consistent with $tag" ;;
    *) cat "$tmp/auditwheel.txt" >&2; die "auditwheel: the $triple wheel is not manylinux_2_17/musllinux_1_2 or lower (${tag:-no tag})" ;;
    esac
    abi3audit --strict --report "$w" >"$tmp/abi3audit.json" || { abi3audit --strict "$w" || true; die "abi3audit --strict failed for $w"; }
    echo "abi3audit --strict: passed"
    rm -rf "$tmp/wheel"
    python3 -m zipfile -e "$w" "$tmp/wheel"
    exts=("$tmp"/wheel/tscb/_native*.so)
    [ ${#exts[@]} = 1 ] && [ -f "${exts[0]}" ] || die "the $triple wheel has no tscb/_native*.so"
    check_elf "${exts[0]}" "$triple"
done
host_wheel=${wheel[x86_64-unknown-linux-gnu]}

# The oldest and the newest CPython on this machine that the package supports (requires-python >= 3.9).
mapfile -t pythons < <(
    for py in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/*/bin/python3 /usr/bin/python3 /usr/local/bin/python3; do
        [ -x "$py" ] || continue
        "$py" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null || continue
        echo "$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])') $py"
    done | sort -V | sed -n '1p;$p' | uniq)
[ ${#pythons[@]} -ge 1 ] || die "no Python >= 3.9 found"
for entry in "${pythons[@]}"; do
    pyver=${entry%% *}
    py=${entry#* }
    echo "== wheel on Python $pyver ($py), no Rust, clean environment"
    v="$tmp/venv-$pyver"
    "$py" -m venv "$v"
    # stubtest comes from PyPI; tscb itself only from the wheel (--no-index).
    # mypy 2 needs Python >= 3.10; 1.19.1 is the last for 3.9.
    mypy=$(grep -E '^mypy==' python/requirements-dev.txt)
    "$v/bin/python" -c 'import sys; sys.exit(sys.version_info >= (3, 10))' && mypy=mypy==1.19.1
    "$v/bin/pip" install -q --disable-pip-version-check "$mypy"
    mkdir -p "$tmp/home"
    clean=(env -i PATH="$v/bin:/usr/bin:/bin" HOME="$tmp/home" LANG=C.UTF-8)
    "${clean[@]}" sh -c 'command -v cargo || command -v rustc' && die "cargo or rustc is on the clean PATH"
    "${clean[@]}" python -m pip install -q --disable-pip-version-check --no-index --only-binary=:all: "$host_wheel"
    start_sim
    # From $tmp: the source tree's python/tscb (no compiled module) must not shadow the installed one.
    (cd "$tmp" && "${clean[@]}" python -m mypy.stubtest tscb._native)
    (cd "$tmp" && "${clean[@]}" THINGSPACE_BASE_URL="$TSCB_SIM_URL" \
        THINGSPACE_BEARER_TOKEN="$(sim_credential "bearer token")" THINGSPACE_SESSION_TOKEN="$(sim_credential "session token")" \
        python "$root/release/smoke.py" "$version")
done

# The x86_64 musllinux wheel on a CPython built for musl (release/musl-python.sh).
echo "== wheel x86_64-unknown-linux-musl on CPython built with musl-gcc"
bash release/musl-python.sh "${wheel[x86_64-unknown-linux-musl]}" "$version"

# unpack_ctar TRIPLE: unpacks that C tarball into a fresh directory and checks its files, links,
# owners and libtscb.so; sets $prefix (the unpacked tree) and $lib.
unpack_ctar() {
    local triple=$1 f owners
    local name="libtscb-$version-$(short_name "$triple")"
    echo "== C tarball $triple"
    rm -rf "$tmp/c-$triple"
    mkdir -p "$tmp/c-$triple"
    tar -xzf "${ctar[$triple]}" -C "$tmp/c-$triple"
    prefix="$tmp/c-$triple/$name"
    lib="$prefix/lib"
    for f in lib/libtscb.so."$version" lib/libtscb.a include/tscb.h lib/pkgconfig/tscb.pc \
        lib/cmake/tscb/tscbConfig.cmake lib/cmake/tscb/tscbConfigVersion.cmake LICENSE-MIT LICENSE-APACHE README.txt; do
        [ -f "$prefix/$f" ] && [ ! -L "$prefix/$f" ] || die "$name lacks the file $f"
    done
    [ "$(readlink "$lib/libtscb.so.$soversion")" = "libtscb.so.$version" ] || die "$name: libtscb.so.$soversion is not a link to libtscb.so.$version"
    [ "$(readlink "$lib/libtscb.so")" = "libtscb.so.$soversion" ] || die "$name: libtscb.so is not a link to libtscb.so.$soversion"
    cmp -s "$prefix/include/tscb.h" include/tscb.h || die "$name: tscb.h differs from include/tscb.h"
    readelf -dW "$lib/libtscb.so.$version" | grep -q "(SONAME).*\[libtscb.so.$soversion\]" || die "$name: libtscb.so has no SONAME libtscb.so.$soversion"
    owners=$(tar -tvzf "${ctar[$triple]}" | awk '{ print $2 }' | sort -u)
    [ "$owners" = 0/0 ] || die "$name: the files are owned by $owners, not 0/0"
    check_elf "$lib/libtscb.so.$version" "$triple"
    # Every member of the static archive is for the target too.
    readelf -hW "$lib/libtscb.a" | awk '/Machine:/ { $1 = ""; print }' | sort -u >"$tmp/machines"
    [ "$(wc -l <"$tmp/machines")" = 1 ] || die "$name: libtscb.a mixes architectures: $(cat "$tmp/machines")"
    echo "libtscb.a: all members for$(cat "$tmp/machines"); pkg-config Libs.private: $(sed -n 's/^Libs.private: //p' "$lib/pkgconfig/tscb.pc")"
}

# run_register EXE [RUNNER...]: the C example registers a callback with a fresh tscb-sim.
run_register() {
    local exe=$1
    shift
    start_sim
    THINGSPACE_BASE_URL="$TSCB_SIM_URL" THINGSPACE_BEARER_TOKEN="$(sim_credential "bearer token")" THINGSPACE_SESSION_TOKEN="$(sim_credential "session token")" \
        "$@" "$exe" TestAccount-2 CarrierService https://listener.example.com/cb >"$tmp/register.out" 2>&1 ||
        die "$exe: $(cat "$tmp/register.out")"
    grep -q '^registered CarrierService for account TestAccount-2$' "$tmp/register.out" ||
        die "$exe: $(cat "$tmp/register.out")"
}

unpack_ctar x86_64-unknown-linux-gnu
c="$tmp/c-x86_64-unknown-linux-gnu"

export PKG_CONFIG_PATH="$lib/pkgconfig"
[ "$(cd "$(pkg-config --variable=prefix tscb)" && pwd -P)" = "$(cd "$prefix" && pwd -P)" ] ||
    die "tscb.pc does not point at the directory it was unpacked in"
[ "$(pkg-config --modversion tscb)" = "$version" ] || die "tscb.pc says version $(pkg-config --modversion tscb)"
inc=$(pkg-config --cflags tscb)
shared="$(pkg-config --libs tscb) -Wl,-rpath,$(pkg-config --variable=libdir tscb)"
static=$(pkg-config --cflags --static --libs tscb | sed 's/-ltscb\b/-l:libtscb.a/')
cflags=(-std=c11 -Wall -Wextra -Wpedantic -Werror -O2)
cxxflags=(-std=c++17 -Wall -Wextra -Wpedantic -Werror -O2)
# shellcheck disable=SC2086  # pkg-config output is a list of words
{
    cc "${cflags[@]}" $inc examples/c/register.c -o "$c/register_shared" $shared
    cc "${cflags[@]}" $inc examples/c/register.c -o "$c/register_static" $static
    c++ "${cxxflags[@]}" $inc tests/cpp/test_tscb.cpp -o "$c/test_cpp_shared" $shared -lpthread
    c++ "${cxxflags[@]}" $inc tests/cpp/test_tscb.cpp -o "$c/test_cpp_static" $static -lpthread
}

# The same two programs through CMake find_package(tscb).
cmake -S release/cmake -B "$c/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$c/cmake" >/dev/null

echo "== C and C++ programs built against the tarball, run against tscb-sim"
# Run each build against its own simulator, without LD_LIBRARY_PATH: the shared ones find
# libtscb through their rpath.
unset LD_LIBRARY_PATH
for how in pkg-config cmake; do
    dir=$c
    [ "$how" = cmake ] && dir=$c/cmake
    for variant in shared static; do
        exe="$dir/register_$variant"
        if [ "$variant" = static ]; then
            readelf -dW "$exe" | grep -q libtscb && die "$exe depends on libtscb.so: not linked statically"
        else
            readelf -dW "$exe" | grep -q "(NEEDED).*\[libtscb.so.$soversion\]" || die "$exe does not need libtscb.so.$soversion"
        fi
        run_register "$exe"
        echo "C, $how, $variant: registered against tscb-sim"
        start_sim
        echo "C++, $how, $variant:"
        "$dir/test_cpp_$variant"
    done
done

# The other targets' C tarballs, with the pinned zig as their C compiler (it brings musl, and glibc
# 2.17 stubs for aarch64) and qemu-user-static to run aarch64 programs. zig's cc takes the
# archive's path rather than -l:libtscb.a.
zcc() { "$venv/bin/python3" -m ziglang cc "$@"; }
unset PKG_CONFIG_PATH
for triple in x86_64-unknown-linux-musl aarch64-unknown-linux-musl aarch64-unknown-linux-gnu; do
    unpack_ctar "$triple"
    arch=${triple%%-*}
    zig_target="$arch-linux-${triple##*-}"
    [ "${triple##*-}" = gnu ] && zig_target="$zig_target.$glibc"
    pc=(env PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config)
    inc=$("${pc[@]}" --cflags tscb)
    shared="$("${pc[@]}" --libs tscb) -Wl,-rpath,$("${pc[@]}" --variable=libdir tscb)"
    static=$("${pc[@]}" --static --libs tscb | sed "s|-ltscb\b|$lib/libtscb.a|")
    # musl: fully static, libc included; glibc: libtscb static, libc shared (as on x86_64).
    [ "${triple##*-}" = musl ] && static="-static $static"
    out="$tmp/c-$triple"
    # shellcheck disable=SC2086  # pkg-config output is a list of words
    {
        zcc -target "$zig_target" "${cflags[@]}" $inc examples/c/register.c -o "$out/register_shared" $shared
        zcc -target "$zig_target" "${cflags[@]}" $inc examples/c/register.c -o "$out/register_static" $static
    }
    readelf -dW "$out/register_shared" | grep -q "(NEEDED).*\[libtscb.so.$soversion\]" || die "$out/register_shared does not need libtscb.so.$soversion"
    readelf -dW "$out/register_static" | grep -q libtscb && die "$out/register_static depends on libtscb.so: not linked statically"
    case "$triple" in
    x86_64-*) runner=() ;;
    aarch64-*-musl) runner=(qemu-aarch64-static) ;;
    # aarch64 glibc: the loader and libc of Debian's libc6-arm64-cross.
    aarch64-*-gnu) runner=(qemu-aarch64-static -L /usr/aarch64-linux-gnu) ;;
    esac
    for variant in static shared; do
        how="$triple, pkg-config (zig cc), $variant"
        if [ "$variant" = shared ] && [ "$triple" = aarch64-unknown-linux-musl ]; then
            echo "C, $how: linked; runs in the arm64 root (make test-dist-arm64): no aarch64 musl loader here"
            continue
        fi
        run_register "$out/register_$variant" "${runner[@]}"
        echo "C, $how: registered against tscb-sim"
    done
done

echo "== CLI archive: static, runs in a clean environment, its manual renders, its completions parse"
tar -xzf "$cli_tar" -C "$tmp"
cli_root="$tmp/$cli_name"
cli="$cli_root/bin/tscb"
man1="$cli_root/share/man/man1"
for f in bin/tscb share/man/man1/tscb.1 share/man/man1/tscb-register.1 share/man/man1/tscb-listen.1 \
    share/bash-completion/completions/tscb share/zsh/site-functions/_tscb \
    share/fish/vendor_completions.d/tscb.fish share/tscb/completions/tscb.ps1 README.txt; do
    [ -f "$cli_root/$f" ] || die "the CLI archive lacks $f"
done
[ -x "$cli" ] || die "bin/tscb in the CLI archive is not executable"
owners=$(tar -tvzf "$cli_tar" | awk '{ print $2 }' | sort -u)
[ "$owners" = 0/0 ] || die "the CLI archive's files are owned by $owners, not 0/0"
readelf -hW "$cli" | grep -qE 'Machine: +Advanced Micro Devices X86-64$' || die "bin/tscb is not for x86-64"
# Static: no program interpreter (loader) and nothing NEEDED, so no libc of the system's is used.
readelf -lW "$cli" | grep -q INTERP && die "bin/tscb has a program interpreter: not static"
readelf -dW "$cli" | grep -q '(NEEDED)' && die "bin/tscb needs shared libraries: $(readelf -dW "$cli" | grep '(NEEDED)')"
mkdir -p "$tmp/home"
clean=(env -i PATH=/usr/bin:/bin HOME="$tmp/home" LANG=C.UTF-8)
[ "$("${clean[@]}" "$cli" --version)" = "tscb $version" ] || die "bin/tscb --version says $("${clean[@]}" "$cli" --version)"
start_sim
sim_env=(THINGSPACE_BASE_URL="$TSCB_SIM_URL" THINGSPACE_BEARER_TOKEN="$(sim_credential "bearer token")"
    THINGSPACE_SESSION_TOKEN="$(sim_credential "session token")")
"${clean[@]}" "${sim_env[@]}" "$cli" register --account TestAccount-2 --service CarrierService \
    --url https://cli.example.com/cb >"$tmp/cli.out" 2>&1 || die "bin/tscb register: $(cat "$tmp/cli.out")"
"${clean[@]}" "${sim_env[@]}" "$cli" list --json --account TestAccount-2 >"$tmp/cli.out" 2>&1 || die "bin/tscb list: $(cat "$tmp/cli.out")"
grep -q 'https://cli.example.com/cb' "$tmp/cli.out" || die "bin/tscb list does not show the registered listener: $(cat "$tmp/cli.out")"
echo "bin/tscb: static x86-64, --version, registered and listed against tscb-sim"
for page in "$man1"/*.1; do
    groff -man -Tutf8 -ww -z "$page" 2>"$tmp/groff.err" || die "groff failed on $(basename "$page"): $(cat "$tmp/groff.err")"
    [ ! -s "$tmp/groff.err" ] || die "groff warns about $(basename "$page"): $(cat "$tmp/groff.err")"
done
if command -v man >/dev/null; then
    MANWIDTH=80 man -l "$man1/tscb-register.1" 2>"$tmp/man.err" | grep -q -- '--account' ||
        die "man -l does not render tscb-register.1: $(cat "$tmp/man.err")"
fi
echo "manual: $(ls "$man1" | wc -l) pages render without warnings (groff -ww)"
bash -n "$cli_root/share/bash-completion/completions/tscb" || die "the bash completions do not parse"
checked=bash
if command -v zsh >/dev/null; then
    zsh -n "$cli_root/share/zsh/site-functions/_tscb" || die "the zsh completions do not parse"
    checked="$checked, zsh"
fi
if command -v fish >/dev/null; then
    fish -n "$cli_root/share/fish/vendor_completions.d/tscb.fish" || die "the fish completions do not parse"
    checked="$checked, fish"
fi
echo "completions parse: $checked"

echo "== sdist, built with the Rust toolchain"
if tar -tzf "$sdist" | grep -E '^[^/]+/(target|dist)/'; then die "the sdist contains build output"; fi
v="$tmp/venv-sdist"
python3 -m venv "$v"
# Its own target dir: kept between runs for the dependencies (the sdist's sources rebuild anyway).
CARGO_TARGET_DIR="$target/dist-sdist" "$v/bin/pip" install -q --disable-pip-version-check "$sdist"
start_sim
(cd "$tmp" && THINGSPACE_BASE_URL="$TSCB_SIM_URL" THINGSPACE_BEARER_TOKEN="$(sim_credential "bearer token")" THINGSPACE_SESSION_TOKEN="$(sim_credential "session token")" \
    "$v/bin/python" "$root/release/smoke.py" "$version")
echo "test-dist: all passed"
