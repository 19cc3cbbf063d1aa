"""The training report: train, evaluate, compare with gensim, and write Markdown with figures.

:func:`write_report` trains TorchWord2Vec on a corpus (recording the loss) and, unless told
not to, gensim's Word2Vec with the same settings, each in a fresh process
(:func:`torchw2v.comparison.compare`); then it evaluates the saved model's input vectors and
its input+output average and concatenation (WordSim-353 with coverage, analogies with 3CosAdd
and 3CosMul), lists nearest neighbours and worked analogies of both, draws the figures of
:mod:`torchw2v.figures`, and writes ``report.md`` next to them. It opens with a one-paragraph
verdict (corpus, settings, speed and memory ratios, quality differences), then names the machine
and the versions, then the details. The figures:

- ``frequency.png``: word-frequency rank plot, with the ``min_count`` cut;
- ``loss.png``: torchw2v's training loss against words processed, with the epoch boundaries;
- ``wordsim353.png``: human scores against cosine similarities, torchw2v and gensim side by side;
- ``pca.png``: a 2-D PCA projection of royalty and country/capital words, torchw2v and gensim side by side.

>>> result = write_report(None, "report", sg=1)  # doctest: +SKIP
>>> result.markdown  # doctest: +SKIP
PosixPath('report/report.md')
"""
from __future__ import annotations

import importlib.metadata
import logging
import math
import os
import platform
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from torchw2v import figures
from torchw2v.comparison import (ANALOGY_RESTRICT_VOCAB, DEFAULT_EPOCHS, ComparisonResult, PathLike, compare,
                                 format_table)
from torchw2v.config import gpu_driver_present
from torchw2v.corpus import open_corpus
from torchw2v.datasets import ResolvedCorpus, resolve_corpus
from torchw2v.evaluation import NEIGHBOUR_WORDS, Evaluation, evaluate, find_words, nearest_neighbours, word_pairs
from torchw2v.export import VECTOR_KINDS
from torchw2v.progress import show_progress
from torchw2v.vocab import scan_vocab

logger = logging.getLogger(__name__)

ANALOGY_EXAMPLES = (
    (("paris", "italy"), ("france",), "rome"),
    (("king", "woman"), ("man",), "queen"),
    (("berlin", "japan"), ("germany",), "tokyo"),
    (("france", "berlin"), ("paris",), "germany"),
    (("brother", "she"), ("he",), "sister"),
)
"""Worked analogies ``(positive, negative, expected)``: paris - france + italy = rome, ..."""

SIMILAR_QUALITY = (0.02, 0.01)
"""The verdict says the vectors match gensim's when WordSim-353 and analogy accuracy differ by at most these."""

MODEL_FILE = "model.tw2v"
"""Name of the saved model in the report folder."""

GENSIM_VECTORS_FILE = "gensim-vectors.bin"
"""Name of gensim's word vectors (word2vec binary format) in the report folder."""

VERSIONS_OF = ("torchw2v", "gensim", "numpy", "scipy", "torch")
"""Packages whose versions the report names."""

_VECTOR_NAMES = {"input": "torchw2v, input vectors (`model.wv`, what gensim exports)",
                 "average": "torchw2v, average of input and output vectors",
                 "concat": "torchw2v, concatenation of input and output vectors"}


@dataclass(frozen=True)
class ReportResult:
    """What :func:`write_report` wrote and measured.

    Attributes
    ----------
    folder : pathlib.Path
    markdown : pathlib.Path
        ``report.md``.
    figures : dict of str to pathlib.Path
        Each figure by name (``frequency``, ``loss``, ``wordsim353``, ``pca``).
    scores : dict of str to torchw2v.evaluation.Evaluation
        The scores of each kind of torchw2v vectors (``input``, ``average``, ``concat``).
    comparison : torchw2v.comparison.ComparisonResult or None
        The side-by-side run with gensim, unless ``with_gensim=False``.
    """

    folder: Path
    markdown: Path
    figures: dict[str, Path]
    scores: dict[str, Evaluation]
    comparison: ComparisonResult | None


