"""Rerun the reference SGNS experiment and put its WordSim-353 score next to the reference's.

The reference (the experiment our users know) trained skip-gram with negative sampling on
text8: min_count 5, subsampling t=1e-5, 100 dimensions, window 5, K=10 noise words, Adam at
lr 0.002 with batches of 2048, 50 epochs, and reached a WordSim-353 Spearman of 0.6867.
This script trains TorchWord2Vec with those settings (``optimizer="adam"``) and, for
comparison, with gensim's SGD on the same data settings, and prints a Markdown table.

The corpus is real text8 when it is on this machine (``$TORCHW2V_TEXT8`` or the torchw2v
cache; it is not downloaded here), else ``../shared/data/enwiki-text8style.gz`` (Wikipedia
normalised like text8, 16.9M words), else the path given. It takes tens of minutes on a GPU
and hours on a CPU at 50 epochs: ``--epochs`` shortens it (the table says how many ran).

Usage::

    python examples/reference_experiment.py [CORPUS] [--epochs 50] [--runs adam sgd] [--device auto]
"""
import argparse
import logging
import time
from pathlib import Path

from torchw2v import TorchWord2Vec
from torchw2v.corpus import open_corpus
from torchw2v.datasets import text8_path
from torchw2v.evaluation import evaluate

logger = logging.getLogger("reference_experiment")

REFERENCE_SPEARMAN = 0.6867
"""WordSim-353 Spearman of the reference run."""

STAND_IN = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "enwiki-text8style.gz"
"""Our text8 stand-in, used when real text8 is not on this machine."""

DATA_SETTINGS = dict(sg=1, vector_size=100, window=5, negative=10, min_count=5, sample=1e-5)
"""The reference's model and data settings, common to every run."""

RUNS = {
    "adam": dict(optimizer="adam", optimizer_lr=0.002, batch_size=2048),
    "sgd": dict(alpha=0.025, min_alpha=0.0001),
}
"""The optimizer settings of each run: the reference's Adam, and gensim's linear-decay SGD."""


def find_corpus(given):
    """The corpus path: ``given``, else local text8, else the stand-in."""
    if given:
        return given
    try:
        return str(text8_path(download=False))
    except FileNotFoundError:
        if not STAND_IN.is_file():
            raise SystemExit(f"no corpus: text8 is not on this machine and {STAND_IN} is missing; pass a path")
        return str(STAND_IN)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", help="corpus file (default: local text8, else the stand-in)")
    parser.add_argument("--epochs", type=int, default=50, help="passes over the corpus (reference: 50)")
    parser.add_argument("--runs", nargs="+", choices=sorted(RUNS), default=["adam", "sgd"])
    parser.add_argument("--device", default="auto", help="torch device (default: auto)")
    parser.add_argument("--workers", type=int, default=2, help="training threads on CPU (default: 2)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s")

    corpus_path = find_corpus(args.corpus)
    rows = [f"| reference (text8, Adam lr 0.002, batch 2048, 50 epochs) | {REFERENCE_SPEARMAN:.4f} | – | – |"]
    for name in args.runs:
        settings = dict(DATA_SETTINGS, **RUNS[name], epochs=args.epochs, workers=args.workers, device=args.device)
        logger.info("run %s on %s with %s", name, corpus_path, settings)
        start = time.perf_counter()
        model = TorchWord2Vec(open_corpus(corpus_path), **settings)
        minutes = (time.perf_counter() - start) / 60
        scores = evaluate(model.wv)
        rows.append(f"| torchw2v {name} ({Path(corpus_path).name}, {args.epochs} epochs, {model.device}) | "
                     f"{scores.wordsim_spearman:.4f} | {scores.analogy_accuracy:.1%} | {minutes:.1f} min |")
        logger.info("%s: WordSim-353 %.4f, analogies %.1f%%", name, scores.wordsim_spearman,
                    100 * scores.analogy_accuracy)
    print("| run | WordSim-353 Spearman | analogy accuracy (top 30,000) | wall time |")
    print("|---|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
