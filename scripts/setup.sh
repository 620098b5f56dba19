#!/usr/bin/env bash
# Shared setup for scripts/demo.sh and scripts/test.sh: .venv with the package (front-end built) and extras.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
[ -x .venv/bin/python ] || python3 -m venv .venv
(cd js && npm ci --no-audit --no-fund --loglevel=error && npm run build)
.venv/bin/python -m pip install -q -e ".[test]"