def worked_analogies(wv, examples=ANALOGY_EXAMPLES, topn: int = 3) -> list[tuple[str, list[tuple[str, float]]]]:
    """Answer each ``(positive, negative, expected)`` example with 3CosAdd (``most_similar``).

    Returns ``(expression, answers)`` pairs, such as ``("paris - france + italy = rome?", [("rome", 0.71), ...])``;
    an example with a word outside the vocabulary gets no answers.

    >>> from gensim.models import Word2Vec
    >>> from gensim.test.utils import common_texts
    >>> worked_analogies(Word2Vec(common_texts, min_count=1).wv)[0]
    ('paris - france + italy = rome?', [])
    """
    results = []
    for positive, negative, expected in examples:
        expression = f"{positive[0]} - {' - '.join(negative)} + {' + '.join(positive[1:])} = {expected}?"
        found = find_words(wv, [*positive, *negative])
        if len(found) < len(positive) + len(negative):
            results.append((expression, []))
            continue
        answers = wv.most_similar(positive=[found[w] for w in positive], negative=[found[w] for w in negative],
                                  topn=topn)
        results.append((expression, [(word, float(score)) for word, score in answers]))
    return results


def neighbours_table(sides: dict[str, dict[str, list[tuple[str, float]]]]) -> list[str]:
    """Markdown table lines: each word, then its nearest neighbours with their cosines in each set of vectors.

    Parameters
    ----------
    sides : dict of str to dict of str to list of (str, float)
        For each set of vectors (a column, such as ``torchw2v`` and ``gensim``), the neighbours of
        each word, as :func:`torchw2v.evaluation.nearest_neighbours` returns them.

    Examples
    --------
    >>> neighbours_table({"torchw2v": {"king": [("queen", 0.75)]}})[-1]
    '| king | queen (0.75) |'
    """
    words = list(dict.fromkeys(word for neighbours in sides.values() for word in neighbours))
    lines = [f"| word | {' | '.join(sides)} |", "|---|" + "---|" * len(sides)]
    for word in words:
        cells = [", ".join(f"{n} ({c:.2f})" for n, c in neighbours.get(word, [])) or "not in the vocabulary"
                 for neighbours in sides.values()]
        lines.append(f"| {word} | {' | '.join(cells)} |")
    return lines


def machine_description() -> str:
    """The machine in a sentence: CPU cores and model, memory, GPU, current load.

    >>> "CPU core" in machine_description()
    True
    """
    cpu = platform.processor() or platform.machine()
    memory = ""
    try:
        with open("/proc/cpuinfo", encoding="utf8") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
        with open("/proc/meminfo", encoding="utf8") as info:
            kib = next(int(line.split()[1]) for line in info if line.startswith("MemTotal:"))
            memory = f", {kib / 2**20:.0f} GiB of memory"
    except (OSError, StopIteration, ValueError):
        pass
    cores = os.cpu_count() or 1
    text = f"{cores} CPU core{'s' if cores > 1 else ''} ({cpu}){memory}, {_gpu_description()}"
    if hasattr(os, "getloadavg"):
        text += f"; load average {os.getloadavg()[0]:.1f} when the report was written"
    return text


def _gpu_description() -> str:
    """The GPUs torch sees, asked only when a GPU driver is present (torch's import is large)."""
    if not gpu_driver_present():
        return "no GPU"
    import torch

    if torch.cuda.is_available():
        return "GPU: " + ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "GPU: Apple silicon (MPS)"
    return "a GPU driver but no GPU that torch can use"


def versions() -> dict[str, str]:
    """Python's and :data:`VERSIONS_OF`'s versions (``"not installed"`` for a missing package).

    >>> sorted(versions())[:2]
    ['Python', 'gensim']
    """
    found = {"Python": platform.python_version()}
    for name in VERSIONS_OF:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _percent(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.1%}"


