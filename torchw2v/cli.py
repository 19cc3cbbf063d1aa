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
from torchw2v.corpus import open_corpus
from torchw2v.datasets import resolve_corpus
from torchw2v.export import VECTOR_KINDS
from torchw2v.evaluation import NEIGHBOUR_WORDS

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


def _positive_float(text: str) -> float:
    """Parse a number above 0 (an argparse ``type``)."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


_WORD2VEC_OPTIONS: tuple[tuple[str, Callable[[str], object], str], ...] = (
    ("--vector-size", _positive_int, "dimensionality of the word vectors (default: 100)"),
    ("--window", _positive_int, "maximum distance between the centre word and a context word (default: 5)"),
    ("--min-count", _non_negative_int, "ignore words with a total frequency below this (default: 5)"),
    ("--max-final-vocab", _positive_int, "raise min-count so that about this many words remain (default: none)"),
    ("--max-vocab-size", _positive_int, "prune the rarest words while counting whenever there are more than this "
     "(default: no limit)"),
    ("--sample", _non_negative_float, "threshold for downsampling frequent words; 0 disables (default: 0.001)"),
    ("--negative", _non_negative_int, "noise words drawn per positive example; 0: no negative sampling (default: 5)"),
    ("--ns-exponent", float, "exponent of the noise distribution count**ns_exponent (default: 0.75)"),
    ("--sg", int, "training algorithm: 1 for skip-gram, 0 for CBOW (default: 0)"),
    ("--hs", int, "1 for hierarchical softmax, 0 for none (default: 0)"),
    ("--cbow-mean", int, "CBOW only: 1 averages the context vectors, 0 sums them (default: 1)"),
    ("--shrink-windows", int, "1: draw each centre word's window from 1..window; 0: always the full window "
     "(default: 1)"),
    ("--epochs", _positive_int, "passes over the corpus (default: 5)"),
    ("--alpha", _non_negative_float, "initial learning rate of SGD (default: 0.025)"),
    ("--min-alpha", _non_negative_float, "final learning rate, reached linearly (default: 0.0001)"),
    ("--workers", _positive_int, "worker threads (default: 3)"),
    ("--seed", int, "random seed (default: 1)"),
    ("--batch-words", _positive_int, "raw words per data-preparation job (default: 10000)"),
    ("--device", str, "torchw2v only: torch device, e.g. cpu, cuda, cuda:1, mps (default: auto)"),
    ("--batch-size", _positive_int, "torchw2v only: centre words per training step (default: chosen by device)"),
    ("--dtype", str, "torchw2v only: float32 or float64 weights during training (default: float32)"),
    ("--cpu-kernel", str, "torchw2v only: CPU training path, auto, native (compiled kernels) or torch "
     "(batched torch ops) (default: auto)"),
    ("--shared-negatives", int, "torchw2v only: skip-gram on the native CPU kernels: 1 draws a centre word's noise "
     "words once for its whole window (faster), 0 for every pair as gensim (default: 1)"),
    ("--optimizer", str, "torchw2v only: sgd (gensim's linear-decay SGD) or adam (Adam on the rows of each "
     "batch) (default: sgd)"),
    ("--optimizer-lr", _positive_float, "torchw2v only: Adam's initial learning rate (default: 0.002)"),
)
"""Options passed on as Word2Vec keyword arguments: flag, type, help."""

_CHOICES = {"--sg": (0, 1), "--hs": (0, 1), "--cbow-mean": (0, 1), "--shrink-windows": (0, 1),
            "--shared-negatives": (0, 1), "--cpu-kernel": ("auto", "native", "torch"), "--optimizer": ("sgd", "adam"),
            "--dtype": ("float32", "float64")}
"""Options that take one of a few values."""


def _option_dest(flag: str) -> str:
    """The keyword argument an option sets: ``--min-count`` -> ``min_count``."""
    return flag[2:].replace("-", "_")


def _corpus_argument(parser: argparse.ArgumentParser, required: bool) -> None:
    """Add the ``CORPUS`` positional argument."""
    default = ("(default: the best available corpus: text8 if it is on this machine or can be downloaded, else the "
               "sample of text8 packaged with torchw2v, its first 2,000,000 words)" if not required else "")
    parser.add_argument(
        "corpus", nargs=None if required else "?", metavar="CORPUS", type=_existing_file,
        help="corpus file, plain, .gz, .bz2 or .xz: either text8 format (one line of space-separated words) or one "
        f"sentence a line; or the word text8 (found locally, in the cache, or downloaded) {default}".rstrip(),
    )


def _add_training_options(parser: argparse.ArgumentParser, description: str) -> None:
    """Add the Word2Vec settings (:data:`_WORD2VEC_OPTIONS`) as an argument group."""
    settings = parser.add_argument_group("training settings", description)
    for flag, type_, help_ in _WORD2VEC_OPTIONS:
        settings.add_argument(flag, type=type_, choices=_CHOICES.get(flag), help=help_)
    settings.add_argument(
        "--progress-bar", action="store_true", help="torchw2v only: show a progress bar while training",
    )


def _training_kwargs(args: argparse.Namespace) -> dict[str, object]:
    """The Word2Vec keyword arguments given on the command line (the others keep their defaults)."""
    kwargs = {
        _option_dest(flag): getattr(args, _option_dest(flag))
        for flag, _, _ in _WORD2VEC_OPTIONS
        if getattr(args, _option_dest(flag)) is not None
    }
    if args.progress_bar:
        kwargs["progress_bar"] = True
    return kwargs


def _add_compare_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``torchw2v compare``."""
    _corpus_argument(parser, required=False)
    _add_training_options(
        parser, "Passed to both TorchWord2Vec and gensim's Word2Vec unless marked torchw2v only; "
        "those not given keep their defaults, which are gensim's on both sides.",
    )
    parser.add_argument(
        "--limit-words", type=_positive_int, metavar="N",
        help="train both sides on only the first N words of the corpus",
    )
    parser.add_argument("--out-markdown", type=Path, metavar="FILE", help="also write the Markdown table to FILE")
    parser.add_argument("-v", "--verbose", action="store_true", help="also show gensim's progress log messages")


