# Shared by release/dist.sh and release/test-dist.sh (sourced from the repository root).
# shellcheck shell=bash

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
