#!/usr/bin/env bash
# Set up and open JupyterLab on the quickstart notebook (extra arguments go to jupyter lab).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/jupyter lab --ip=127.0.0.1 notebooks/01-quickstart.ipynb "$@"
