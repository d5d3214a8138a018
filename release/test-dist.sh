#!/usr/bin/env bash
# `make test-dist`: proves what `make dist` wrote into dist/ works where Rust is absent.
# - the wheel: manylinux_2_17 or lower, abi3 (abi3audit --strict), no GLIBC symbol newer than 2.17,
#   only libc/libm/libpthread/libdl/the loader needed, no executable stack; installed with
#   --no-index into fresh venvs of the oldest and the newest Python here (>= 3.9), in a clean
#   environment without cargo or rustc, it imports, passes stubtest and talks to tscb-sim;
# - the C tarball: unpacked into a fresh directory, the same ELF checks on libtscb.so, then a C and a
#   C++ program built through pkg-config (shared with an rpath, and static) and through CMake
#   find_package(tscb), each run against tscb-sim;
# - the sdist: builds and installs with the Rust toolchain into a fresh venv, and works.
# - all three carry LICENSE-MIT and LICENSE-APACHE.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=release/common.sh
. release/common.sh

dist="$root/dist"
case "$version" in 0.*) soversion=${version%.*} ;; *) soversion=${version%%.*} ;; esac
tools_venv
export PATH="$venv/bin:$PATH"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tscb-test-dist.XXXXXX")

sim_log="$tmp/sim.log"
. "$root/tests/sim.sh"
trap 'rc=$?; stop_sim; rm -rf "$tmp"; exit $rc' EXIT

