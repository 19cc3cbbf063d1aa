"""Benchmark torchw2v against gensim on the full-size corpus, one table per configuration.

Each configuration trains TorchWord2Vec and gensim's Word2Vec with the same settings, each in a
fresh process (see :func:`torchw2v.comparison.compare`), and prints a Markdown table of words/s,
training wall time, peak memory, WordSim-353 Spearman and analogy accuracy. ``--record`` also
appends the tables, with the machine and library versions, to ``benchmarks/RESULTS.md``.

The default corpus is ``../shared/data/enwiki-text8style.gz`` relative to the repository root
(100 MB of Wikipedia text in text8 format, 17M words); a corpus given on the command line is
relative to the current directory.

Examples
--------
Both configurations, full corpus and settings (minutes)::

    python benchmarks/benchmark.py --record

A quick skip-gram run on the first million words, one epoch::

    python benchmarks/benchmark.py --configs sg --epochs 1 --limit-words 1000000
"""
from __future__ import annotations

import argparse
import importlib.metadata
import logging
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # benchmark this checkout's torchw2v, installed or not

from torchw2v.comparison import LOG_FORMAT, compare, format_table  # noqa: E402

logger = logging.getLogger("torchw2v.benchmark")

DEFAULT_CORPUS = Path(os.path.normpath(REPO_ROOT / ".." / "shared" / "data" / "enwiki-text8style.gz"))
RESULTS_PATH = REPO_ROOT / "benchmarks" / "RESULTS.md"

COMMON_SETTINGS: dict[str, Any] = {
    "negative": 5, "window": 5, "vector_size": 100, "sample": 1e-3, "min_count": 5, "epochs": 5, "workers": 2,
}
"""Settings of every configuration: those of the original word2vec papers' text8 runs."""

CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "sg": ("skip-gram, negative sampling", {"sg": 1}),
    "cbow": ("CBOW, negative sampling", {"sg": 0}),
    "sg-hs": ("skip-gram, hierarchical softmax", {"sg": 1, "hs": 1, "negative": 0}),
    "cbow-hs": ("CBOW, hierarchical softmax", {"sg": 0, "hs": 1, "negative": 0}),
}
"""Configurations by name: a title and the settings added to :data:`COMMON_SETTINGS`."""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the benchmark's command line.

    Examples
    --------
    >>> parse_args(["--configs", "sg", "--epochs", "1"]).configs
    ['sg']
    """
    parser = argparse.ArgumentParser(
        description="Benchmark torchw2v against gensim: one Markdown table per configuration.",
    )
    parser.add_argument(
        "corpus", nargs="?", type=Path, default=DEFAULT_CORPUS,
        help="corpus file, plain, .gz or .bz2, text8 format or one sentence a line (default: %(default)s)",
    )
    parser.add_argument(
        "--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS),
        help="configurations to run, in this order (default: all: %(default)s)",
    )
    parser.add_argument(
        "--epochs", type=int, default=COMMON_SETTINGS["epochs"], help="passes over the corpus (default: %(default)s)",
    )
    parser.add_argument(
        "--workers", type=int, default=COMMON_SETTINGS["workers"],
        help="worker threads on each side (default: %(default)s)",
    )
    parser.add_argument(
        "--limit-words", type=int, metavar="N", help="use only the first N words of the corpus, on both sides",
    )
    parser.add_argument("--device", help="torchw2v only: torch device (default: TorchWord2Vec's, auto)")
    parser.add_argument(
        "--batch-size", type=int, help="torchw2v only: training examples per batch (default: automatic)",
    )
    parser.add_argument(
        "--cpu-kernel", choices=["auto", "native", "torch"],
        help="torchw2v only: CPU training path (default: TorchWord2Vec's, auto)",
    )
    parser.add_argument(
        "--record", action="store_true", help=f"append the tables and machine details to {RESULTS_PATH.name}",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="also show gensim's progress log messages")
    return parser.parse_args(argv)


def config_settings(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of :func:`compare` for configuration ``name`` and the command line.

    Examples
    --------
    >>> settings = config_settings("cbow", parse_args(["--epochs", "1"]))
    >>> settings["sg"], settings["epochs"], settings["workers"]
    (0, 1, 2)
    """
    settings = {**COMMON_SETTINGS, **CONFIGS[name][1], "epochs": args.epochs, "workers": args.workers}
    for key in ("device", "batch_size", "cpu_kernel"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    return settings


def _git_revision() -> str:
    """The checkout's commit, ``-dirty`` if it has changes, or ``unknown`` outside git."""
    try:
        completed = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=REPO_ROOT, capture_output=True, text=True, check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return completed.stdout.strip()


def machine_info() -> dict[str, str]:
    """Where and with what the benchmark ran: date, command line, machine, library versions."""
    import torch  # only for the accelerator's name; the measurements run in child processes

    accelerator = torch.cuda.get_device_name() if torch.cuda.is_available() else "none"
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "CPUs": str(os.cpu_count()),
        "platform": platform.platform(),
        "accelerator": accelerator,
        "versions": ", ".join(
            f"{package} {importlib.metadata.version(package)}" for package in ("torch", "gensim", "numpy")
        ) + f", Python {platform.python_version()}",
        "torchw2v revision": _git_revision(),
    }


def record_results(body: str, title: str = "") -> None:
    """Append ``body`` to :data:`RESULTS_PATH` under a heading with the date and ``title``,
    followed by the machine details of :func:`machine_info`."""
    info = machine_info()
    details = "".join(f"- {key}: `{value}`\n" for key, value in info.items() if key != "date")
    with RESULTS_PATH.open("a", encoding="utf-8") as fout:
        fout.write(f"\n## {info['date']}{title}\n\n{details}\n{body}")
    logger.info("appended the results to %s", RESULTS_PATH)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the configurations, print their tables, and record them if ``--record`` was given."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    logging.getLogger("torchw2v").setLevel(logging.INFO)

    sections = []
    for name in args.configs:
        title = CONFIGS[name][0]
        logger.info("configuration %s: %s", name, title)
        settings = config_settings(name, args)
        result = compare(args.corpus, limit_words=args.limit_words, verbose=args.verbose, **settings)
        sections.append(f"### {title} (`{name}`)\n\n{format_table(result)}")
    report = "\n".join(sections)
    print(report, end="")

    if args.record:
        record_results(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
