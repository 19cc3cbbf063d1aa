"""Quality when updates start from shared stale values without a repeat cap, as in the fused kernel.

On a GPU the fused Triton step (:mod:`torchw2v.kernels.triton_step`) applies every center's
updates in place with atomic adds: only the programs in flight together (on an H100 about 800
centers for skip-gram, 400 for CBOW) read the same starting values, and a repeated row's updates
are summed without a cap. One program of ``W`` centers (``centers_per_program=W``) equals the
batched torch step at batch ``W`` without its cap (``tests/test_triton_step.py``), so this
script trains the batched torch path on CPU (``cpu_kernel="torch"``) at batch ``W``, with and
without the cap, next to gensim, and prints WordSim-353 and analogy accuracy. Each center of a
batch misses the other centers' updates, about as a GPU program misses those of the programs in
flight beside it; a configuration that diverges is reported as such.

Examples
--------
The README's table (text8-head, 5 epochs; about 25 minutes on 2 cores)::

    python benchmarks/kernel_staleness.py ../shared/data/text8-head.gz --sg 0 --batches 512 1024 4096
    python benchmarks/kernel_staleness.py ../shared/data/text8-head.gz --sg 1 --batches 1024 2048 4096
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import math
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # measure this checkout's torchw2v, installed or not

from gensim.models import Word2Vec  # noqa: E402
from gensim.models.word2vec import LineSentence  # noqa: E402

from torchw2v import TorchWord2Vec, objectives  # noqa: E402
from torchw2v.evaluation import analogy_accuracy, wordsim353  # noqa: E402
from torchw2v.trainer import TrainingDiverged  # noqa: E402

logger = logging.getLogger("torchw2v.benchmark.kernel_staleness")

SETTINGS = dict(vector_size=100, window=5, negative=5, sample=1e-3, min_count=5, epochs=5, workers=1, seed=1,
                cbow_mean=1)


@contextlib.contextmanager
def uncapped_updates():
    """The batched torch step with its repeat caps removed (every repeated row's updates summed)."""
    saved = objectives.ROW_UPDATE_CAP, objectives.CBOW_MEAN_INPUT_UPDATE_CAP, objectives.add_row_updates.__defaults__
    objectives.ROW_UPDATE_CAP = objectives.CBOW_MEAN_INPUT_UPDATE_CAP = math.inf
    objectives.add_row_updates.__defaults__ = (None, math.inf)
    try:
        yield
    finally:
        (objectives.ROW_UPDATE_CAP, objectives.CBOW_MEAN_INPUT_UPDATE_CAP,
         objectives.add_row_updates.__defaults__) = saved


def score(wv):
    """WordSim-353 Spearman and 3CosAdd analogy accuracy (restricted to 30,000 words)."""
    return wordsim353(wv)["spearman"], analogy_accuracy(wv)["accuracy"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="text8-style or one-sentence-a-line corpus (.gz, .bz2 or plain)")
    parser.add_argument("--sg", type=int, choices=(0, 1), default=0, help="1: skip-gram, 0: CBOW (default: 0)")
    parser.add_argument("--batches", nargs="+", type=int, default=[512, 1024], help="centers sharing start values")
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    settings = dict(SETTINGS, sg=args.sg, epochs=args.epochs)
    rows = ["| mode | centers sharing start values | repeat cap | WordSim-353 | analogies | seconds |",
            "|---|---:|---|---:|---:|---:|"]
    mode = "skip-gram" if args.sg else "CBOW"
    start = time.perf_counter()
    ws, analogies = score(Word2Vec(LineSentence(str(args.corpus)), **settings).wv)
    rows.append(f"| {mode} | gensim | | {ws:.3f} | {analogies:.1%} | {time.perf_counter() - start:.0f} |")
    for batch in args.batches:
        for capped in (False, True):
            start = time.perf_counter()
            try:
                with contextlib.nullcontext() if capped else uncapped_updates():
                    model = TorchWord2Vec(LineSentence(str(args.corpus)), device="cpu", cpu_kernel="torch",
                                          batch_size=batch, **settings)
            except TrainingDiverged as error:
                logger.info("diverged: %s", error)
                quality = "diverged | "
            else:
                ws, analogies = score(model.wv)
                quality = f"{ws:.3f} | {analogies:.1%}"
            rows.append(f"| {mode} | {batch} | {'yes' if capped else 'no'} | {quality} | "
                        f"{time.perf_counter() - start:.0f} |")
            logger.info(rows[-1])
    print("\n".join(rows))


if __name__ == "__main__":
    main()
