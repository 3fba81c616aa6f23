#!/usr/bin/env bash
# Runs the Python grpcio client test against the real `smishd serve`.
# Installs grpcio, grpcio-tools and grpcio-health-checking into a venv (target/python-venv by
# default, SMISHD_PY_VENV to change it), builds the binary, then runs smishd_client_test.py.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${SMISHD_PY_VENV:-$repo/target/python-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"
(cd "$repo" && cargo build -q --bin smishd)
exec "$venv/bin/python" "$here/smishd_client_test.py" --binary "$repo/target/debug/smishd"