def _spearman(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.3f}"


def _settings_text(model) -> str:
    """The training settings in a phrase: algorithm, objective, then the numbers."""
    algorithm = "skip-gram" if model.sg else "CBOW"
    objective = " and ".join(part for part, used in (
        (f"negative sampling ({model.negative} noise words)", model.negative), ("hierarchical softmax", model.hs))
        if used)
    numbers = ", ".join(f"{name}={getattr(model, name)!r}" for name in (
        "vector_size", "window", "min_count", "sample", "alpha", "workers"))
    return f"{algorithm} with {objective}, `{numbers}`"


def _verdict(corpus: ResolvedCorpus, model, comparison: ComparisonResult | None, scores: dict[str, Evaluation],
             train_seconds: float | None) -> str:
    """The report's opening paragraph: the finding first, then corpus, settings and the numbers behind it."""
    run = (f"Corpus: {corpus.description}; {model.corpus_total_words:,} words × {model.epochs} epochs. "
           f"Settings: {_settings_text(model)}.")
    load = f" Measured on {os.cpu_count()} CPU cores" + (
        f" at load average {os.getloadavg()[0]:.1f}, shared with other jobs: speed varies from run to run."
        if hasattr(os, "getloadavg") else ".")
    if comparison is None:
        words_per_second = model.corpus_total_words * model.epochs / train_seconds
        ours = scores["input"]
        return (f"**Verdict.** torchw2v trained at {words_per_second:,.0f} words/s ({train_seconds:.1f} s, vocabulary "
                f"scan included); its word vectors reach a WordSim-353 Spearman of {_spearman(ours.wordsim_spearman)} "
                f"and {_percent(ours.analogy_accuracy)} on the analogies (3CosAdd, {ANALOGY_RESTRICT_VOCAB:,} most "
                f"frequent words). gensim was not trained for comparison. {run}{load}")
    t, g = comparison.torchw2v, comparison.gensim
    te, ge = t.evaluation, g.evaluation
    wordsim_delta = te.wordsim_spearman - ge.wordsim_spearman
    analogy_delta = te.analogy_accuracy - ge.analogy_accuracy
    if abs(wordsim_delta) <= SIMILAR_QUALITY[0] and abs(analogy_delta) <= SIMILAR_QUALITY[1]:
        quality = "its word vectors score as gensim's do"
    elif wordsim_delta >= 0 and analogy_delta >= 0:
        quality = "its word vectors score higher than gensim's"
    elif wordsim_delta <= 0 and analogy_delta <= 0:
        quality = "its word vectors score lower than gensim's"
    else:
        quality = "its word vectors score differently from gensim's"
    return (
        f"**Verdict.** torchw2v trained **{t.words_per_second / g.words_per_second:.2f}× as fast as gensim** with "
        f"**{t.peak_rss_mib / g.peak_rss_mib:.2f}× its peak memory**, and {quality}: WordSim-353 Spearman "
        f"{_spearman(te.wordsim_spearman)} against {_spearman(ge.wordsim_spearman)} ({wordsim_delta:+.3f}), "
        f"analogy accuracy {_percent(te.analogy_accuracy)} against {_percent(ge.analogy_accuracy)} "
        f"({100 * analogy_delta:+.1f} points; 3CosAdd, {ANALOGY_RESTRICT_VOCAB:,} most frequent words). {run} "
        f"Speed: {t.words_per_second:,.0f} against {g.words_per_second:,.0f} words/s ({t.wall_seconds:.1f} s against "
        f"{g.wall_seconds:.1f} s, vocabulary scan included); memory: {t.peak_rss_mib:,.0f} against "
        f"{g.peak_rss_mib:,.0f} MiB peak resident.{load}")


