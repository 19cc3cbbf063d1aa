"""The training report: train, evaluate, compare with gensim, and write Markdown with figures.

:func:`write_report` trains TorchWord2Vec on a corpus (recording the loss) and, unless told
not to, gensim's Word2Vec with the same settings, each in a fresh process
(:func:`torchw2v.comparison.compare`); then it evaluates the saved model's input vectors and
its input+output average and concatenation (WordSim-353 with coverage, analogies with 3CosAdd
and 3CosMul), lists nearest neighbours and worked analogies, draws the figures of
:mod:`torchw2v.figures`, and writes ``report.md`` next to them:

- ``frequency.png``: word-frequency rank plot, with the ``min_count`` cut;
- ``loss.png``: training loss against words processed, with the epoch boundaries;
- ``wordsim353.png``: human scores against cosine similarities;
- ``pca.png``: a 2-D PCA projection of royalty and country/capital words.

>>> result = write_report(None, "report", epochs=1)  # doctest: +SKIP
>>> result.markdown  # doctest: +SKIP
PosixPath('report/report.md')
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from torchw2v import figures
from torchw2v.comparison import ANALOGY_RESTRICT_VOCAB, PathLike, compare, format_table
from torchw2v.corpus import open_corpus
from torchw2v.datasets import resolve_corpus
from torchw2v.evaluation import NEIGHBOUR_WORDS, analogies, find_words, nearest_neighbours, word_pairs
from torchw2v.export import VECTOR_KINDS
from torchw2v.vocab import scan_vocab

logger = logging.getLogger(__name__)

ANALOGY_EXAMPLES = (
    (("paris", "italy"), ("france",)),
    (("king", "woman"), ("man",)),
    (("berlin", "japan"), ("germany",)),
    (("walking", "swam"), ("walked",)),
)
"""Worked analogies ``(positive, negative)``: paris - france + italy, king - man + woman, ..."""

MODEL_FILE = "model.tw2v"
"""Name of the saved model in the report folder."""


@dataclass(frozen=True)
class VectorScores:
    """Quality of one kind of word vectors (``input``, ``average`` or ``concat``).

    Attributes
    ----------
    kind : str
    wordsim_spearman : float
    wordsim_pairs, wordsim_pairs_total : int
        Pairs evaluated (both words in the vocabulary), pairs in the file.
    accuracy_3cosadd, accuracy_3cosmul : float
        Analogy accuracy among the :data:`~torchw2v.comparison.ANALOGY_RESTRICT_VOCAB` most
        frequent words.
    analogy_questions : int
    """

    kind: str
    wordsim_spearman: float
    wordsim_pairs: int
    wordsim_pairs_total: int
    accuracy_3cosadd: float
    accuracy_3cosmul: float
    analogy_questions: int


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
    scores : list of VectorScores
        One per kind of vectors evaluated.
    comparison : torchw2v.comparison.ComparisonResult or None
        The side-by-side run with gensim, unless ``with_gensim=False``.
    """

    folder: Path
    markdown: Path
    figures: dict[str, Path]
    scores: list[VectorScores]
    comparison: Any


def score_vectors(wv, kind: str) -> VectorScores:
    """WordSim-353 and both analogy methods on one set of word vectors.

    >>> from gensim.models import Word2Vec
    >>> from gensim.test.utils import common_texts
    >>> score_vectors(Word2Vec(common_texts, min_count=1).wv, "input").wordsim_pairs
    0
    """
    pairs = word_pairs(wv)
    analogy = analogies(wv, restrict_vocab=ANALOGY_RESTRICT_VOCAB)
    return VectorScores(kind, pairs.spearman, pairs.pairs, pairs.pairs_total, analogy.accuracy["3cosadd"],
                        analogy.accuracy["3cosmul"], analogy.questions)


def worked_analogies(wv, examples=ANALOGY_EXAMPLES, topn: int = 3) -> list[tuple[str, list[tuple[str, float]]]]:
    """Answer each ``(positive, negative)`` example with 3CosAdd (``most_similar``).

    Returns ``(expression, answers)`` pairs, such as ``("paris - france + italy", [("rome", 0.71), ...])``;
    an example with a word outside the vocabulary gets no answers.

    >>> from gensim.models import Word2Vec
    >>> from gensim.test.utils import common_texts
    >>> worked_analogies(Word2Vec(common_texts, min_count=1).wv)[0]
    ('paris - france + italy', [])
    """
    results = []
    for positive, negative in examples:
        expression = f"{positive[0]} - {' - '.join(negative)} + {' + '.join(positive[1:])}"
        found = find_words(wv, [*positive, *negative])
        if len(found) < len(positive) + len(negative):
            results.append((expression, []))
            continue
        answers = wv.most_similar(positive=[found[w] for w in positive], negative=[found[w] for w in negative],
                                  topn=topn)
        results.append((expression, [(word, float(score)) for word, score in answers]))
    return results


def neighbours_table(neighbours: dict[str, list[tuple[str, float]]]) -> list[str]:
    """Markdown table lines: each word and its nearest neighbours with their cosines.

    >>> neighbours_table({"king": [("queen", 0.75)]})[-1]
    '| king | queen (0.75) |'
    """
    return ["| word | nearest neighbours (cosine) |", "|---|---|"] + [
        f"| {word} | {', '.join(f'{n} ({c:.2f})' for n, c in found)} |" for word, found in neighbours.items()]


def _percent(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.1%}"


