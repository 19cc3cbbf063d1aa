"""Quality of the device path at its default (CUDA) settings against gensim, measured on CPU.

The device path (:class:`torchw2v.torch_steps.TorchSteps`: corpus, batches and updates on the
device) runs the same code on CPU as on CUDA, so its quality at the CUDA defaults can be checked
here: each configuration trains gensim's ``Word2Vec`` and ``TorchWord2Vec(device="cpu",
cpu_kernel="torch")`` with the device's default ``batch_size`` (or ``--batch-size``), same
settings, ``workers=1``, and prints WordSim-353 Spearman and analogy accuracy side by side with
their differences. ``--record`` appends the table to ``benchmarks/RESULTS.md``.

``--cap C`` replaces the repeat caps of every matrix (the inner nodes' too) by ``C``; ``--cap inf``
trains without the repeat cap: the fused Triton kernel's semantics for the centers
whose programs are in flight together (each misses the others' updates, as the centers of one
update do), so ``--batch-size W --cap inf`` measures the kernel's staleness window ``W``.

Examples::

    python benchmarks/device_quality.py --corpus ../shared/data/text8-head.gz --configs cbow sg
    python benchmarks/device_quality.py --configs sg --batch-size 1024 --cap inf
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

from benchmark import record_results  # noqa: E402
from torchw2v.config import default_batch_size  # noqa: E402

logger = logging.getLogger("torchw2v.device_quality")

DEFAULT_CORPUS = REPO_ROOT / ".." / "shared" / "data" / "text8-head.gz"

SETTINGS = {"vector_size": 100, "window": 5, "negative": 5, "sample": 1e-3, "min_count": 5, "epochs": 5,
            "workers": 1, "seed": 1}
"""The issue's settings: those of the benchmark, on one worker."""

CONFIGS = {
    "cbow": {"sg": 0},
    "sg": {"sg": 1},
    "cbow-hs": {"sg": 0, "hs": 1, "negative": 0},
    "sg-hs": {"sg": 1, "hs": 1, "negative": 0},
    "sg-adam": {"sg": 1, "optimizer": "adam"},
}


def evaluate(wv):
    """WordSim-353 Spearman and 3CosAdd analogy accuracy (gensim's numbers)."""
    from torchw2v.evaluation import analogies, word_pairs

    return word_pairs(wv).spearman, analogies(wv).accuracy["3cosadd"]


def run(corpus, name, batch_size, epochs, cap=None):
    """Train gensim and the device path on ``corpus`` with configuration ``name``; return a table row.

    ``batch_size`` None takes the configuration's CUDA default. ``cap`` replaces the repeat caps of the
    SGD updates, for every matrix (``inf``: summed without a cap, the fused kernel's semantics for the
    centers that share starting values; None: the library's).
    """
    import torch
    from gensim.models import Word2Vec
    from gensim.models.word2vec import Text8Corpus

    from torchw2v import TorchWord2Vec, objectives, torch_steps
    from torchw2v.trainer import TrainingDiverged

    torch.set_num_threads(1)
    settings = dict(SETTINGS, epochs=epochs, **CONFIGS[name])
    if batch_size is None:  # the configuration's CUDA default (with HS: 64 slots for skip-gram, 256 for CBOW)
        batch_size = default_batch_size("cuda", "torch", settings["sg"], settings.get("hs", 0))
    gensim_settings = {k: v for k, v in settings.items() if k != "optimizer"}
    start = time.perf_counter()
    reference = Word2Vec(Text8Corpus(str(corpus)), **gensim_settings)
    gensim_seconds = time.perf_counter() - start
    start = time.perf_counter()
    rule = torch_steps.RowUpdates
    if cap is not None:
        torch_steps.RowUpdates = lambda caps=None: rule(cap=cap)
    try:
        model = TorchWord2Vec(Text8Corpus(str(corpus)), device="cpu", cpu_kernel="torch", batch_size=batch_size,
                              **settings)
    except TrainingDiverged:
        model = None
    finally:
        torch_steps.RowUpdates = rule
    seconds = time.perf_counter() - start
    g_ws, g_an = evaluate(reference.wv)
    if cap is not None:
        caps = f"{cap:g}"
    elif settings.get("hs") and not settings["sg"]:  # CBOW caps the Huffman nodes apart (torch_steps.TorchSteps)
        caps = f"{objectives.ROW_UPDATE_CAP:g}, tree {objectives.TREE_ROW_UPDATE_CAP:g}"
    else:
        caps = f"{objectives.ROW_UPDATE_CAP:g}"
    gensim = f"| {name} | {batch_size} | {caps} | {g_ws:.3f} / {100 * g_an:.1f}% |"
    if model is None:
        return f"{gensim} diverged | | {gensim_seconds:.0f} s / {seconds:.0f} s |"
    t_ws, t_an = evaluate(model.wv)
    return (f"{gensim} {t_ws:.3f} / {100 * t_an:.1f}% | {t_ws - g_ws:+.3f} / {100 * (t_an - g_an):+.1f} pp | "
            f"{gensim_seconds:.0f} s / {seconds:.0f} s |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=["cbow", "sg"])
    parser.add_argument("--batch-size", type=int,
                        help="center slots per update (default: each configuration's CUDA default)")
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    parser.add_argument("--cap", type=float, help="repeat cap of the updates (default: the library's; inf: none)")
    parser.add_argument("--record", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rows = ["| config | batch | cap | gensim WS353 / analogies | device path | difference | time gensim / device |",
            "|---|---|---|---|---|---|---|"]
    for name in args.configs:
        rows.append(run(args.corpus, name, args.batch_size, args.epochs, args.cap))
        print(rows[-1], flush=True)
    table = "\n".join(rows) + "\n"
    print(table)
    if args.record:
        record_results(f"Device path quality on CPU, `{args.corpus.name}`, {args.epochs} epochs, "
                       f"`python benchmarks/device_quality.py {' '.join(argv or sys.argv[1:])}`\n\n{table}",
                       " device-path quality")
    return 0


if __name__ == "__main__":
    sys.exit(main())
