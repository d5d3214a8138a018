#!/usr/bin/env bash
# `make actionlint`: GitHub's workflow files through actionlint (release/actionlint.txt), from a
# venv of its own so that `make test` need not build the release tools' venv.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv="${CARGO_TARGET_DIR:-$root/target}/lint-venv"
if ! cmp -s release/actionlint.txt "$venv/actionlint.txt"; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check --only-binary=:all: --require-hashes -r release/actionlint.txt
    cp release/actionlint.txt "$venv/actionlint.txt"
fi
"$venv/bin/actionlint" -no-color .github/workflows/*.yml
echo "actionlint: $(ls .github/workflows/*.yml | wc -l) workflow file(s) passed"