def _run_compare(args: argparse.Namespace) -> int:
    """Run ``torchw2v compare``: train both sides, print the table, write it if asked."""
    result = compare(args.corpus, limit_words=args.limit_words, verbose=args.verbose, **_training_kwargs(args))
    table = format_table(result)
    print(table, end="")
    if args.out_markdown is not None:
        args.out_markdown.write_text(table, encoding="utf-8")
        logger.info("wrote the table to %s", args.out_markdown)
    return 0


def _add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``torchw2v train``."""
    _corpus_argument(parser, required=True)
    parser.add_argument("--out", type=Path, required=True, metavar="PATH",
                        help="where to save the model (torchw2v format, loadable with TorchWord2Vec.load)")
    _add_training_options(parser, "TorchWord2Vec's arguments; those not given keep gensim's defaults.")
    parser.add_argument("--compute-loss", action="store_true",
                        help="record the training loss (its curve is saved with the model)")
    distributed = parser.add_argument_group(
        "distributed training", "Run under torchrun, one process per device, e.g. torchrun --nproc_per_node=2 "
        "$(which torchw2v) train CORPUS --out PATH --distributed; rank 0 writes the files.")
    distributed.add_argument("--distributed", action="store_true",
                             help="train with torch.distributed (NCCL on GPUs, Gloo on CPUs)")
    distributed.add_argument("--sync-words", type=_positive_int, metavar="N",
                             help="raw words each process trains between two weight synchronisations "
                             "(default: 100000)")
    distributed.add_argument("--dist-timeout", type=_positive_float, metavar="SECONDS",
                             help="how long a process waits for the others before stopping (default: 600)")
    output = parser.add_argument_group("word vectors output")
    output.add_argument("--vectors-out", type=Path, metavar="FILE",
                        help="where to write the word vectors in word2vec format (default: PATH with the suffix "
                        ".vectors.txt, or .vectors.bin with --binary)")
    output.add_argument("--vectors", choices=VECTOR_KINDS, default="input",
                        help="which vectors to write: the input vectors (gensim's wv), the average of input and "
                        "output vectors, or their concatenation (default: input)")
    output.add_argument("--binary", action="store_true", help="write the word2vec binary format instead of text")


def _run_train(args: argparse.Namespace) -> int:
    """Run ``torchw2v train``: train on the corpus, save the model and the word vectors."""
    from torchw2v import TorchWord2Vec
    from torchw2v.distributed import get_world_size_and_rank

    kwargs = _training_kwargs(args)
    if args.distributed:
        kwargs["distributed"] = True
        kwargs.update({name: getattr(args, name) for name in ("sync_words", "dist_timeout")
                       if getattr(args, name) is not None})
    model = TorchWord2Vec(open_corpus(resolve_corpus(args.corpus).path), compute_loss=args.compute_loss, **kwargs)
    model.save(args.out)
    if get_world_size_and_rank()[1] != 0:
        return 0  # rank 0 writes the files
    vectors_out = args.vectors_out or args.out.with_suffix(".vectors.bin" if args.binary else ".vectors.txt")
    model.keyed_vectors(args.vectors).save_word2vec_format(str(vectors_out), binary=args.binary)
    logger.info("saved the model to %s and the %s word vectors (%d words) to %s",
                args.out, args.vectors, len(model.wv), vectors_out)
    print(f"model: {args.out}\nword vectors ({args.vectors}, word2vec format): {vectors_out}")
    return 0


def load_word_vectors(path: str, kind: str = "input"):
    """Word vectors from a torchw2v model file, a gensim ``KeyedVectors``/``Word2Vec`` file, or a
    word2vec-format file (text or binary).

    Parameters
    ----------
    path : str
    kind : {"input", "average", "concat"}, optional
        Which vectors of a torchw2v model (see ``TorchWord2Vec.keyed_vectors``).

    Returns
    -------
    gensim.models.KeyedVectors

    Raises
    ------
    ValueError
        The file is none of these formats.
    """
    from gensim.models import KeyedVectors
    from gensim.utils import SaveLoad

    from torchw2v import TorchWord2Vec

    try:
        return TorchWord2Vec.load(path, device="cpu").keyed_vectors(kind)
    except Exception:  # not a torchw2v file: try gensim's formats in turn
        logger.debug("%s is not a torchw2v model", path)
    try:
        loaded = SaveLoad.load(path)
        return loaded if isinstance(loaded, KeyedVectors) else loaded.wv
    except Exception:
        logger.debug("%s is not a gensim pickle", path)
    for binary in (False, True):
        try:
            return KeyedVectors.load_word2vec_format(path, binary=binary)
        except Exception:
            logger.debug("%s is not a word2vec %s file", path, "binary" if binary else "text")
    raise ValueError(f"{path} is not a torchw2v model, a gensim KeyedVectors/Word2Vec file or a word2vec-format "
                     "file (text or binary)")


def _add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``torchw2v evaluate``."""
    parser.add_argument("vectors_path", metavar="MODEL_OR_VECTORS", type=_existing_file,
                        help="a torchw2v model (torchw2v train --out), a gensim KeyedVectors or Word2Vec file, "
                        "or word vectors in word2vec format (text or binary)")
    parser.add_argument("--vectors", choices=VECTOR_KINDS, default="input",
                        help="for a torchw2v model: evaluate the input vectors, the average of input and output "
                        "vectors, or their concatenation (default: input)")
    parser.add_argument("--pairs", type=_existing_file, action="append", default=[], metavar="FILE",
                        help="an extra word-similarity file, one 'word1 word2 score' a line (tab or spaces; "
                        "# comments); repeat for several")
    parser.add_argument("--neighbours", nargs="*", metavar="WORD", default=list(NEIGHBOUR_WORDS),
                        help="words whose nearest neighbours to list (default: %(default)s)")
    parser.add_argument("--topn", type=_positive_int, default=10, help="neighbours per word (default: 10)")
    parser.add_argument("--restrict-vocab", type=_positive_int, default=30000, metavar="N",
                        help="analogies: only questions within the N most frequent words, and only those as "
                        "answers (default: 30000)")


