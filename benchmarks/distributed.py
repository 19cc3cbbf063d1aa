"""Benchmark distributed training: 1 process against N processes launched by ``torchrun``.

Trains the same model on the same corpus with one ordinary process (no ``torch.distributed``)
and with ``torchrun --standalone --nproc_per_node=N`` for each N asked for, each run in fresh
processes, and prints a Markdown table with the runs side by side: words/s (corpus words ×
epochs / wall seconds of the constructor, vocabulary scan included, measured on rank 0),
WordSim-353 Spearman and analogy accuracy (:func:`torchw2v.evaluation.evaluate`).

On CPU the processes talk through Gloo; with ``--device cuda`` each process takes one GPU
(``cuda:LOCAL_RANK``) and they talk through NCCL, so N must not exceed the GPUs. On a machine
with few cores, N processes × ``--workers`` threads compete for them.

The default corpus is ``../shared/data/enwiki-text8style.gz`` relative to the repository root.

Examples
--------
A short CPU run: 1 and 2 processes, the first 2M words, one epoch::

    python benchmarks/distributed.py --limit-words 2000000 --epochs 1

One to four GPUs of one machine, the whole corpus::

    python benchmarks/distributed.py --device cuda --nprocs 1 2 4 --epochs 5
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # benchmark this checkout's torchw2v, installed or not

from torchw2v.comparison import ANALOGY_RESTRICT_VOCAB, LOG_FORMAT  # noqa: E402
from torchw2v.corpus import open_corpus  # noqa: E402
from torchw2v.config import DEFAULT_SYNC_WORDS  # noqa: E402

logger = logging.getLogger("torchw2v.benchmark")

DEFAULT_CORPUS = Path(os.path.normpath(REPO_ROOT / ".." / "shared" / "data" / "enwiki-text8style.gz"))

SETTINGS = {"negative": 5, "window": 5, "vector_size": 100, "sample": 1e-3, "min_count": 5}
"""Settings of every run (those of ``benchmarks/benchmark.py``), with ``sg``, ``epochs``, ``workers`` from the
command line."""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line.

    Examples
    --------
    >>> parse_args(["--nprocs", "1", "4"]).nprocs
    [1, 4]
    """
    parser = argparse.ArgumentParser(description="Benchmark TorchWord2Vec on 1 process against N torchrun processes.")
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS,
                        help="corpus file, text8 format or one sentence a line (default: %(default)s)")
    parser.add_argument("--nprocs", type=int, nargs="+", default=[1, 2],
                        help="process counts to run; 1 is an ordinary single process (default: %(default)s)")
    parser.add_argument("--limit-words", type=int, metavar="N", help="use only the first N words of the corpus")
    parser.add_argument("--epochs", type=int, default=1, help="passes over the corpus (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=1, help="training threads per process (default: %(default)s)")
    parser.add_argument("--sg", type=int, choices=[0, 1], default=1,
                        help="1: skip-gram, 0: CBOW (default: %(default)s)")
    parser.add_argument("--sync-words", type=int, default=DEFAULT_SYNC_WORDS,
                        help="raw words per rank between weight synchronisations (default: %(default)s)")
    parser.add_argument("--device", default="cpu", help="cpu (Gloo) or cuda (NCCL, one GPU per process)")
    parser.add_argument("--worker-result", type=Path, help=argparse.SUPPRESS)  # set for the measured processes
    return parser.parse_args(argv)


def model_kwargs(args: argparse.Namespace, nprocs: int) -> dict:
    """The constructor's keyword arguments for a run on ``nprocs`` processes.

    Examples
    --------
    >>> model_kwargs(parse_args(["--epochs", "2"]), 2)["distributed"]
    True
    """
    kwargs = {**SETTINGS, "sg": args.sg, "epochs": args.epochs, "workers": args.workers, "device": args.device}
    if nprocs > 1:
        kwargs.update(distributed=True, sync_words=args.sync_words)
    return kwargs


def run_worker(args: argparse.Namespace) -> None:
    """Train and evaluate in this process (one rank under torchrun); rank 0 writes the result."""
    from torchw2v import TorchWord2Vec
    from torchw2v.distributed import get_world_size_and_rank
    from torchw2v.evaluation import evaluate

    nprocs = int(os.environ.get("WORLD_SIZE", 1))
    corpus = open_corpus(args.corpus, limit_words=args.limit_words)
    start = time.perf_counter()
    model = TorchWord2Vec(corpus, **model_kwargs(args, nprocs))
    wall_seconds = time.perf_counter() - start
    if get_world_size_and_rank()[1] != 0:
        return
    evaluation = evaluate(model.wv, restrict_vocab=ANALOGY_RESTRICT_VOCAB)
    args.worker_result.write_text(json.dumps({
        "nprocs": nprocs, "wall_seconds": wall_seconds, "corpus_words": model.corpus_total_words,
        "epochs": model.epochs, "vocab_size": len(model.wv), "wordsim": evaluation.wordsim_spearman,
        "analogy": evaluation.analogy_accuracy, "analogy_questions": evaluation.analogy_questions,
    }))


def launch(args: argparse.Namespace, nprocs: int, result: Path) -> dict:
    """Run one measurement in fresh processes: plain Python for 1, ``torchrun`` for more."""
    script = [str(Path(__file__).resolve()), str(args.corpus), "--epochs", str(args.epochs),
              "--workers", str(args.workers), "--sg", str(args.sg), "--sync-words", str(args.sync_words),
              "--device", args.device, "--worker-result", str(result)]
    if args.limit_words is not None:
        script += ["--limit-words", str(args.limit_words)]
    if nprocs == 1:
        command = [sys.executable, *script]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nprocs}",
                   *script]
    logger.info("running %s", " ".join(command))
    subprocess.run(command, check=True)
    return json.loads(result.read_text())


