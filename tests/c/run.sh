#!/usr/bin/env bash
# The C and C++ tests, as a C user builds them: against an installed copy of libtscb found through
# pkg-config (shared and static) and through CMake, then again under ASan/UBSan and under
# valgrind, each against a tscb-sim binary started here. tscb.hpp's suites (tests/cpp/test_*.cpp)
# run with g++ and clang++, C++17 and C++20.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
out="$target/c-tests"
prefix="$out/prefix"
rm -rf "$out"
mkdir -p "$out"

make -s install PREFIX="$prefix"
cargo build --release --locked -q -p tscb-sim --bins
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"

# HTTPS and proxies: a tscb-sim --tls and three tscb-connect-proxy processes, for test_tls.c.
extra_pids=()
stop_extras() {
    for pid in "${extra_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    extra_pids=()
}
# Starts "$@" with its output in log file $1 (shifted off); sets $started_url to the first
# line's last word (not a command substitution, which would lose the pid in a subshell).
start_extra() {
    local log=$1
    shift
    rm -f "$log"
    "$@" >"$log" 2>&1 &
    extra_pids+=($!)
    wait_for_url "$log"
}

sim_log="$out/sim.log"
. "$root/tests/sim.sh"
trap 'rc=$?; stop_sim; stop_extras; exit $rc' EXIT

cflags=(-std=c11 -Wall -Wextra -Wpedantic -Werror -g)
cxxflags=(-std=c++17 -Wall -Wextra -Wpedantic -Werror -g)
shared_libs=$(pkg-config --libs tscb)
rpath="-Wl,-rpath,$(pkg-config --variable=libdir tscb)"
# -l:libtscb.a picks the archive even though libtscb.so sits beside it.
static_libs=$(pkg-config --static --libs tscb | sed 's/-ltscb\b/-l:libtscb.a/')
inc=$(pkg-config --cflags tscb)

# shellcheck disable=SC2086  # pkg-config output is a list of words
{
    for test in test_tscb test_callback; do
        name=${test/test_tscb/test}   # test_shared, test_callback_shared, ...
        cc "${cflags[@]}" $inc tests/c/$test.c -o "$out/${name}_shared" $shared_libs $rpath -lpthread
        cc "${cflags[@]}" $inc tests/c/$test.c -o "$out/${name}_static" $static_libs -lpthread
        cc "${cflags[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
            $inc tests/c/$test.c -o "$out/${name}_asan" $shared_libs $rpath -lpthread
    done
    cc "${cflags[@]}" $inc tests/c/test_tls.c -o "$out/test_tls" $shared_libs $rpath
    cc "${cflags[@]}" $inc tests/c/test_fork.c -o "$out/test_fork" $shared_libs $rpath
    cc "${cflags[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
        $inc tests/c/test_fork.c -o "$out/test_fork_asan" $shared_libs $rpath
    cc "${cflags[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
        $inc tests/c/test_log.c -o "$out/test_log_asan" $shared_libs $rpath
    cc "${cflags[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
        $inc tests/c/test_tls.c -o "$out/test_tls_asan" $shared_libs $rpath
    c++ "${cxxflags[@]}" $inc tests/cpp/test_tscb.cpp -o "$out/test_cpp" $shared_libs $rpath -lpthread
    cc "${cflags[@]}" examples/c/register.c -o "$out/register" $(pkg-config --cflags --libs tscb) $rpath
}

# tscb.hpp: the client and callback suites with each C++ compiler (Debian's g++ and clang++) in
# C++17 and C++20, shared; under ASan/UBSan with both; static with g++. clang++ is used where it
# is installed (apt-get install clang); a machine without it says so and goes on with g++.
cxx_compilers=(g++)
if command -v clang++ >/dev/null; then
    cxx_compilers+=(clang++)
else
    echo "SKIP clang++: not installed (apt-get install clang); tscb.hpp is tested with g++ only"
