#!/usr/bin/env bash
# Install torchw2v into .venv (torch pinned), then run the main job: train TorchWord2Vec and gensim on
# the same corpus, evaluate both, write the report (Markdown + figures) to report/, and print the
# comparison table. Without CORPUS the corpus is text8 when it is here or can be downloaded, else the
# embedded default (gensim's bundled lee_background.cor). Options go to `torchw2v report`.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q -c constraints.txt -e .
exec .venv/bin/python -m torchw2v report --out report "$@"
