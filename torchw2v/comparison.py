"""Side-by-side comparison of :class:`torchw2v.TorchWord2Vec` with gensim's ``Word2Vec``.

:func:`compare` trains both on the same corpus with the same settings, each in a fresh process
started with the ``spawn`` method so that the peak resident memory of each side is measured on its
own, then scores both with :mod:`torchw2v.evaluation`. :func:`format_table` renders the result as a
Markdown table ready to paste into a README.

>>> from torchw2v.comparison import compare, format_table
>>> result = compare(epochs=1)  # doctest: +SKIP
>>> print(format_table(result))  # doctest: +SKIP
"""
from __future__ import annotations

import logging
import math
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any, Union

from torchw2v.config import TORCH_ONLY_NAMES
from torchw2v.corpus import open_corpus
from torchw2v.datasets import resolve_corpus
from torchw2v.evaluation import Evaluation, evaluate
from torchw2v.progress import show_progress

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]

DEFAULT_EPOCHS = 5
"""gensim's (and TorchWord2Vec's) default number of epochs."""

ANALOGY_RESTRICT_VOCAB = 30000
"""``restrict_vocab`` of the analogy evaluation of both sides."""

TORCH_ONLY_KWARGS = frozenset(TORCH_ONLY_NAMES)
"""Keyword arguments that only :class:`torchw2v.TorchWord2Vec` takes (from the parameter spec); gensim
does not get them."""

LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s: %(message)s"
"""Format of log lines, in the child processes and on the command line."""


@dataclass(frozen=True)
class SideResult:
    """What one side of a comparison measured.

    Attributes
    ----------
    name : str
        ``"torchw2v"`` or ``"gensim"``.
    wall_seconds : float
        Wall-clock seconds of the model's constructor: vocabulary scan, vocabulary build and training.
    corpus_words : int
        Raw words in the corpus (one pass), as counted by the model's vocabulary scan.
    epochs : int
        Training passes over the corpus.
    vocab_size : int
        Words kept in the vocabulary.
    import_rss_mib : float
        Peak resident memory of the child process before training started (interpreter and
        libraries), in MiB.
    peak_rss_mib : float
        Peak resident memory of the child process by the end of training, in MiB.
    evaluation : Evaluation
        Quality of the trained vectors.
    device : str, optional
        Where the model trained (``"cpu"`` for gensim).

    Examples
    --------
    >>> from torchw2v.evaluation import Evaluation
    >>> side = SideResult("gensim", 2.0, 1000, 5, 50, 100.0, 120.0, Evaluation(0.6, 0.6, 340, 353, 0.3, 0.3, 10))
    >>> side.words_per_second
    2500.0
    """

    name: str
    wall_seconds: float
    corpus_words: int
    epochs: int
    vocab_size: int
    import_rss_mib: float
    peak_rss_mib: float
    evaluation: Evaluation
    device: str = "cpu"

    @property
    def words_per_second(self) -> float:
        """Training throughput: raw corpus words times epochs, divided by :attr:`wall_seconds`."""
        return self.corpus_words * self.epochs / self.wall_seconds


@dataclass(frozen=True)
class ComparisonResult:
    """Both sides of a comparison and what they were run on.

    Attributes
    ----------
    corpus_path : str
        The corpus file both sides were trained on.
    corpus_description : str
        How reports name the corpus (see :func:`torchw2v.datasets.resolve_corpus`).
    limit_words : int or None
        When set, both sides saw only the first ``limit_words`` words of the corpus.
    settings : dict
        The keyword arguments given to both constructors (torch-only ones went to torchw2v only);
        the others were at their defaults, which are the same on both sides.
    torchw2v : SideResult
        The :class:`torchw2v.TorchWord2Vec` side.
    gensim : SideResult
        The gensim ``Word2Vec`` side.
    """

    corpus_path: str
    corpus_description: str
    limit_words: int | None
    settings: dict[str, Any]
    torchw2v: SideResult
    gensim: SideResult


@dataclass(frozen=True)
class _SideJob:
    """Everything a child process needs to train and evaluate one side."""

    side: str
    corpus_path: str
    limit_words: int | None
    kwargs: dict[str, Any]
    torchw2v_log_level: int
    verbose: bool
    save_model: str | None = None
    save_vectors: str | None = None
    progress: str | None = None