fi
hpp_flags=(-Wall -Wextra -Wpedantic -Werror -g)
asan_flags=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
# shellcheck disable=SC2086  # pkg-config output is a list of words
{
    for cxx in "${cxx_compilers[@]}"; do
        for std in 17 20; do
            for test in client callback; do
                "$cxx" -std=c++$std "${hpp_flags[@]}" $inc tests/cpp/test_$test.cpp -o "$out/hpp_${test}_${cxx}_$std" \
                    $shared_libs $rpath -lpthread
            done
        done
        asan_std=$([ "$cxx" = g++ ] && echo 17 || echo 20)
        for test in client callback; do
            "$cxx" -std=c++$asan_std "${hpp_flags[@]}" "${asan_flags[@]}" $inc tests/cpp/test_$test.cpp \
                -o "$out/hpp_${test}_${cxx}_asan" $shared_libs $rpath -lpthread
        done
        "$cxx" -std=c++17 "${hpp_flags[@]}" examples/cpp/register.cpp -o "$out/register_cpp_$cxx" \
            $(pkg-config --cflags --libs tscb) $rpath
    done
    g++ -std=c++17 "${hpp_flags[@]}" $inc tests/cpp/test_client.cpp -o "$out/hpp_client_static" $static_libs -lpthread
}

if readelf -d "$out/hpp_client_static" | grep -q 'libtscb'; then
    echo "hpp_client_static depends on libtscb.so: it was not linked statically" >&2
    exit 1
fi
if readelf -d "$out/test_static" | grep -q 'libtscb'; then
    echo "test_static depends on libtscb.so: it was not linked statically" >&2
    exit 1
fi
version=$(pkg-config --modversion tscb)
case "$version" in 0.*) soversion=${version%.*} ;; *) soversion=${version%%.*} ;; esac
readelf -d "$out/test_shared" | grep -q "NEEDED.*\[libtscb.so.$soversion\]" || {
    echo "test_shared does not record the SONAME libtscb.so.$soversion" >&2
    exit 1
}

# A fresh simulator for each run: the tests expire sessions, as time would.
start_sim
echo "== C, shared library"
"$out/test_shared"
"$out/test_callback_shared"
start_sim
echo "== C, static library"
"$out/test_static"
"$out/test_callback_static"
start_sim
echo "== C, ASan + UBSan"
for test in test_asan test_callback_asan; do
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$out/$test"
done
# Not under valgrind: each child leaks the client's engines it inherited, on purpose (see the
# test's first comment), and valgrind reports that from each child.
start_sim
echo "== C, fork() (shared library, then ASan + UBSan)"
"$out/test_fork"
start_sim
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$out/test_fork_asan"
start_sim
echo "== C++17"
"$out/test_cpp"
for cxx in "${cxx_compilers[@]}"; do
    for variant in 17 20 asan; do
        echo "== tscb.hpp, $cxx, $([ $variant = asan ] && echo "ASan + UBSan" || echo "C++$variant")"
        start_sim
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            "$out/hpp_client_${cxx}_$variant"
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            "$out/hpp_callback_${cxx}_$variant"
    done
done
echo "== tscb.hpp, g++, static library"
start_sim
"$out/hpp_client_static"
start_sim
echo "== valgrind"
# Fewer thread calls: valgrind runs everything on one core, ~50x slower.
TSCB_TEST_THREAD_CALLS=25 valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=1 --suppressions=tests/c/valgrind.supp "$out/test_shared"
valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=1 --suppressions=tests/c/valgrind.supp "$out/test_callback_shared"
start_sim
echo "== valgrind: tscb.hpp (g++, C++17)"
TSCB_TEST_THREAD_CALLS=25 valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=1 --suppressions=tests/c/valgrind.supp "$out/hpp_client_g++_17"
valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=1 --suppressions=tests/c/valgrind.supp "$out/hpp_callback_g++_17"

start_sim
echo "== C log callback (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$out/test_log_asan"

echo "== C over HTTPS and through proxies"
TSCB_SIM_CA_FILE="$out/sim-ca.pem"
start_extra "$out/sim-tls.log" "$target/release/tscb-sim" --tls --ca-out "$TSCB_SIM_CA_FILE"
TSCB_SIM_TLS_URL=$started_url
start_extra "$out/proxy.log" "$target/release/tscb-connect-proxy"
TSCB_PROXY_URL=$started_url
start_extra "$out/proxy-auth.log" "$target/release/tscb-connect-proxy" --credentials carol:pr0xy-pw
TSCB_PROXY_AUTH_URL=$started_url
start_extra "$out/proxy-refuse.log" "$target/release/tscb-connect-proxy" --refuse 403
TSCB_PROXY_REFUSE_URL=$started_url
export TSCB_SIM_CA_FILE TSCB_SIM_TLS_URL TSCB_PROXY_URL TSCB_PROXY_AUTH_URL TSCB_PROXY_REFUSE_URL
"$out/test_tls"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$out/test_tls_asan"
valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
    --suppressions=tests/c/valgrind.supp "$out/test_tls"
stop_extras

