"""The ``torchw2v`` command line (also ``python -m torchw2v``).

Each subcommand is a :class:`Subcommand` in :data:`SUBCOMMANDS`: a function adding its arguments to
its parser and a function running it. Adding a subcommand means adding one entry there.

>>> main(["compare", "--epochs", "1"])  # doctest: +SKIP
0
"""
from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from torchw2v import __version__
from torchw2v.comparison import DEFAULT_EPOCHS, LOG_FORMAT, compare, format_table
from torchw2v.config import PARAMETERS, TORCH_ONLY_NAMES
from torchw2v.corpus import open_corpus
from torchw2v.datasets import resolve_corpus
from torchw2v.export import VECTOR_KINDS
from torchw2v.evaluation import NEIGHBOUR_WORDS
from torchw2v.progress import progress_mode, show_progress
from torchw2v.vector_files import VECTOR_FORMATS, load_word_vectors

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


def _existing_file(text: str) -> str:
    """Accept the path of an existing file, or the word ``text8`` (an argparse ``type``)."""
    if text != "text8" and not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return text


def _writable_file(text: str) -> Path:
    """Accept a file path in an existing folder this process can write in (an argparse ``type``).

    Checked when the arguments are read, so that a run never trains for hours and then fails to save.
    """
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file path")
    _check_writable_folder(path.parent, text)
    return path