# check_elf FILE: glibc 2.17 at most, only the basic system libraries, a non-executable stack.
check_elf() {
    local f=$1 highest needed n stack
    objdump -T "$f" >"$tmp/dynsyms" || die "objdump could not read $f"
    grep -q GLIBC_PRIVATE "$tmp/dynsyms" && die "$f uses GLIBC_PRIVATE symbols"
    highest=$(grep -oE '\(GLIBC_[0-9.]+\)' "$tmp/dynsyms" | tr -d '()' | sort -uV | tail -n 1 || true)
    [ "$(printf '%s\n' "${highest#GLIBC_}" 2.17 | sort -V | tail -n 1)" = 2.17 ] ||
        die "$f needs $highest, newer than glibc 2.17"
    needed=$(readelf -dW "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
    for n in $needed; do
        case "$n" in libc.so.6 | libm.so.6 | libpthread.so.0 | libdl.so.2 | ld-linux-x86-64.so.2) ;;
        *) die "$f needs $n (only libc, libm, libpthread, libdl and the loader are allowed)" ;;
        esac
    done
    stack=$(readelf -lW "$f" | awk '$1 == "GNU_STACK" { print $7 }')
    [ "$stack" = RW ] || die "$f: the stack is '${stack:-not declared}', not RW (non-executable)"
    echo "$(basename "$f"): highest glibc symbol ${highest:-none}; NEEDED $needed; stack $stack"
}

echo "== artifacts ($version)"
shopt -s nullglob
wheels=("$dist/tscb-$version-cp39-abi3-"*manylinux*_x86_64.whl)
shopt -u nullglob
[ ${#wheels[@]} = 1 ] || die "expected one wheel tscb-$version-cp39-abi3-manylinux*_x86_64.whl in dist/ (run make dist)"
wheel=${wheels[0]}
sdist="$dist/tscb-$version.tar.gz"
ctar="$dist/libtscb-$version-x86_64-linux-gnu.tar.gz"
for f in "$wheel" "$sdist" "$ctar"; do
    [ -f "$f" ] && [ -f "$f.sha256" ] || die "missing $f or its .sha256 (run make dist)"
    (cd "$dist" && sha256sum --quiet -c "$(basename "$f").sha256") || die "$f does not match its .sha256"
done
echo "present, with matching .sha256: $(basename "$wheel") $(basename "$sdist") $(basename "$ctar")"

# The licences travel with every artifact (both licences require it), as the same text.
for l in LICENSE-MIT LICENSE-APACHE; do
    cmp -s "$l" <(python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
        "$wheel" "tscb-$version.dist-info/licenses/$l") || die "the wheel lacks $l"
    cmp -s "$l" <(tar -xzOf "$sdist" "tscb-$version/$l") || die "the sdist lacks $l"
    cmp -s "$l" <(tar -xzOf "$ctar" "libtscb-$version-x86_64-linux-gnu/$l") || die "the C tarball lacks $l"
done
echo "licences: LICENSE-MIT and LICENSE-APACHE in the wheel, the sdist and the C tarball"

cargo build --release --locked -q -p tscb-sim

echo "== wheel: auditwheel, abi3audit, ELF"
auditwheel show "$wheel" >"$tmp/auditwheel.txt"
tag=$(tr '\n' ' ' <"$tmp/auditwheel.txt" | grep -oE 'consistent with the following platform tag: *"[^"]+"' | grep -oE '"[^"]+"' | tr -d '"')
case "$tag" in
manylinux_2_[0-9]_x86_64 | manylinux_2_1[0-7]_x86_64 | manylinux2014_x86_64 | manylinux2010_x86_64 | manylinux1_x86_64)
    echo "auditwheel: consistent with $tag" ;;
*) cat "$tmp/auditwheel.txt" >&2; die "auditwheel: the wheel is not manylinux_2_17 or lower (${tag:-no tag})" ;;
esac
abi3audit --strict --report "$wheel" >"$tmp/abi3audit.json" || { abi3audit --strict "$wheel" || true; die "abi3audit --strict failed"; }
echo "abi3audit --strict: passed"
python3 -m zipfile -e "$wheel" "$tmp/wheel"
exts=("$tmp"/wheel/tscb/_native*.so)
[ ${#exts[@]} = 1 ] && [ -f "${exts[0]}" ] || die "the wheel has no tscb/_native*.so"
check_elf "${exts[0]}"

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
    "${clean[@]}" python -m pip install -q --disable-pip-version-check --no-index --only-binary=:all: "$wheel"
    start_sim
    # From $tmp: the source tree's python/tscb (no compiled module) must not shadow the installed one.
    (cd "$tmp" && "${clean[@]}" python -m mypy.stubtest tscb._native)
    (cd "$tmp" && "${clean[@]}" TSCB_SIM_URL="$TSCB_SIM_URL" python "$root/release/smoke.py" "$version")
done

echo "== C tarball"
c="$tmp/c"
mkdir -p "$c"
tar -xzf "$ctar" -C "$c"
prefix="$c/libtscb-$version-x86_64-linux-gnu"
lib="$prefix/lib"
for f in lib/libtscb.so."$version" lib/libtscb.a include/tscb.h lib/pkgconfig/tscb.pc \
    lib/cmake/tscb/tscbConfig.cmake lib/cmake/tscb/tscbConfigVersion.cmake LICENSE-MIT LICENSE-APACHE README.txt; do
    [ -f "$prefix/$f" ] && [ ! -L "$prefix/$f" ] || die "the tarball lacks the file $f"
done
[ "$(readlink "$lib/libtscb.so.$soversion")" = "libtscb.so.$version" ] || die "libtscb.so.$soversion is not a link to libtscb.so.$version"
[ "$(readlink "$lib/libtscb.so")" = "libtscb.so.$soversion" ] || die "libtscb.so is not a link to libtscb.so.$soversion"
cmp -s "$prefix/include/tscb.h" include/tscb.h || die "the tarball's tscb.h differs from include/tscb.h"
readelf -dW "$lib/libtscb.so.$version" | grep -q "(SONAME).*\[libtscb.so.$soversion\]" || die "libtscb.so has no SONAME libtscb.so.$soversion"
owners=$(tar -tvzf "$ctar" | awk '{ print $2 }' | sort -u)
[ "$owners" = 0/0 ] || die "the tarball's files are owned by $owners, not 0/0"
check_elf "$lib/libtscb.so.$version"

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
        start_sim
        THINGSPACE_BASE_URL="$TSCB_SIM_URL" THINGSPACE_BEARER_TOKEN=sim-bearer-token THINGSPACE_SESSION_TOKEN=sim-session-token \
            "$exe" TestAccount-2 CarrierService https://listener.example.com/cb >"$tmp/register.out"
        grep -q '^registered CarrierService for account TestAccount-2$' "$tmp/register.out" ||
            die "$exe: $(cat "$tmp/register.out")"
        echo "C, $how, $variant: registered against tscb-sim"
        start_sim
        echo "C++, $how, $variant:"
        "$dir/test_cpp_$variant"
    done
done

echo "== sdist, built with the Rust toolchain"
if tar -tzf "$sdist" | grep -E '^[^/]+/(target|dist)/'; then die "the sdist contains build output"; fi
v="$tmp/venv-sdist"
python3 -m venv "$v"
# Its own target dir: kept between runs for the dependencies (the sdist's sources rebuild anyway).
CARGO_TARGET_DIR="$target/dist-sdist" "$v/bin/pip" install -q --disable-pip-version-check "$sdist"
start_sim
(cd "$tmp" && "$v/bin/python" "$root/release/smoke.py" "$version")
echo "test-dist: all passed"
