"""How words/s and peak memory change with the corpus size and the vocabulary size, against gensim.

For each corpus size, TorchWord2Vec and gensim's Word2Vec train with the same settings, each in
a fresh process (:func:`torchw2v.comparison.compare`); sizes beyond the corpus repeat it (the
gzip members are concatenated into a temporary file). The vocabulary grows with ``min_count``
1 instead of 5 at the middle size. Prints a Markdown table, draws words/s and peak RSS against
corpus size for both sides into ``benchmarks/scaling.png``, and with ``--record`` appends the
table to ``benchmarks/RESULTS.md``.

Examples
--------
The README's figure (skip-gram, one epoch, 2M/17M/70M words; about 20 minutes on 2 cores)::

    python benchmarks/scaling.py --record
"""
from __future__ import annotations

import argparse
import logging
import math
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # benchmark this checkout's torchw2v, installed or not

from benchmark import COMMON_SETTINGS, DEFAULT_CORPUS, RESULTS_PATH, record_results  # noqa: E402

from torchw2v.comparison import LOG_FORMAT, compare  # noqa: E402
from torchw2v.corpus import open_corpus  # noqa: E402

logger = logging.getLogger("torchw2v.benchmark.scaling")

FIGURE_PATH = REPO_ROOT / "benchmarks" / "scaling.png"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line.

    >>> parse_args(["--sizes", "1000"]).sizes
    [1000]
    """
    parser = argparse.ArgumentParser(description="words/s and peak memory against corpus and vocabulary size")
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS,
                        help="corpus file, text8 format or one sentence a line (default: %(default)s)")
    parser.add_argument("--sizes", nargs="+", type=int, default=[2_000_000, 17_000_000, 70_000_000],
                        help="corpus sizes in words (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=1, help="passes over the corpus (default: %(default)s)")
    parser.add_argument("--sg", type=int, choices=(0, 1), default=1, help="1: skip-gram, 0: CBOW (default: 1)")
    parser.add_argument("--workers", type=int, default=COMMON_SETTINGS["workers"])
    parser.add_argument("--figure", type=Path, default=FIGURE_PATH, help="where to draw the curves")
    parser.add_argument("--record", action="store_true", help=f"append the table to {RESULTS_PATH.name}")
    return parser.parse_args(argv)


def corpus_words(path: Path) -> int:
    """Words in one pass of the corpus."""
    return sum(len(sentence) for sentence in open_corpus(path))


def repeated_corpus(path: Path, times: int, folder: Path) -> Path:
    """A file holding ``times`` copies of ``path`` (for .gz files, concatenated gzip members)."""
    target = folder / f"{times}x-{path.name}"
    with target.open("wb") as out:
        for _ in range(times):
            with path.open("rb") as chunk:
                shutil.copyfileobj(chunk, out)
    return target


def draw(rows: list[dict], path: Path) -> None:
    """Words/s and peak RSS against corpus size (min_count 5 rows), torchw2v and gensim."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = sorted((row for row in rows if row["min_count"] == 5), key=lambda row: row["words"])
    figure = Figure(figsize=(10, 4.2), dpi=120)
    FigureCanvasAgg(figure)
    speed, memory = figure.subplots(1, 2)
    sizes = [row["words"] / 1e6 for row in rows]
    for side, style in (("torchw2v", "o-"), ("gensim", "s--")):
        speed.plot(sizes, [row[side].words_per_second / 1e3 for row in rows], style, label=side)
        memory.plot(sizes, [row[side].peak_rss_mib for row in rows], style, label=side)
    for axes, label in ((speed, "words/s (thousands)"), (memory, "peak resident memory (MiB)")):
        axes.set_xscale("log")
        axes.set_xticks(sizes, [f"{size:g}" for size in sizes])
        axes.minorticks_off()
        axes.set_xlabel("corpus size (million words)")
        axes.set_ylabel(label)
        axes.set_ylim(bottom=0)
        axes.grid(True, alpha=0.3)
        axes.legend()
    speed.set_title("Training throughput against corpus size")
    memory.set_title("Peak memory against corpus size")
    figure.tight_layout()
    figure.savefig(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every size (and min_count 1 at the middle one), print and draw the results."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    logging.getLogger("torchw2v").setLevel(logging.INFO)
    one_pass = corpus_words(args.corpus)
    settings = {**COMMON_SETTINGS, "sg": args.sg, "epochs": args.epochs, "workers": args.workers}
    runs = [(size, 5) for size in args.sizes] + [(sorted(args.sizes)[len(args.sizes) // 2], 1)]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for size, min_count in runs:
            times = math.ceil(size / one_pass)
            path = args.corpus if times == 1 else repeated_corpus(args.corpus, times, Path(scratch))
            logger.info("%d words (%d copies), min_count=%d", size, times, min_count)
            result = compare(path, limit_words=size, **{**settings, "min_count": min_count})
            rows.append({"words": size, "min_count": min_count, "vocab": result.torchw2v.vocab_size,
                         "torchw2v": result.torchw2v, "gensim": result.gensim})
    lines = [
        f"Corpus: `{args.corpus.name}` repeated as needed; settings `{settings}` (min_count as listed).",
        "",
        "| words | min_count | vocabulary | words/s torchw2v | words/s gensim | ratio | peak RSS MiB torchw2v "
        "| peak RSS MiB gensim |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ours, theirs = row["torchw2v"], row["gensim"]
        lines.append(
            f"| {row['words']:,} | {row['min_count']} | {row['vocab']:,} | {ours.words_per_second:,.0f} | "
            f"{theirs.words_per_second:,.0f} | {ours.words_per_second / theirs.words_per_second:.2f}× | "
            f"{ours.peak_rss_mib:,.0f} | {theirs.peak_rss_mib:,.0f} |")
    table = "\n".join(lines) + "\n"
    print(table, end="")
    draw(rows, args.figure)
    logger.info("drew %s", args.figure)
    if args.record:
        record_results(table, title=": scaling")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
