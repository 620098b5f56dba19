#!/usr/bin/env bash
# Set up and run every test: lint, types, JS unit tests, Python unit/oracle/property tests, the real-browser
# UI tests (JupyterLab + Debian's headless Chromium), the notebooks and the wheel build.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive OMP_NUM_THREADS=1
step() { echo; echo "=== $1 ($((SECONDS))s)"; }

step "chromium"
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q && $SUDO apt-get install -y -q chromium
fi
step "setup (.venv, npm, pip install -e .[test])"
bash scripts/setup.sh
step "ruff"
.venv/bin/ruff check . && .venv/bin/ruff format --check .
step "tsc + vitest"
(cd js && npm run --silent check && npm test --silent)
step "pytest"
.venv/bin/python -m pytest tests "$@"
step "done"
