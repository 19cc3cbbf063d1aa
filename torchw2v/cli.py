"""The ``torchw2v`` command line (also ``python -m torchw2v``).

Each subcommand is a :class:`Subcommand` in :data:`SUBCOMMANDS`: a function adding its arguments to
its parser and a function running it. Adding a subcommand means adding one entry there.

>>> main(["compare", "--epochs", "1"])  # doctest: +SKIP
0
"""
from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from torchw2v import __version__
from torchw2v.comparison import LOG_FORMAT, compare, format_table

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subcommand:
    """One ``torchw2v`` subcommand.

    Attributes
    ----------
    help : str
        One line, shown in ``torchw2v --help``.
    description : str
        Shown at the top of ``torchw2v SUBCOMMAND --help``.
    add_arguments : callable
        Adds the subcommand's arguments to its parser.
    run : callable
        Runs the subcommand on the parsed arguments and returns the exit status.
    """

    help: str
    description: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _positive_int(text: str) -> int:
    """Parse an integer of at least 1 (an argparse ``type``)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    """Parse an integer of at least 0 (an argparse ``type``)."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def _non_negative_float(text: str) -> float:
    """Parse a number of at least 0 (an argparse ``type``)."""
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {text}")
    return value


def _existing_file(text: str) -> str:
    """Accept the path of an existing file, or the word ``text8`` (an argparse ``type``)."""
    if text != "text8" and not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return text


_WORD2VEC_OPTIONS: tuple[tuple[str, Callable[[str], object], str], ...] = (
    ("--vector-size", _positive_int, "dimensionality of the word vectors (default: 100)"),
    ("--window", _positive_int, "maximum distance between the centre word and a context word (default: 5)"),
    ("--min-count", _non_negative_int, "ignore words with a total frequency below this (default: 5)"),
    ("--sample", _non_negative_float, "threshold for downsampling frequent words; 0 disables (default: 0.001)"),
    ("--negative", _non_negative_int, "noise words drawn per positive example; 0: no negative sampling (default: 5)"),
    ("--sg", int, "training algorithm: 1 for skip-gram, 0 for CBOW (default: 0)"),
    ("--hs", int, "1 for hierarchical softmax, 0 for none (default: 0)"),
    ("--cbow-mean", int, "CBOW only: 1 averages the context vectors, 0 sums them (default: 1)"),
    ("--epochs", _positive_int, "passes over the corpus (default: 5)"),
    ("--alpha", _non_negative_float, "initial learning rate (default: 0.025)"),
    ("--min-alpha", _non_negative_float, "final learning rate, reached linearly (default: 0.0001)"),
    ("--workers", _positive_int, "worker threads on each side (default: 3)"),
    ("--seed", int, "random seed (default: 1)"),
    ("--device", str, "torchw2v only: torch device, e.g. cpu, cuda, cuda:1 (default: auto)"),
    ("--batch-size", _positive_int, "torchw2v only: training examples per batch (default: chosen automatically)"),
    ("--cpu-kernel", str, "torchw2v only: CPU training path, auto, native (compiled kernels) or torch "
     "(batched torch ops) (default: auto)"),
)
"""``compare`` options passed on as Word2Vec keyword arguments: flag, type, help."""

_BINARY_OPTIONS = frozenset({"--sg", "--hs", "--cbow-mean"})


def _option_dest(flag: str) -> str:
    """The keyword argument an option sets: ``--min-count`` -> ``min_count``."""
    return flag[2:].replace("-", "_")


def _add_compare_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``torchw2v compare``."""
    parser.add_argument(
        "corpus", nargs="?", metavar="CORPUS", type=_existing_file,
        help="corpus file, plain, .gz or .bz2: either text8 format (one line of space-separated words) or one "
        "sentence a line; or the word text8 (found locally, in the cache, or downloaded) "
        "(default: the small embedded corpus gensim bundles, lee_background.cor)",
    )
    settings = parser.add_argument_group(
        "training settings", "Passed to both TorchWord2Vec and gensim's Word2Vec unless marked torchw2v only; "
        "those not given keep their defaults, which are gensim's on both sides.",
    )
    for flag, type_, help_ in _WORD2VEC_OPTIONS:
        choices = (0, 1) if flag in _BINARY_OPTIONS else ("auto", "native", "torch") if flag == "--cpu-kernel" else None
        settings.add_argument(flag, type=type_, choices=choices, help=help_)
    settings.add_argument(
        "--progress-bar", action="store_true", help="torchw2v only: show a progress bar while training",
    )
    parser.add_argument(
        "--limit-words", type=_positive_int, metavar="N",
        help="train both sides on only the first N words of the corpus",
    )
    parser.add_argument("--out-markdown", type=Path, metavar="FILE", help="also write the Markdown table to FILE")
    parser.add_argument("-v", "--verbose", action="store_true", help="also show gensim's progress log messages")


def _run_compare(args: argparse.Namespace) -> int:
    """Run ``torchw2v compare``: train both sides, print the table, write it if asked."""
    kwargs = {
        _option_dest(flag): getattr(args, _option_dest(flag))
        for flag, _, _ in _WORD2VEC_OPTIONS
        if getattr(args, _option_dest(flag)) is not None
    }
    if args.progress_bar:
        kwargs["progress_bar"] = True
    result = compare(args.corpus, limit_words=args.limit_words, verbose=args.verbose, **kwargs)
    table = format_table(result)
    print(table, end="")
    if args.out_markdown is not None:
        args.out_markdown.write_text(table, encoding="utf-8")
        logger.info("wrote the table to %s", args.out_markdown)
    return 0


SUBCOMMANDS: dict[str, Subcommand] = {
    "compare": Subcommand(
        help="train torchw2v and gensim on the same corpus and compare speed, memory and quality",
        description=(
            "Train TorchWord2Vec and gensim's Word2Vec on the same corpus with the same settings, each in a "
            "fresh process, then print a Markdown table of words/s, training wall time, peak memory (RSS), "
            "WordSim-353 Spearman correlation and analogy accuracy (30,000 most frequent words) of both."
        ),
        add_arguments=_add_compare_arguments,
        run=_run_compare,
    ),
}
"""The subcommands, by name."""


def build_parser() -> argparse.ArgumentParser:
    """Build the ``torchw2v`` argument parser with a subparser per entry of :data:`SUBCOMMANDS`.

    Returns
    -------
    argparse.ArgumentParser
        The parser; each subcommand's namespace has its :class:`Subcommand` as ``subcommand``.

    Examples
    --------
    >>> args = build_parser().parse_args(["compare", "--sg", "1"])
    >>> args.subcommand.run.__name__, args.sg
    ('_run_compare', 1)
    """
    parser = argparse.ArgumentParser(
        prog="torchw2v", description="Word2vec training on PyTorch, a drop-in for gensim's Word2Vec.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
    for name, subcommand in SUBCOMMANDS.items():
        subparser = subparsers.add_parser(name, help=subcommand.help, description=subcommand.description)
        subcommand.add_arguments(subparser)
        subparser.set_defaults(subcommand=subcommand)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``torchw2v`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments, without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success. Invalid arguments exit with status 2 (``SystemExit``), as
        argparse does.

    Examples
    --------
    >>> main(["compare", "--epochs", "1"])  # doctest: +SKIP
    0
    """
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    logging.getLogger("torchw2v").setLevel(logging.INFO)
    return args.subcommand.run(args)