def _scores_table(scores: list[VectorScores]) -> list[str]:
    lines = ["| word vectors | WordSim-353 Spearman | pairs covered | analogies 3CosAdd | analogies 3CosMul "
             "| questions |", "|---|---:|---:|---:|---:|---:|"]
    names = {"input": "input (`model.wv`, gensim's)", "average": "average of input and output",
             "concat": "concatenation of input and output"}
    for s in scores:
        spearman = "–" if math.isnan(s.wordsim_spearman) else f"{s.wordsim_spearman:.3f}"
        lines.append(f"| {names[s.kind]} | {spearman} | {s.wordsim_pairs}/{s.wordsim_pairs_total} | "
                     f"{_percent(s.accuracy_3cosadd)} | {_percent(s.accuracy_3cosmul)} | {s.analogy_questions:,} |")
    return lines


def _markdown(corpus, model, scores, neighbours, worked, comparison, figure_paths) -> str:
    """The text of ``report.md``."""
    settings = ", ".join(f"{name}={getattr(model, name)!r}" for name in (
        "sg", "hs", "negative", "vector_size", "window", "min_count", "sample", "epochs", "alpha", "optimizer"))
    lines = [
        "# torchw2v training report", "",
        f"Corpus: {corpus.description}, {model.corpus_total_words:,} words, vocabulary {len(model.wv):,} words "
        f"(min_count {model.effective_min_count}).", "",
        f"Settings: `{settings}`, device `{model.device}`.", "",
    ]
    if comparison is not None:
        lines += ["## torchw2v and gensim, same corpus and settings", "", format_table(comparison)]
    lines += ["## Quality of the word vectors", "",
              "Input vectors are what gensim exports; the average and the concatenation also use the output "
              "(negative-sampling) vectors.", "", *_scores_table(scores), ""]
    lines += ["## Nearest neighbours", "", *neighbours_table(neighbours)]
    lines += ["", "## Analogies (3CosAdd)", "", "| analogy | answers |", "|---|---|"]
    lines += [f"| {expression} | {', '.join(f'{w} ({s:.2f})' for w, s in answers) or 'words not in the vocabulary'} |"
              for expression, answers in worked]
    captions = {
        "frequency": "Word frequency against rank (log-log), with the min_count cut",
        "loss": "Training loss against words processed; dashed lines are epoch boundaries",
        "wordsim353": "WordSim-353: human score against cosine similarity",
        "pca": "PCA projection of chosen words",
    }
    lines += ["", "## Figures", ""]
    lines += [f"![{captions[name]}]({path.name})\n\n*{captions[name]}.*\n" for name, path in figure_paths.items()]
    return "\n".join(lines) + "\n"


def write_report(corpus: PathLike | None, out_dir: PathLike, *, with_gensim: bool = True,
                 limit_words: int | None = None, verbose: bool = False, **word2vec_kwargs: Any) -> ReportResult:
    """Train on ``corpus``, evaluate, compare with gensim and write the report folder.

    Parameters
    ----------
    corpus : str or os.PathLike or None
        A corpus file (text8 format or one sentence a line; plain, .gz, .bz2), the word ``"text8"``,
        or None for the small embedded default corpus.
    out_dir : str or os.PathLike
        The report folder (created); it receives ``report.md``, the figures and ``model.tw2v``.
    with_gensim : bool, optional
        Also train gensim's Word2Vec with the same settings and include the comparison table.
    limit_words : int, optional
        Use only the first ``limit_words`` words of the corpus.
    verbose : bool, optional
        Let gensim's INFO log messages through.
    **word2vec_kwargs
        TorchWord2Vec settings (gensim's names; torch-only ones go to torchw2v only).
        ``compute_loss`` is always on, on both sides (for the loss figure).

    Returns
    -------
    ReportResult
    """
    from torchw2v import TorchWord2Vec

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    corpus = resolve_corpus(corpus)
    model_path = folder / MODEL_FILE
    settings = {**word2vec_kwargs, "compute_loss": True}
    comparison = None
    if with_gensim:
        comparison = compare(corpus.path, limit_words=limit_words, verbose=verbose,
                             save_model=model_path, **settings)
    else:
        TorchWord2Vec(open_corpus(corpus.path, limit_words=limit_words), **settings).save(model_path)
    model = TorchWord2Vec.load(model_path, device="cpu")

    logger.info("evaluating the word vectors")
    kinds = VECTOR_KINDS if model.negative else ("input",)
    scores = [score_vectors(model.keyed_vectors(kind) if kind != "input" else model.wv, kind) for kind in kinds]
    neighbours = nearest_neighbours(model.wv, NEIGHBOUR_WORDS, topn=8)
    worked = worked_analogies(model.wv)

    logger.info("drawing the figures")
    raw_counts = scan_vocab(open_corpus(corpus.path, limit_words=limit_words), progress_per=10**9).raw_vocab
    curve = model.loss_curve
    pairs = word_pairs(model.wv)
    figure_paths = {
        "frequency": figures.plot_frequency_rank(np.sort(np.fromiter(raw_counts.values(), dtype=np.int64))[::-1],
                                                 model.effective_min_count, folder / "frequency.png"),
        "loss": figures.plot_training_loss(curve.words, curve.loss_per_word(), curve.epoch_ends, folder / "loss.png"),
        "wordsim353": figures.plot_word_pairs(pairs.human, pairs.cosine, pairs.spearman, folder / "wordsim353.png"),
    }
    try:
        figure_paths["pca"] = figures.plot_pca(model.wv, figures.PCA_WORD_GROUPS, folder / "pca.png")
    except ValueError as error:  # fewer than 3 of the words in a small vocabulary
        logger.warning("no PCA figure: %s", error)
    markdown = folder / "report.md"
    markdown.write_text(_markdown(corpus, model, scores, neighbours, worked, comparison,
                                  figure_paths), encoding="utf-8")
    logger.info("wrote %s", markdown)
    return ReportResult(folder, markdown, figure_paths, scores, comparison)
