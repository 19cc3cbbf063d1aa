"""Figures of a word2vec run, written as PNG files: vocabulary, training loss, similarity, PCA map.

Each function takes plain data (counts, arrays, a :class:`gensim.models.KeyedVectors`), draws one
``matplotlib.figure.Figure`` on an Agg canvas, writes it as a PNG and returns its path. No pyplot is
involved, so a user's interactive backend and current figure are left as they are.

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> path = plot_frequency_rank([900, 400, 120, 30, 8, 3, 2, 1, 1, 1], min_count=3,
...                            path=os.path.join(folder, "ranks.png"))
>>> path.name, path.read_bytes()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
('ranks.png', True)
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Union

import numpy as np
from gensim.models import KeyedVectors
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter
from numpy.typing import ArrayLike
from scipy.signal import lfilter

from torchw2v.evaluation import find_words

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]

FIGSIZE = (7.0, 5.0)
"""Size of every figure, in inches."""

DPI = 120
"""Resolution of the PNG files: 840 x 600 pixels at :data:`FIGSIZE`."""

LOSS_LABEL = "training loss per word (mean over the interval)"
"""Default y-axis label of :func:`plot_training_loss`."""

PCA_WORD_GROUPS = {
    "royalty and gender": ("king", "queen", "man", "woman", "prince", "princess"),
    "countries and capitals": ("france", "paris", "italy", "rome", "germany", "berlin", "spain", "madrid",
                               "japan", "tokyo", "china", "beijing", "russia", "moscow"),
}
"""Word groups for :func:`plot_pca`, one colour each: the classic analogy examples."""


def _figure() -> tuple[Figure, Axes]:
    """A new figure of :data:`FIGSIZE` on an Agg canvas, with one set of axes."""
    figure = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _save(figure: Figure, path: PathLike) -> Path:
    """Write ``figure`` to ``path`` as a PNG and return the path."""
    path = Path(path)
    figure.savefig(path, format="png", dpi=DPI)
    logger.info("figure written to %s", path)
    return path


def plot_frequency_rank(counts: ArrayLike, min_count: int, path: PathLike) -> Path:
    """Plot word counts against their frequency rank on log-log axes, marking the ``min_count`` cut.

    Parameters
    ----------
    counts : array_like of int
        The count of every distinct word of the raw vocabulary, before the ``min_count`` cut (such as
        the values of ``scan_vocab(...).raw_vocab``), in any order: they are sorted here.
    min_count : int
        The cut: words rarer than this are dropped from the vocabulary.
    path : str or os.PathLike
        The PNG file to write.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If ``counts`` is empty or holds a count below 1.

    Examples
    --------
    >>> import os, tempfile
    >>> plot_frequency_rank([5, 3, 1], 2, os.path.join(tempfile.mkdtemp(), "ranks.png")).suffix
    '.png'
    """
    counts = np.sort(np.asarray(counts, dtype=np.int64).ravel())[::-1]
    if counts.size == 0 or counts[-1] < 1:
        raise ValueError("counts must hold the positive count of at least one word")
    ranks = np.arange(1, counts.size + 1)
    kept = int(np.count_nonzero(counts >= min_count))
    dropped = counts.size - kept

    figure, ax = _figure()
    ax.loglog(ranks[:kept], counts[:kept], color="C0", label=f"kept: {kept:,} words")
    ax.loglog(ranks[kept:], counts[kept:], color="0.6", label=f"dropped: {dropped:,} words")
    ax.axhline(max(min_count, 1), color="C3", linestyle="--", linewidth=1, label=f"min_count = {min_count}")
    ax.axvline(max(kept, 1), color="C3", linestyle=":", linewidth=1)
    ax.set_xlabel("frequency rank (1 = most frequent word)")
    ax.set_ylabel("occurrences in the corpus")
    ax.set_title(f"Word frequency by rank: {counts.size:,} distinct words, {int(counts.sum()):,} in all")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    return _save(figure, path)


def _exponential_moving_average(values: np.ndarray, weight: float) -> np.ndarray:
    """Bias-corrected exponential moving average: each point weighs its predecessor by ``weight``."""
    average = lfilter([1 - weight], [1, -weight], values)
    return average / (1 - weight ** np.arange(1, len(values) + 1))


def plot_training_loss(words: ArrayLike, losses: ArrayLike, epoch_boundaries: ArrayLike, path: PathLike, *,
                       smoothing: float = 0.9, ylabel: str = LOSS_LABEL) -> Path:
    """Plot the training loss against the words processed, raw and smoothed, with epoch boundaries.

    Parameters
    ----------
    words : array_like of int
        Cumulative number of words processed at the end of each recorded interval, increasing.
    losses : array_like of float
        The loss of each interval, same length as ``words``: by default read as the mean loss per
        word over the interval (name it otherwise with ``ylabel``).
    epoch_boundaries : array_like of int
        Words processed at the end of each epoch: one vertical dashed line each.
    path : str or os.PathLike
        The PNG file to write.
    smoothing : float, optional
        Weight of the past in the exponential moving average drawn as the thick line, in [0, 1).
    ylabel : str, optional
        The y-axis label (see :data:`LOSS_LABEL`).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If ``words`` and ``losses`` are empty or of different lengths, or ``smoothing`` is not in [0, 1).

    Examples
    --------
    >>> import os, tempfile
    >>> words = [1000 * (i + 1) for i in range(20)]
    >>> losses = [5.0 / (i + 1) for i in range(20)]
    >>> plot_training_loss(words, losses, [10000, 20000],
    ...                    os.path.join(tempfile.mkdtemp(), "loss.png")).name
    'loss.png'
    """
    words = np.asarray(words, dtype=np.float64)
    losses = np.asarray(losses, dtype=np.float64)
    if words.ndim != 1 or words.shape != losses.shape or words.size == 0:
        raise ValueError(f"words and losses must be two non-empty sequences of the same length, "
                         f"got shapes {words.shape} and {losses.shape}")
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")

    figure, ax = _figure()
    ax.plot(words, losses, color="C0", linewidth=0.8, alpha=0.5, label="raw")
    ax.plot(words, _exponential_moving_average(losses, smoothing), color="C0", linewidth=2.2,
            label=f"smoothed (exponential moving average, weight {smoothing:g})")
    for i, boundary in enumerate(np.asarray(epoch_boundaries, dtype=np.float64).ravel()):
        ax.axvline(boundary, color="0.4", linestyle="--", linewidth=1,
                   label="end of an epoch" if i == 0 else "_nolegend_")
    ax.xaxis.set_major_formatter(EngFormatter())
    ax.set_xlabel("words processed")
    ax.set_ylabel(ylabel)
    ax.set_title("Training loss")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return _save(figure, path)


def plot_word_pairs(human: ArrayLike, cosine: ArrayLike, spearman: float, path: PathLike, *,
                    title: str = "WordSim-353") -> Path:
    """Scatter the human similarity scores of word pairs against the vectors' cosine similarities.

    Parameters
    ----------
    human : array_like of float
        The human score of each pair (``WordPairsResult.human``).
    cosine : array_like of float
        The cosine similarity of each pair's vectors (``WordPairsResult.cosine``), same length.
    spearman : float
        Their Spearman correlation, shown in the title (``WordPairsResult.spearman``).
    path : str or os.PathLike
        The PNG file to write.
    title : str, optional
        The name of the pair set, which starts the title.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If ``human`` and ``cosine`` differ in length.

    Examples
    --------
    >>> import os, tempfile
    >>> plot_word_pairs([1.0, 5.0, 9.0], [0.1, 0.3, 0.7], 1.0,
    ...                 os.path.join(tempfile.mkdtemp(), "pairs.png")).name
    'pairs.png'
    """
    human = np.asarray(human, dtype=np.float64).ravel()
    cosine = np.asarray(cosine, dtype=np.float64).ravel()
    if human.shape != cosine.shape:
        raise ValueError(f"human and cosine differ in length: {human.size} and {cosine.size}")

    figure, ax = _figure()
    ax.scatter(human, cosine, s=14, alpha=0.7, color="C0", edgecolors="none")
    ax.set_xlabel("human similarity score")
    ax.set_ylabel("cosine similarity of the word vectors")
    ax.set_title(f"{title}: Spearman \N{GREEK SMALL LETTER RHO} = {spearman:.3f} over {human.size:,} pairs")
    ax.grid(True, alpha=0.3)
    return _save(figure, path)


def plot_pca(wv: KeyedVectors, words: Mapping[str, Sequence[str]] | Sequence[str], path: PathLike) -> Path:
    """Project chosen words' vectors on their first two principal components, one colour per group.

    The vectors are scaled to unit length (cosine geometry) and centred; the components come from
    their singular value decomposition. Words missing from the vocabulary are skipped with a logged
    warning; a word missing in its own case is taken in its most frequent other case
    (see :func:`torchw2v.evaluation.find_words`), and labelled as in the vocabulary.

    Parameters
    ----------
    wv : gensim.models.KeyedVectors
        The word vectors.
    words : dict of str to sequence of str, or sequence of str
        The words, in named groups (such as :data:`PCA_WORD_GROUPS`) or as one group.
    path : str or os.PathLike
        The PNG file to write.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If fewer than 3 of the words are in the vocabulary.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from gensim.models import KeyedVectors
    >>> wv = KeyedVectors(vector_size=3)
    >>> wv.add_vectors(["king", "queen", "man", "woman"], np.eye(4, 3, dtype=np.float32) + 0.1)
    >>> plot_pca(wv, PCA_WORD_GROUPS, os.path.join(tempfile.mkdtemp(), "pca.png")).name
    'pca.png'
    """
    groups = dict(words) if isinstance(words, Mapping) else {"words": tuple(words)}
    found = {name: list(find_words(wv, group).values()) for name, group in groups.items()}
    keys = [key for group in found.values() for key in group]
    if len(keys) < 3:
        raise ValueError(f"a PCA map needs at least 3 words in the vocabulary, found {len(keys)}: {keys}")

    vectors = wv.vectors[[wv.key_to_index[key] for key in keys]].astype(np.float64)  # (n, d)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    centred = vectors / np.where(norms > 0, norms, 1)
    centred -= centred.mean(axis=0)
    _, singular, components = np.linalg.svd(centred, full_matrices=False)
    points = centred @ components[:2].T  # (n, 2)
    explained = singular[:2] ** 2 / np.sum(singular ** 2)

    figure, ax = _figure()
    start = 0
    for colour, (name, group) in enumerate(found.items()):
        group_points = points[start:start + len(group)]
        start += len(group)
        ax.scatter(group_points[:, 0], group_points[:, 1], color=f"C{colour}", label=name)
        for key, (x, y) in zip(group, group_points):
            ax.annotate(key, (x, y), xytext=(4, 4), textcoords="offset points", fontsize=9)
    ax.set_xlabel(f"first principal component ({explained[0]:.0%} of the variance)")
    ax.set_ylabel(f"second principal component ({explained[1]:.0%} of the variance)")
    ax.set_title(f"PCA projection of {len(keys)} word vectors (unit length, centred)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return _save(figure, path)
