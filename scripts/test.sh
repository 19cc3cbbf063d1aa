#!/usr/bin/env bash
# Install torchw2v with its test extras into .venv (torch pinned) and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q -c constraints.txt -e ".[test]"
exec .venv/bin/python -m pytest -q "$@"