def _writable_folder(text: str) -> Path:
    """Accept a folder that exists, or can be created, and this process can write in (an argparse ``type``)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} exists and is not a folder")
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    _check_writable_folder(existing, text)
    return path


def _check_writable_folder(folder: Path, text: str) -> None:
    """Raise ``ArgumentTypeError`` unless a file can be created in ``folder`` (where ``text`` goes)."""
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write {text}: {folder} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise argparse.ArgumentTypeError(f"cannot write {text}: no file can be created in {folder} "
                                         f"({error.strerror})") from None


_WORD2VEC_OPTIONS = (
    "vector_size", "window", "min_count", "max_final_vocab", "max_vocab_size", "sample", "negative", "ns_exponent",
    "sg", "hs", "cbow_mean", "shrink_windows", "epochs", "alpha", "min_alpha", "workers", "seed", "batch_words",
    "device", "batch_size", "dtype", "cpu_kernel", "shared_negatives", "optimizer", "optimizer_lr",
)
"""The settings passed on as Word2Vec keyword arguments; their options, checks and help come from the
parameter spec (:data:`torchw2v.config.PARAMETERS`)."""


def _option_flag(name: str) -> str:
    """The option of a setting: ``min_count`` -> ``--min-count``."""
    return "--" + name.replace("_", "-")


def _option_type(parameter) -> Callable[[str], object]:
    """An argparse type that parses and checks a setting with its spec (errors name the option)."""
    def parse(text: str) -> object:
        try:
            return parameter.from_text(text)
        except (TypeError, ValueError) as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    parse.__name__ = parameter.name
    return parse


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
    for name in _WORD2VEC_OPTIONS:
        parameter = PARAMETERS[name]
        default = "auto" if parameter.default is None else parameter.default
        only = "torchw2v only: " if name in TORCH_ONLY_NAMES else ""
        settings.add_argument(_option_flag(name), type=_option_type(parameter), metavar="VALUE",
                              help=f"{only}{parameter.help} (default: {default})".replace("%", "%%"))


def _training_kwargs(args: argparse.Namespace) -> dict[str, object]:
    """The Word2Vec keyword arguments given on the command line (the others keep their defaults)."""
    return {name: getattr(args, name) for name in _WORD2VEC_OPTIONS if getattr(args, name) is not None}


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
    parser.add_argument("--out-markdown", type=_writable_file, metavar="FILE",
                        help="also write the Markdown table to FILE")
    parser.add_argument("-v", "--verbose", action="store_true", help="also show gensim's INFO log messages")


def _run_compare(args: argparse.Namespace) -> int:
    """Run ``torchw2v compare``: train both sides, print the table, write it if asked."""
    result = compare(args.corpus, limit_words=args.limit_words, verbose=args.verbose,
                     progress=progress_mode(args.quiet), **_training_kwargs(args))
    table = format_table(result)
    print(table, end="")
    if args.out_markdown is not None:
        args.out_markdown.write_text(table, encoding="utf-8")
        logger.info("wrote the table to %s", args.out_markdown)
    return 0


def _add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``torchw2v train``."""
    _corpus_argument(parser, required=True)
    parser.add_argument("--out", type=_writable_file, required=True, metavar="PATH",
                        help="where to save the model (torchw2v format, loadable with TorchWord2Vec.load)")
    _add_training_options(parser, "TorchWord2Vec's arguments; those not given keep gensim's defaults.")
    parser.add_argument("--compute-loss", action="store_true",
                        help="record the training loss (its curve is saved with the model)")
    distributed = parser.add_argument_group(
        "distributed training", "Run under torchrun, one process per device, e.g. torchrun --nproc_per_node=2 "
        "$(which torchw2v) train CORPUS --out PATH --distributed; rank 0 writes the files.")
    distributed.add_argument("--distributed", action="store_true",
                             help="train with torch.distributed (NCCL on GPUs, Gloo on CPUs)")
    for name, metavar in (("sync_words", "N"), ("dist_timeout", "SECONDS")):
        parameter = PARAMETERS[name]
        distributed.add_argument(_option_flag(name), type=_option_type(parameter), metavar=metavar,
                                 help=f"{parameter.help} (default: {parameter.default:g})")
    output = parser.add_argument_group("word vectors output")
    output.add_argument("--vectors-out", type=_writable_file, metavar="FILE",
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
    with show_progress("torchw2v", kwargs.get("epochs", DEFAULT_EPOCHS), progress_mode(args.quiet)):
        model = TorchWord2Vec(open_corpus(resolve_corpus(args.corpus).path), compute_loss=args.compute_loss,
                              **kwargs)
    model.save(args.out)
    if get_world_size_and_rank()[1] != 0:
        return 0  # rank 0 writes the files
    vectors_out = args.vectors_out or args.out.with_suffix(".vectors.bin" if args.binary else ".vectors.txt")
    model.keyed_vectors(args.vectors).save_word2vec_format(str(vectors_out), binary=args.binary)
    logger.info("saved the model to %s and the %s word vectors (%d words) to %s",
                args.out, args.vectors, len(model.wv), vectors_out)
    print(f"model: {args.out}\nword vectors ({args.vectors}, word2vec format): {vectors_out}")
    return 0


def _add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``torchw2v evaluate``."""
    parser.add_argument("vectors_path", metavar="MODEL_OR_VECTORS", type=_existing_file,
                        help="word vectors in word2vec format (text or binary), or a model file: a torchw2v model "
                        "(torchw2v train --out) or a gensim KeyedVectors or Word2Vec file")
    parser.add_argument("--format", choices=VECTOR_FORMATS,
                        help="how to read the file: word2vec text, word2vec binary, or a model file (default: by "
                        "suffix, .txt and .vec text, .bin binary, anything else a model). Loading a model file runs "
                        "code from it (gensim's format is a Python pickle): evaluate only model files you trust; "
                        "word2vec files are read as data")
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

    wv = load_word_vectors(args.vectors_path, args.format, args.vectors)
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
        lines += ["", *neighbours_table({"nearest neighbours (cosine)": result.neighbours})]
    print("\n".join(lines))
    return 0


def _add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``torchw2v report``."""
    _corpus_argument(parser, required=False)
    parser.add_argument("--out", type=_writable_folder, required=True, metavar="DIR",
                        help="the report folder: report.md, the PNG figures and the trained model")
    _add_training_options(parser, "Passed to both TorchWord2Vec and gensim's Word2Vec unless marked torchw2v "
                          "only; those not given keep gensim's defaults. The loss is always recorded.")
    parser.add_argument("--no-gensim", action="store_true",
                        help="do not train gensim for the comparison table (about halves the time)")
    parser.add_argument("--limit-words", type=_positive_int, metavar="N", help="use only the first N words")
    parser.add_argument("-v", "--verbose", action="store_true", help="also show gensim's INFO log messages")


def _run_report(args: argparse.Namespace) -> int:
    """Run ``torchw2v report``: train, compare, evaluate and write the report folder."""
    from torchw2v.report import write_report

    result = write_report(args.corpus, args.out, with_gensim=not args.no_gensim, limit_words=args.limit_words,
                          verbose=args.verbose, progress=progress_mode(args.quiet), **_training_kwargs(args))
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
            "Evaluate word vectors (a word2vec-format file, a torchw2v model or a gensim file): WordSim-353 "
            "Spearman with its pair coverage, Google analogy accuracy with 3CosAdd and 3CosMul, the Spearman of "
            "any extra word-pair files, and the nearest neighbours of chosen words; prints Markdown. Loading a "
            "model file runs code from the file: evaluate only model files you trust."
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
    common = argparse.ArgumentParser(add_help=False)
    output = common.add_argument_group("output")
    output.add_argument("-q", "--quiet", action="store_true",
                        help="show no progress (bars on a terminal, log lines otherwise) and no INFO log lines")
    output.add_argument("--debug", action="store_true",
                        help="on an error, show the full traceback instead of a one-line message")
    subparsers = parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
    for name, subcommand in SUBCOMMANDS.items():
        subparser = subparsers.add_parser(name, help=subcommand.help, description=subcommand.description,
                                          parents=[common])
        subcommand.add_arguments(subparser)
        subparser.set_defaults(subcommand=subcommand, command=name)
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
        The exit status: 0 on success; 1 when the run fails, with a one-line message on standard
        error (the full traceback with ``--debug``, which lets the exception through); 130 when
        interrupted. Invalid arguments, including an output location that cannot be written, exit
        with status 2 (``SystemExit``) before any work, as argparse does.

    Examples
    --------
    >>> main(["evaluate", "no-such-model.tw2v"])  # doctest: +SKIP
    torchw2v evaluate: error: argument MODEL_OR_VECTORS: no such file: no-such-model.tw2v
    """
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    logging.getLogger("torchw2v").setLevel(logging.WARNING if args.quiet else logging.INFO)
    try:
        return args.subcommand.run(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"torchw2v {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if args.debug:
            raise
        print(f"torchw2v {args.command}: error: {_one_line(error)} (--debug shows the traceback)", file=sys.stderr)
        return 1


def _one_line(error: BaseException) -> str:
    """The error's message on one line, its type when it has no message.

    >>> _one_line(ValueError("alpha must be > 0,\\n  got 0"))
    'alpha must be > 0, got 0'
    >>> _one_line(KeyError("syn1"))
    "KeyError: 'syn1'"
    """
    message = " ".join(str(error).split())
    if not message or isinstance(error, (KeyError, AttributeError, IndexError)):
        return f"{type(error).__name__}: {message}".rstrip(": ")
    return message
