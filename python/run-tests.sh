#!/usr/bin/env bash
# The Python tests, as a user installs the package: `pip install ./python` into a virtual
# environment of our own, then pytest (warnings are errors) against a tscb-sim binary, the stub
# checked against the compiled module, and the typed example under mypy --strict.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/py-venv"
pip=("$venv/bin/pip" install -q --disable-pip-version-check)

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"${pip[@]}" -r python/requirements-dev.txt
"${pip[@]}" ./python
cargo build --release --locked -q -p tscb-sim
export TSCB_SIM_BIN="$target/release/tscb-sim"

# Run from target/ so that the source tree's python/tscb (which has no compiled module) can
# never shadow the installed package.
cd "$target"
"$venv/bin/python" -m mypy.stubtest tscb._native
"$venv/bin/mypy" --strict --no-incremental "$root/python/examples/quickstart.py" "$root/python/examples/listener.py"
"$venv/bin/pytest" -p no:cacheprovider "$root/python/tests"
