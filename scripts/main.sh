#!/usr/bin/env bash
# Install torchw2v into .venv (torch pinned), then train TorchWord2Vec and gensim on the same
# corpus, evaluate both and print the side-by-side table. With no argument the corpus is the
# embedded default (gensim's bundled lee_background.cor); pass a path (plain, .gz, .bz2) to use another.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q -c constraints.txt -e .
exec .venv/bin/python -m torchw2v compare "$@"
