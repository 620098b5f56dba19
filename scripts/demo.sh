#!/usr/bin/env bash
# Set up and open JupyterLab on the quickstart notebook (extra arguments go to jupyter lab).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
root_flag=()
[ "$(id -u)" -ne 0 ] || root_flag=(--allow-root)  # Jupyter refuses to run as root without it
exec .venv/bin/jupyter lab --ip=127.0.0.1 "${root_flag[@]}" notebooks/01-quickstart.ipynb "$@"