def _run_evaluate(args: argparse.Namespace) -> int:
    """Run ``torchw2v evaluate``: print WordSim-353, analogies, extra pairs and neighbours as Markdown."""
    from torchw2v.evaluation import evaluate
    from torchw2v.report import neighbours_table

    wv = load_word_vectors(args.vectors_path, args.vectors)
    result = evaluate(wv, restrict_vocab=args.restrict_vocab, pair_files=args.pairs,
                      neighbour_words=args.neighbours, topn=args.topn)
    lines = [f"Word vectors: `{args.vectors_path}` ({len(wv):,} words, {wv.vector_size} dimensions)", "",
             "| benchmark | score | coverage |", "|---|---:|---:|",
             f"| WordSim-353 Spearman | {result.wordsim_spearman:.4f} | "
             f"{result.wordsim_pairs}/{result.wordsim_pairs_total} pairs |",
             f"| analogies, 3CosAdd | {result.analogy_accuracy:.2%} | {result.analogy_questions:,} questions |",
             f"| analogies, 3CosMul | {result.analogy_accuracy_3cosmul:.2%} | "
             f"{result.analogy_questions:,} questions |"]
    lines += [f"| {path} Spearman | {spearman:.4f} | {coverage:.0%} of pairs |"
              for path, (spearman, coverage) in result.extra_pairs.items()]
    if result.neighbours:
        lines += ["", *neighbours_table(result.neighbours)]
    print("\n".join(lines))
    return 0