def _scores_table(scores: dict[str, Evaluation], gensim_scores: Evaluation | None) -> list[str]:
    lines = ["| word vectors | WordSim-353 Spearman | pairs covered | analogies 3CosAdd | analogies 3CosMul "
             "| questions |", "|---|---:|---:|---:|---:|---:|"]
    rows = [(_VECTOR_NAMES[kind], evaluation) for kind, evaluation in scores.items()]
    if gensim_scores is not None:
        rows.append(("gensim, input vectors", gensim_scores))
    for name, s in rows:
        lines.append(f"| {name} | {_spearman(s.wordsim_spearman)} | {s.wordsim_pairs}/{s.wordsim_pairs_total} | "
                     f"{_percent(s.analogy_accuracy)} | {_percent(s.analogy_accuracy_3cosmul)} | "
                     f"{s.analogy_questions:,} |")
    return lines


_CAPTIONS = {
    "frequency": "Word frequency against rank (log-log) in the corpus, with the min_count cut",
    "loss": "torchw2v's training loss against words processed; dashed lines are epoch boundaries (gensim records "
            "no loss curve)",
    "wordsim353": "WordSim-353: human score against cosine similarity",
    "pca": "PCA projection of royalty and country/capital words; grey lines join male to female and country to "
           "capital",
}
_SIDE_BY_SIDE = ("wordsim353", "pca")


def _markdown(corpus, model, device, scores, gensim_scores, neighbours, worked, comparison, figure_paths,
              train_seconds) -> str:
    """The text of ``report.md``."""
    lines = ["# torchw2v training report", "", _verdict(corpus, model, comparison, scores, train_seconds), "",
             "## Machine and versions", "",
             f"- Machine: {machine_description()}.",
             "- Versions: " + ", ".join(f"{name} {version}" for name, version in versions().items()) + ".",
             f"- Corpus: {corpus.description}; {model.corpus_total_words:,} words, vocabulary {len(model.wv):,} "
             f"words (min_count {model.effective_min_count}).",
             f"- Settings: {_settings_text(model)}, epochs={model.epochs}; torchw2v on device `{device}`.", ""]
    if comparison is not None:
        lines += ["## torchw2v and gensim, same corpus and settings", "", format_table(comparison)]
    lines += ["## Quality of the word vectors", "",
              "Input vectors are what gensim exports; the average and the concatenation also use the output "
              "(negative-sampling) vectors.", "", *_scores_table(scores, gensim_scores), ""]
    lines += ["## Nearest neighbours", "", *neighbours_table(neighbours)]
    lines += ["", "## Analogies (3CosAdd)", "", "The three nearest answers of each set of vectors; the expected one in "
              "bold.", "", f"| analogy | {' | '.join(worked)} |", "|---|" + "---|" * len(worked)]
    for row in zip(*worked.values()):
        expression = row[0][0]
        expected = expression.rsplit(" = ", 1)[1].rstrip("?")
        cells = [", ".join(f"**{w}** ({s:.2f})" if w == expected else f"{w} ({s:.2f})" for w, s in answers)
                 or "words not in the vocabulary" for _, answers in row]
        lines.append(f"| {expression} | {' | '.join(cells)} |")
    lines += ["", "## Figures", ""]
    for name, path in figure_paths.items():
        caption = _CAPTIONS[name] + (", torchw2v and gensim side by side" if comparison and name in _SIDE_BY_SIDE
                                     else "")
        lines.append(f"![{caption}]({path.name})\n\n*{caption}.*\n")
    return "\n".join(lines) + "\n"