def _peak_rss_mib() -> float:
    """Peak resident set size of the calling process so far, in MiB.

    On Linux this is ``VmHWM``, the peak of the process's own memory: ``ru_maxrss`` would also
    count the parent's resident memory at the time it started the child (the kernel carries it
    over ``exec``).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB elsewhere


def _run_side(job: _SideJob) -> SideResult:
    """Train and evaluate one side; runs in a fresh child process."""
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    logging.getLogger("torchw2v").setLevel(job.torchw2v_log_level)
    logging.getLogger("gensim").setLevel(logging.INFO if job.verbose else logging.WARNING)

    if job.side == "torchw2v":
        from torchw2v import TorchWord2Vec as model_class
    else:
        from gensim.models import Word2Vec as model_class

        if "torch" in sys.modules:
            logger.warning(
                "torch is loaded in the gensim process: gensim's RSS figures include torch's import footprint"
            )
    corpus = open_corpus(job.corpus_path, limit_words=job.limit_words)
    import_rss_mib = _peak_rss_mib()

    logger.info("%s: training on %s with %s", job.side, job.corpus_path, job.kwargs)
    start = time.perf_counter()
    with show_progress(job.side, job.kwargs.get("epochs", DEFAULT_EPOCHS), job.progress, gensim_info=job.verbose):
        model = model_class(corpus, **job.kwargs)
    wall_seconds = time.perf_counter() - start
    peak_rss_mib = _peak_rss_mib()
    logger.info("%s: trained in %.1f s, peak RSS %.0f MiB; evaluating", job.side, wall_seconds, peak_rss_mib)
    if job.save_model is not None:
        model.save(job.save_model)
    if job.save_vectors is not None:
        model.wv.save_word2vec_format(job.save_vectors, binary=True)

    return SideResult(
        name=job.side,
        wall_seconds=wall_seconds,
        corpus_words=int(model.corpus_total_words),
        epochs=int(model.epochs),
        vocab_size=len(model.wv),
        import_rss_mib=import_rss_mib,
        peak_rss_mib=peak_rss_mib,
        evaluation=evaluate(model.wv, restrict_vocab=ANALOGY_RESTRICT_VOCAB),
        device=str(getattr(model, "device", "cpu")),
    )


def _run_in_fresh_process(job: _SideJob) -> SideResult:
    """Run :func:`_run_side` in a new ``spawn``-started process of its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_run_side, job).result()


def compare(
    corpus_path: PathLike | None = None,
    *,
    limit_words: int | None = None,
    verbose: bool = False,
    save_model: PathLike | None = None,
    save_gensim_vectors: PathLike | None = None,
    progress: str | None = None,
    **word2vec_kwargs: Any,
) -> ComparisonResult:
    """Train TorchWord2Vec and gensim's Word2Vec on the same corpus and measure both.

    Each side runs in a fresh process (``spawn`` start method), one after the other, so the two
    never compete for CPU cores and each one's peak memory is its own.

    Parameters
    ----------
    corpus_path : str or os.PathLike, optional
        The corpus file, plain, ``.gz`` or ``.bz2``, text8 format or one sentence a line (see
        :func:`torchw2v.corpus.open_corpus`), or the word ``text8``. Default: the best available corpus,
        text8 when it is here or can be downloaded, else the text8 sample packaged with torchw2v (see
        :func:`torchw2v.datasets.resolve_corpus`).
    limit_words : int, optional
        Train both sides on only the first ``limit_words`` words of the corpus.
    verbose : bool, optional
        Let gensim's INFO log messages through in the child processes (by default only its warnings).
    save_model : str or os.PathLike, optional
        Save the trained TorchWord2Vec there (``TorchWord2Vec.load`` reads it back).
    save_gensim_vectors : str or os.PathLike, optional
        Save gensim's trained word vectors there, in word2vec binary format
        (``KeyedVectors.load_word2vec_format(path, binary=True)`` reads them back).
    progress : {"bar", "log"}, optional
        Show each side's training progress as a bar per epoch or as log lines (see
        :mod:`torchw2v.progress`); by default the log shows what the loggers' levels let through.
    **word2vec_kwargs
        Settings for both constructors, e.g. ``sg=1, epochs=5``; those not given keep their defaults,
        which are the same on both sides. ``device``, ``batch_size``, ``dtype`` and ``progress_bar``
        go to TorchWord2Vec only.

    Returns
    -------
    ComparisonResult
        Both sides' timings, memory and quality.

    Raises
    ------
    TypeError
        If ``sentences`` or ``corpus_file`` is given: the corpus is ``corpus_path``.

    Notes
    -----
    As with any ``spawn``-started process, a script calling this function must do so under
    ``if __name__ == "__main__":``. Each child imports ``torchw2v.comparison``, hence the ``torchw2v``
    package, which does not import torch (should torch be loaded in the gensim process anyway, it
    logs a warning: the "RSS before training" row of :func:`format_table` would then show it).

    Examples
    --------
    >>> result = compare(epochs=1, workers=2)  # doctest: +SKIP
    >>> result.gensim.corpus_words  # the text8 sample, without text8  # doctest: +SKIP
    2000000
    """
    for name in ("sentences", "corpus_file"):
        if name in word2vec_kwargs:
            raise TypeError(f"compare() takes the corpus as corpus_path, not as {name!r}")
    corpus = resolve_corpus(corpus_path)
    gensim_kwargs = {key: value for key, value in word2vec_kwargs.items() if key not in TORCH_ONLY_KWARGS}
    torchw2v_log_level = logging.getLogger("torchw2v").getEffectiveLevel()

    saves = {"torchw2v": {"save_model": save_model}, "gensim": {"save_vectors": save_gensim_vectors}}
    results = {}
    for side, kwargs in (("torchw2v", word2vec_kwargs), ("gensim", gensim_kwargs)):
        logger.info("starting a fresh process for %s", side)
        paths = {name: os.fspath(path) for name, path in saves[side].items() if path is not None}
        results[side] = _run_in_fresh_process(_SideJob(side, corpus.path, limit_words, dict(kwargs),
                                                       torchw2v_log_level, verbose, progress=progress, **paths))
        logger.info("%s: %.0f words/s", side, results[side].words_per_second)
    return ComparisonResult(
        corpus_path=corpus.path,
        corpus_description=corpus.description,
        limit_words=limit_words,
        settings=dict(word2vec_kwargs),
        torchw2v=results["torchw2v"],
        gensim=results["gensim"],
    )