def _add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``torchw2v report``."""
    _corpus_argument(parser, required=False)
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="the report folder: report.md, the PNG figures and the trained model")
    _add_training_options(parser, "Passed to both TorchWord2Vec and gensim's Word2Vec unless marked torchw2v "
                          "only; those not given keep gensim's defaults. The loss is always recorded.")
    parser.add_argument("--no-gensim", action="store_true",
                        help="do not train gensim for the comparison table (about halves the time)")
    parser.add_argument("--limit-words", type=_positive_int, metavar="N", help="use only the first N words")
    parser.add_argument("-v", "--verbose", action="store_true", help="also show gensim's progress log messages")


def _run_report(args: argparse.Namespace) -> int:
    """Run ``torchw2v report``: train, compare, evaluate and write the report folder."""
    from torchw2v.report import write_report

    result = write_report(args.corpus, args.out, with_gensim=not args.no_gensim, limit_words=args.limit_words,
                          verbose=args.verbose, **_training_kwargs(args))
    if result.comparison is not None:
        print(format_table(result.comparison), end="")
    print(f"\nreport written to {result.markdown} (figures: {', '.join(p.name for p in result.figures.values())})")
    return 0


SUBCOMMANDS: dict[str, Subcommand] = {
    "train": Subcommand(
        help="train TorchWord2Vec on a corpus and save the model and its word vectors",
        description=(
            "Train TorchWord2Vec on CORPUS and save the model to PATH (TorchWord2Vec.load reads it) and its word "
            "vectors in word2vec format (gensim's KeyedVectors.load_word2vec_format reads them)."
        ),
        add_arguments=_add_train_arguments,
        run=_run_train,
    ),
    "evaluate": Subcommand(
        help="score word vectors: WordSim-353, analogies (3CosAdd, 3CosMul), extra pair files, neighbours",
        description=(
            "Evaluate word vectors (a torchw2v model, a gensim file or a word2vec-format file): WordSim-353 "
            "Spearman with its pair coverage, Google analogy accuracy with 3CosAdd and 3CosMul, the Spearman of "
            "any extra word-pair files, and the nearest neighbours of chosen words; prints Markdown."
        ),
        add_arguments=_add_evaluate_arguments,
        run=_run_evaluate,
    ),
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
    "report": Subcommand(
        help="train, compare with gensim, evaluate, and write a Markdown report with figures",
        description=(
            "Train TorchWord2Vec (and gensim's Word2Vec, for the comparison table) on CORPUS, evaluate the input "
            "vectors and the input+output average and concatenation, and write DIR/report.md with figures: "
            "word-frequency rank plot, training loss, WordSim-353 scatter and a PCA projection of chosen words."
        ),
        add_arguments=_add_report_arguments,
        run=_run_report,
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
