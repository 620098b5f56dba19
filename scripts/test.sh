#!/usr/bin/env bash
# Set up and run every test: lint, types, JS unit tests, Python unit/oracle/property tests, the real-browser
# UI tests (JupyterLab + Debian's headless Chromium), the notebooks and the wheel build; then the unit tests
# again on pandas 2.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive OMP_NUM_THREADS=1
step() { echo; echo "=== $1 ($((SECONDS))s)"; }

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
step "chromium"
if ! command -v chromium >/dev/null 2>&1; then
  $SUDO apt-get update -q && $SUDO apt-get install -y -q chromium
fi
step "java (PySpark's local mode: the spark-marked tests)"
if ! command -v java >/dev/null 2>&1; then
  $SUDO apt-get update -q && $SUDO apt-get install -y -q openjdk-17-jre-headless
fi
step "setup (.venv, npm, pip install -e .[test])"
bash scripts/setup.sh
step "ruff"
.venv/bin/ruff check . && .venv/bin/ruff format --check .
step "tsc + vitest"
(cd js && npm run --silent check && npm test --silent)
step "pytest"
# two processes (pytest-xdist): the real-browser tests in one, the files spread over both (tests/conftest.py)
.venv/bin/python -m pytest tests -n 2 --dist loadgroup "$@"
step "pytest on pandas 2 (.venv-pandas2: unit tests, no browser)"
# pyproject allows pandas >= 2.0 while 3.x is what installs: the unit tests run on the newest 2.x too
# (without the spark-marked tests: Spark runs once, in the pandas-3 job above).
[ -x .venv-pandas2/bin/python ] || python3 -m venv .venv-pandas2
.venv-pandas2/bin/python -m pip install -q --disable-pip-version-check -e ".[test]" "pandas<3"
.venv-pandas2/bin/python -m pytest tests --ignore=tests/ui -m "not slow and not spark" -q -x -p no:cacheprovider \
  -n 2 --dist loadgroup
step "done"
