#!/usr/bin/env bash
# Install torchw2v into .venv (torch pinned), then run the main job: train TorchWord2Vec and gensim on
# the same corpus, evaluate both, write the report (Markdown + figures) to report/, and print the
# comparison table. Without CORPUS the corpus is text8 when it is here or can be downloaded, else the
# text8 sample packaged with torchw2v (its first 2,000,000 words). The settings are skip-gram, 3 epochs
# (--sg 1 --epochs 3: offline, the whole job fits in 5 minutes on 2 shared cores) and gensim's defaults
# otherwise (100 dimensions, window 5, negative 5, min_count 5); the options given (see
# `.venv/bin/torchw2v report --help`) go to `torchw2v report` and override them.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q -c constraints.txt -e .
exec .venv/bin/python -m torchw2v report --out report --sg 1 --epochs 3 "$@"