def _number(value: float, spec: str, unit: str = "") -> str:
    """Format ``value`` with ``spec`` followed by ``unit``, or a dash when it is not a number."""
    return "–" if math.isnan(value) else format(value, spec) + unit


def _ratio(numerator: float, denominator: float) -> str:
    """``numerator / denominator`` as ``"1.23×"``, or a dash when undefined."""
    if denominator == 0 or math.isnan(numerator) or math.isnan(denominator):
        return "–"
    return f"{numerator / denominator:.2f}×"


def format_table(result: ComparisonResult) -> str:
    """Render a comparison as Markdown: a caption naming corpus and settings, then the table.

    The table has a row per measurement and a column per side, and a last column comparing them:
    the ratio torchw2v / gensim for speed and memory (words/s above 1× means torchw2v is faster),
    the difference torchw2v − gensim for quality.

    Parameters
    ----------
    result : ComparisonResult
        What :func:`compare` returned.

    Returns
    -------
    str
        Markdown text, ending with a newline.

    Examples
    --------
    >>> from torchw2v.evaluation import Evaluation
    >>> side = SideResult("gensim", 2.0, 1000, 5, 50, 100.0, 120.0, Evaluation(0.6, 0.6, 340, 353, 0.3, 0.3, 10))
    >>> result = ComparisonResult("corpus.txt", "`corpus.txt`", None, {"sg": 1}, side, side)
    >>> print(format_table(result).splitlines()[4])
    | words/s | 2,500 | 2,500 | 1.00× |
    """
    t, g = result.torchw2v, result.gensim
    te, ge = t.evaluation, g.evaluation
    corpus = result.corpus_description
    if result.limit_words is not None:
        corpus += f", first {result.limit_words:,} words only"
    settings = ", ".join(f"{key}={value!r}" for key, value in result.settings.items())
    settings = f"`{settings}`, others at their defaults" if settings else "all at their defaults"
    rows = [
        ("words/s", f"{t.words_per_second:,.0f}", f"{g.words_per_second:,.0f}",
         _ratio(t.words_per_second, g.words_per_second)),
        ("training wall time, s", f"{t.wall_seconds:.2f}", f"{g.wall_seconds:.2f}",
         _ratio(t.wall_seconds, g.wall_seconds)),
        ("peak RSS, MiB", f"{t.peak_rss_mib:,.0f}", f"{g.peak_rss_mib:,.0f}", _ratio(t.peak_rss_mib, g.peak_rss_mib)),
        ("RSS before training, MiB", f"{t.import_rss_mib:,.0f}", f"{g.import_rss_mib:,.0f}",
         _ratio(t.import_rss_mib, g.import_rss_mib)),
        ("WordSim-353 Spearman", _number(te.wordsim_spearman, ".3f"), _number(ge.wordsim_spearman, ".3f"),
         _number(te.wordsim_spearman - ge.wordsim_spearman, "+.3f")),
        (f"analogy accuracy, 3CosAdd (top {ANALOGY_RESTRICT_VOCAB:,} words)", _number(te.analogy_accuracy, ".1%"),
         _number(ge.analogy_accuracy, ".1%"),
         _number(100 * (te.analogy_accuracy - ge.analogy_accuracy), "+.1f", " pp")),
        ("analogy accuracy, 3CosMul", _number(te.analogy_accuracy_3cosmul, ".1%"),
         _number(ge.analogy_accuracy_3cosmul, ".1%"),
         _number(100 * (te.analogy_accuracy_3cosmul - ge.analogy_accuracy_3cosmul), "+.1f", " pp")),
        ("analogy questions evaluated", f"{te.analogy_questions:,}", f"{ge.analogy_questions:,}",
         f"{te.analogy_questions - ge.analogy_questions:+,}"),
        ("vocabulary size", f"{t.vocab_size:,}", f"{g.vocab_size:,}", f"{t.vocab_size - g.vocab_size:+,}"),
        ("corpus words × epochs", f"{t.corpus_words:,} × {t.epochs}", f"{g.corpus_words:,} × {g.epochs}",
         "same" if (t.corpus_words, t.epochs) == (g.corpus_words, g.epochs) else "differ"),
    ]
    lines = [
        f"Corpus: {corpus}. Settings: {settings}. Last column: the ratio torchw2v / gensim for speed and "
        "memory, the difference torchw2v − gensim for quality.",
        "",
        "| | torchw2v | gensim | torchw2v vs gensim |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {a} | {b} | {versus} |" for name, a, b, versus in rows),
    ]
    return "\n".join(lines) + "\n"
