# Shared by release/dist.sh and release/test-dist.sh (sourced from the repository root).
# shellcheck shell=bash
# need_debs uses apt-get (Debian, Ubuntu); root, or sudo without a password.

die() {
    echo "error: $*" >&2
    exit 1
}

target="${CARGO_TARGET_DIR:-$root/target}"

# One version for every artifact: the workspace's. Refuse to build if a package strays from it.
version=$(cargo metadata --no-deps --format-version 1 --locked | python3 -c '
import json, sys
versions = {p["version"] for p in json.load(sys.stdin)["packages"]}
if len(versions) != 1:
    sys.exit("the workspace packages disagree on the version: " + ", ".join(sorted(versions)))
print(versions.pop())')

# The pinned release tools (release/requirements.txt) in a venv of their own. auditwheel needs
# Python >= 3.10, so take the first python3 that is new enough.
venv="$target/dist-venv"
tools_venv() {
    local stamp="$venv/requirements.txt"
    if ! cmp -s release/requirements.txt "$stamp"; then
        local py
        for py in python3 python3.13 python3.12 python3.11 python3.10; do
            if command -v "$py" >/dev/null && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
                break
            fi
            py=
        done
        [ -n "$py" ] || die "the release tools need Python >= 3.10 (auditwheel)"
        rm -rf "$venv"
        "$py" -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check -r release/requirements.txt
        cp release/requirements.txt "$stamp"
    fi
}

# The Linux targets of the release: the Rust triple, and its short name in the C tarball's name.
# gnu: linked by zig against glibc 2.17 (manylinux2014); musl: musl 1.2 (musllinux_1_2).
triples=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
glibc=2.17
short_name() { # x86_64-unknown-linux-gnu -> x86_64-linux-gnu
    echo "${1%%-*}-linux-${1##*-}"
}

# need_debs PACKAGE...: installs the Debian packages that are missing (CI is a fresh machine; we
# are root there). Elsewhere, says what to install.
need_debs() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} = 0 ] && return 0
    local sudo=()
    if [ "$(id -u)" != 0 ]; then # GitHub's runners: sudo without a password
        sudo -n true 2>/dev/null || die "install the Debian packages ${missing[*]}"
        sudo=(sudo)
    fi
    echo "== apt-get install ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# platform_text TRIPLE: where that target's C tarball runs, for its README.txt.
platform_text() {
    case "$1" in
    *-gnu) echo "Linux ${1%%-*} with glibc $glibc or newer" ;;
    *-musl) echo "Linux ${1%%-*} with musl 1.2 or newer (Alpine 3.13 and later)" ;;
    esac
}