def format_table(runs: Sequence[dict]) -> str:
    """A Markdown table with one column per run.

    Examples
    --------
    >>> run = {"nprocs": 2, "wall_seconds": 2.0, "corpus_words": 1000, "epochs": 1, "vocab_size": 10,
    ...        "wordsim": 0.5, "analogy": 0.25, "analogy_questions": 100}
    >>> print(format_table([run]).splitlines()[2])
    | words/s | 500 |
    """
    def row(name, values):
        return f"| {name} | " + " | ".join(values) + " |"

    base = runs[0]["corpus_words"] * runs[0]["epochs"] / runs[0]["wall_seconds"]
    speeds = [run["corpus_words"] * run["epochs"] / run["wall_seconds"] for run in runs]
    lines = [
        row("processes", [str(run["nprocs"]) for run in runs]),
        row("---", ["---:"] * len(runs)),
        row("words/s", [f"{speed:,.0f}" for speed in speeds]),
        row("speed-up", [f"{speed / base:.2f}×" for speed in speeds]) if len(runs) > 1 else None,
        row("wall time, s", [f"{run['wall_seconds']:.1f}" for run in runs]),
        row("WordSim-353 Spearman", [f"{run['wordsim']:.3f}" for run in runs]),
        row(f"analogy accuracy (top {ANALOGY_RESTRICT_VOCAB:,} words)", [f"{run['analogy']:.1%}" for run in runs]),
        row("analogy questions evaluated", [f"{run['analogy_questions']:,}" for run in runs]),
        row("vocabulary size", [f"{run['vocab_size']:,}" for run in runs]),
    ]
    return "\n".join(line for line in lines if line is not None) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run every process count and print the table."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    logging.getLogger("torchw2v").setLevel(logging.INFO)
    if args.worker_result is not None:
        run_worker(args)
        return 0
    with tempfile.TemporaryDirectory(prefix="torchw2v-distributed-") as folder:
        runs = [launch(args, nprocs, Path(folder) / f"run-{nprocs}.json") for nprocs in args.nprocs]
    settings = {**model_kwargs(args, 1), "sync_words": args.sync_words}
    limit = f", first {args.limit_words:,} words" if args.limit_words is not None else ""
    print(f"Corpus: `{args.corpus}`{limit}. Settings: `{settings}`.\n")
    print(format_table(runs), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