start_sim
echo "== examples/c/register.c"
THINGSPACE_BASE_URL="$TSCB_SIM_URL" THINGSPACE_BEARER_TOKEN="$(sim_credential "bearer token")" THINGSPACE_SESSION_TOKEN="$(sim_credential "session token")" \
    "$out/register" TestAccount-2 CarrierService https://listener.example.com/cb | tee "$out/register.out"
grep -q '^registered CarrierService for account TestAccount-2$' "$out/register.out"
if THINGSPACE_BASE_URL="$TSCB_SIM_URL" THINGSPACE_BEARER_TOKEN="$(sim_credential "bearer token")" THINGSPACE_SESSION_TOKEN="$(sim_credential "session token")" \
    "$out/register" TestAccount-2 CarrierService https://listener.example.com:8443/cb 2>"$out/register.err"; then
    echo "register.c accepted a port ThingSpace does not call" >&2
    exit 1
fi
grep -q 'Tscb.INPUT_INVALID.CallbackUrl.Port' "$out/register.err"
# Refused before anything was sent: no answer, so no HTTP status to speak of.
if grep -q 'HTTP status' "$out/register.err"; then
    echo "register.c showed an HTTP status for an error that had no answer:" >&2
    cat "$out/register.err" >&2
    exit 1
fi
echo "register.c: 2 passed, 0 failed"

echo "== examples/cpp/register.cpp (tscb.hpp), and docs/c.md shows it as it is"
# docs/c.md's block under "## C++ (`tscb.hpp`)" is the example, character for character.
awk '/^## C\+\+ \(`tscb.hpp`\)/{f=1} f&&/^```cpp$/{p=1;next} p&&/^```$/{exit} p' docs/c.md >"$out/readme-cpp-example"
diff -u examples/cpp/register.cpp "$out/readme-cpp-example" || {
    echo "docs/c.md's C++ example differs from examples/cpp/register.cpp (above)" >&2
    exit 1
}
for cxx in "${cxx_compilers[@]}"; do
    THINGSPACE_BASE_URL="$TSCB_SIM_URL" THINGSPACE_BEARER_TOKEN="$(sim_credential "bearer token")" THINGSPACE_SESSION_TOKEN="$(sim_credential "session token")" \
        "$out/register_cpp_$cxx" TestAccount-2 CppService https://listener.example.com/cpp | tee "$out/register_cpp.out"
    grep -q '^registered CppService for account TestAccount-2$' "$out/register_cpp.out"
    grep -q '^CppService -> https://listener.example.com/cpp$' "$out/register_cpp.out"
    if THINGSPACE_BASE_URL="$TSCB_SIM_URL" THINGSPACE_BEARER_TOKEN="$(sim_credential "bearer token")" THINGSPACE_SESSION_TOKEN="$(sim_credential "session token")" \
        "$out/register_cpp_$cxx" TestAccount-2 CppService https://listener.example.com:8443/cb 2>"$out/register_cpp.err"; then
        echo "register.cpp accepted a port ThingSpace does not call" >&2
        exit 1
    fi
    grep -q '^Tscb.INPUT_INVALID.CallbackUrl.Port: ' "$out/register_cpp.err"
    if grep -q 'HTTP status' "$out/register_cpp.err"; then
        echo "register.cpp showed an HTTP status for an error that had no answer" >&2
        exit 1
    fi
done
echo "register.cpp: ${#cxx_compilers[@]} compilers passed"
start_sim
echo "== the C blocks of the README and the guides, run against the simulator"
# A fragment's error branch writes to stderr: a block that printed there, or nothing on stdout,
# did not do what its page says.
blocks="$out/doc-blocks-sim"
python3 tests/c/doc_blocks.py "$root" "$blocks" "$TSCB_SIM_URL" >"$blocks.list"
n=0
# shellcheck disable=SC2086  # pkg-config output is a list of words
while read -r block; do
    cc "${cflags[@]}" $inc "$blocks/$block.c" -o "$blocks/$block" $shared_libs $rpath
    if ! THINGSPACE_BASE_URL="$TSCB_SIM_URL" THINGSPACE_BEARER_TOKEN="$(sim_credential "bearer token")" \
        THINGSPACE_SESSION_TOKEN="$(sim_credential "session token")" "$blocks/$block" >"$blocks/$block.out" 2>"$blocks/$block.err" \
        || [ -s "$blocks/$block.err" ] || [ ! -s "$blocks/$block.out" ]; then
        echo "$block ($blocks/$block.c) failed; stdout, then stderr:" >&2
        cat "$blocks/$block.out" "$blocks/$block.err" >&2
        exit 1
    fi
    n=$((n + 1))