def write_report(corpus: PathLike | None, out_dir: PathLike, *, with_gensim: bool = True,
                 limit_words: int | None = None, verbose: bool = False, progress: str | None = None,
                 **word2vec_kwargs: Any) -> ReportResult:
    """Train on ``corpus``, evaluate, compare with gensim and write the report folder.

    Parameters
    ----------
    corpus : str or os.PathLike or None
        A corpus file (text8 format or one sentence a line; plain, .gz, .bz2, .xz), the word ``"text8"``,
        or None for the best available corpus (see :func:`torchw2v.datasets.resolve_corpus`).
    out_dir : str or os.PathLike
        The report folder (created); it receives ``report.md``, the figures, ``model.tw2v`` and, with
        gensim, gensim's word vectors (:data:`GENSIM_VECTORS_FILE`).
    with_gensim : bool, optional
        Also train gensim's Word2Vec with the same settings and include the comparison.
    limit_words : int, optional
        Use only the first ``limit_words`` words of the corpus.
    verbose : bool, optional
        Let gensim's INFO log messages through.
    progress : {"bar", "log"}, optional
        Show the training progress as a bar per epoch or as log lines (see :mod:`torchw2v.progress`).
    **word2vec_kwargs
        TorchWord2Vec settings (gensim's names; torch-only ones go to torchw2v only).
        ``compute_loss`` is always on, on both sides (for the loss figure).

    Returns
    -------
    ReportResult
    """
    from gensim.models import KeyedVectors

    from torchw2v import TorchWord2Vec

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    corpus = resolve_corpus(corpus)
    model_path, gensim_path = folder / MODEL_FILE, folder / GENSIM_VECTORS_FILE
    settings = {**word2vec_kwargs, "compute_loss": True}
    comparison, train_seconds = None, None
    if with_gensim:
        comparison = replace(compare(corpus.path, limit_words=limit_words, verbose=verbose, save_model=model_path,
                                     save_gensim_vectors=gensim_path, progress=progress, **settings),
                             corpus_description=corpus.description)
        device = comparison.torchw2v.device
    else:
        start = time.perf_counter()
        with show_progress("torchw2v", settings.get("epochs", DEFAULT_EPOCHS), progress):
            trained = TorchWord2Vec(open_corpus(corpus.path, limit_words=limit_words), **settings)
        train_seconds = time.perf_counter() - start
        trained.save(model_path)
        device = trained.device
        del trained
    model = TorchWord2Vec.load(model_path, device="cpu")
    sides = {"torchw2v": model.wv}
    if with_gensim:
        sides["gensim"] = KeyedVectors.load_word2vec_format(str(gensim_path), binary=True)

    logger.info("evaluating the word vectors")
    kinds = VECTOR_KINDS if model.negative else ("input",)
    scores = {kind: comparison.torchw2v.evaluation if kind == "input" and comparison is not None else
              evaluate(model.keyed_vectors(kind), restrict_vocab=ANALOGY_RESTRICT_VOCAB) for kind in kinds}
    neighbours = {name: nearest_neighbours(wv, NEIGHBOUR_WORDS, topn=5) for name, wv in sides.items()}
    worked = {name: worked_analogies(wv) for name, wv in sides.items()}

    logger.info("drawing the figures")
    raw_counts = scan_vocab(open_corpus(corpus.path, limit_words=limit_words), progress_per=10**9).raw_vocab
    curve = model.loss_curve
    figure_paths = {
        "frequency": figures.plot_frequency_rank(np.fromiter(raw_counts.values(), dtype=np.int64),
                                                 model.effective_min_count, folder / "frequency.png"),
        "loss": figures.plot_training_loss(curve.words, curve.loss_per_word(), curve.epoch_ends, folder / "loss.png",
                                           title="Training loss of torchw2v (gensim records no loss curve)"),
        "wordsim353": figures.plot_word_pairs({name: word_pairs(wv) for name, wv in sides.items()},
                                              folder / "wordsim353.png"),
    }
    try:
        figure_paths["pca"] = figures.plot_pca(sides, figures.PCA_WORD_GROUPS, folder / "pca.png")
    except ValueError as error:  # fewer than 3 of the words in a small vocabulary
        logger.warning("no PCA figure: %s", error)
    markdown = folder / "report.md"
    markdown.write_text(_markdown(corpus, model, device, scores, comparison and comparison.gensim.evaluation,
                                  neighbours, worked, comparison, figure_paths, train_seconds), encoding="utf-8")
    logger.info("wrote %s", markdown)
    return ReportResult(folder, markdown, figure_paths, scores, comparison)