done <"$blocks.list"
grep -qx 'registered CarrierService' "$blocks/README_1.out"
grep -qx 'CarrierService' "$blocks/docs_c_1.out"
grep -q ' Success$' "$blocks/docs_receiving_callbacks_1.out"
grep -qx '  IMEI 353238060000001' "$blocks/docs_receiving_callbacks_1.out"
echo "C blocks of the docs: $n passed, 0 failed"
echo "== the README's build lines for its C program, as written"
# With this test's prefix for $HOME/.local, and make run in the repository (the user's directory
# is the repository, where they saved register.c).
mkdir -p "$out/readme-build"
cp "$blocks/README_1.c" "$out/readme-build/register.c"
awk '/^```sh$/ {f = 1; b = ""; next} f && /^```$/ {if (b ~ /cc register\.c/) {printf "%s", b; exit} f = 0; next} f {b = b $0 "\n"}' \
    README.md | sed -e "s|\$HOME/.local|$prefix|g" -e "s|^make install|make -s -C $root install|" >"$out/readme-build.sh"
(cd "$out/readme-build" && bash -euo pipefail "$out/readme-build.sh") | tee "$out/readme-build.out"
grep -qx 'registered CarrierService' "$out/readme-build.out"
echo "README.md's build lines: 1 passed, 0 failed"
echo "== docs/c.md's ./register block, against the simulator"
# The block as a user pastes it beside the program they built, with this simulator's address; what
# it prints is the '# ' lines under it.
awk '/^```sh$/ {f = 1; b = ""; next} f && /^```$/ {if (b ~ /\.\/register /) {printf "%s", b; exit} f = 0; next} f {b = b $0 "\n"}' \
    docs/c.md >"$out/c-md-register.sh"
sed -n 's/^# //p' "$out/c-md-register.sh" >"$out/c-md-register.shown"
sed "s|http://127.0.0.1:9000/api|$TSCB_SIM_URL|" "$out/c-md-register.sh" | (cd "$out" && bash -euo pipefail) >"$out/c-md-register.out"
diff -u "$out/c-md-register.shown" "$out/c-md-register.out" || {
    echo "docs/c.md's ./register block printed something else than it shows (above)" >&2
    exit 1
}
echo "docs/c.md's shell block: 1 passed, 0 failed"

echo "== CMake: find_package(tscb)"
# CMake is not on a bare machine: it comes from PyPI into a venv of our own.
venv="$target/tools-venv"
[ -x "$venv/bin/cmake" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check cmake; }
"$venv/bin/cmake" -S tests/cmake -B "$out/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
"$venv/bin/cmake" --build "$out/cmake" >/dev/null
if readelf -d "$out/cmake/register_static" | grep -q libtscb; then
    echo "tscb::tscb_static linked the shared library" >&2
    exit 1
fi
for variant in shared static; do
    THINGSPACE_BASE_URL="$TSCB_SIM_URL" THINGSPACE_BEARER_TOKEN="$(sim_credential "bearer token")" THINGSPACE_SESSION_TOKEN="$(sim_credential "session token")" \
        LD_LIBRARY_PATH="$prefix/lib" "$out/cmake/register_$variant" TestAccount-1 DeviceUsage https://cmake.example.com/cb
done
echo "cmake: 2 passed, 0 failed"

echo "== CMake: find_package(tscb) from C++ (tscb.hpp)"
"$venv/bin/cmake" -S tests/cmake-cpp -B "$out/cmake-cpp" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
"$venv/bin/cmake" --build "$out/cmake-cpp" >/dev/null
if readelf -d "$out/cmake-cpp/register_static" | grep -q libtscb; then
    echo "tscb::tscb_static linked the shared library (C++)" >&2
    exit 1
fi
for variant in shared static; do
    THINGSPACE_BASE_URL="$TSCB_SIM_URL" THINGSPACE_BEARER_TOKEN="$(sim_credential "bearer token")" THINGSPACE_SESSION_TOKEN="$(sim_credential "session token")" \
        LD_LIBRARY_PATH="$prefix/lib" "$out/cmake-cpp/register_$variant" TestAccount-1 CppCMake https://cmake.example.com/cpp \
        | grep -q '^registered CppCMake for account TestAccount-1$'
done
echo "cmake (C++): 2 passed, 0 failed"
