"""Figures of a word2vec run, written as PNG files: vocabulary, training loss, similarity, PCA map.

Each function takes plain data (counts, arrays, word-pair results, :class:`gensim.models.KeyedVectors`),
draws one ``matplotlib.figure.Figure`` on an Agg canvas, writes it as a PNG and returns its path. The
word-pair and PCA figures take several named sets of vectors (such as torchw2v's and gensim's) and
draw them side by side, on the same scales. No pyplot is involved, so a user's interactive backend and
current figure are left as they are.

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> path = plot_frequency_rank([900, 400, 120, 30, 8, 3, 2, 1, 1, 1], min_count=3,
...                            path=os.path.join(folder, "ranks.png"))
>>> path.name, path.read_bytes()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
('ranks.png', True)
"""
from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Union

import numpy as np
from gensim.models import KeyedVectors
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter
from numpy.typing import ArrayLike
from scipy.signal import lfilter

from torchw2v.evaluation import WordPairsResult, find_words

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]

FIGSIZE = (7.0, 5.0)
"""Size of a one-panel figure, in inches."""

PANEL_WIDTH = 5.5
"""Width of each panel of a figure of several side by side, in inches (their height is :data:`FIGSIZE`'s)."""

DPI = 120
"""Resolution of the PNG files: 840 x 600 pixels at :data:`FIGSIZE`, 1320 x 600 for two panels."""

STYLE = {"font.size": 11, "axes.titlesize": 12, "figure.titlesize": 13, "legend.fontsize": 10}
"""Text sizes, a little above matplotlib's defaults so that figures scaled to a page stay readable."""

LOSS_LABEL = "training loss per word (mean over the interval)"
"""Default y-axis label of :func:`plot_training_loss`."""

PCA_WORD_GROUPS = {
    "royalty and gender": ("king", "queen", "man", "woman", "prince", "princess"),
    "countries": ("france", "italy", "germany", "spain", "japan", "china", "russia"),
    "capitals": ("paris", "rome", "berlin", "madrid", "tokyo", "beijing", "moscow"),
}
"""Word groups for :func:`plot_pca`, one colour each: the classic analogy examples."""

PCA_PAIRS = (("man", "woman"), ("king", "queen"), ("prince", "princess"), ("france", "paris"), ("italy", "rome"),
             ("germany", "berlin"), ("spain", "madrid"), ("japan", "tokyo"), ("china", "beijing"),
             ("russia", "moscow"))
"""Word pairs :func:`plot_pca` joins by a line: the analogies' offsets (male to female, country to capital)."""

PCA_LEGEND_BAND = 0.15
"""Height added on top of each PCA panel, as a fraction of its data's, where the legend goes clear of the words."""

_LABEL_OFFSETS = ((5, 3, "left"), (5, -11, "left"), (-5, 3, "right"), (-5, -11, "right"))
"""Where a PCA point's label may go, in points from the point, with its alignment: the first that
overlaps least with other points and labels is taken."""


def _figure() -> tuple[Figure, Axes]:
    """A new figure of :data:`FIGSIZE` on an Agg canvas, with one set of axes."""
    figure = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _panels(count: int, share: bool) -> tuple[Figure, list[Axes]]:
    """A new figure of ``count`` panels side by side (:data:`PANEL_WIDTH` each) on an Agg canvas.

    With ``share``, the panels share their axis scales.
    """
    if count == 1:
        figure, ax = _figure()
        return figure, [ax]
    figure = Figure(figsize=(PANEL_WIDTH * count, FIGSIZE[1]), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, list(figure.subplots(1, count, sharex=share, sharey=share).ravel())


def _save(figure: Figure, path: PathLike) -> Path:
    """Write ``figure`` to ``path`` as a PNG and return the path."""
    path = Path(path)
    figure.savefig(path, format="png", dpi=DPI)
    logger.info("figure written to %s", path)
    return path


def _styled(function):
    """Draw under :data:`STYLE`."""
    @functools.wraps(function)
    def styled(*args, **kwargs):
        with rc_context(STYLE):
            return function(*args, **kwargs)
    return styled


@_styled
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


@_styled
def plot_training_loss(words: ArrayLike, losses: ArrayLike, epoch_boundaries: ArrayLike, path: PathLike, *,
                       smoothing: float = 0.9, ylabel: str = LOSS_LABEL, title: str = "Training loss") -> Path:
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
    title : str, optional
        The figure's title.

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
    ax.set_xlabel("words processed (all epochs)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return _save(figure, path)


@_styled
def plot_word_pairs(sides: Mapping[str, WordPairsResult], path: PathLike, *, title: str = "WordSim-353") -> Path:
    """Scatter the human similarity scores of word pairs against cosine similarities, a panel per set of vectors.

    Each panel shows one set of vectors' pairs (such as torchw2v's and gensim's), with a least-squares
    line and the Spearman correlation in its title; the panels share their axes.

    Parameters
    ----------
    sides : dict of str to WordPairsResult
        Each set's name and its :func:`torchw2v.evaluation.word_pairs` result, in panel order.
    path : str or os.PathLike
        The PNG file to write.
    title : str, optional
        The name of the pair set, which starts the figure's title.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If ``sides`` is empty.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from torchw2v.evaluation import WordPairsResult
    >>> pairs = WordPairsResult("pairs.txt", 1.0, 0.98, 3, 3, ("a", "b", "c"), ("x", "y", "z"),
    ...                         np.array([1.0, 5.0, 9.0]), np.array([0.1, 0.3, 0.7]))
    >>> plot_word_pairs({"torchw2v": pairs, "gensim": pairs}, os.path.join(tempfile.mkdtemp(), "pairs.png")).name
    'pairs.png'
    """
    if not sides:
        raise ValueError("sides must name at least one word-pair result")
    figure, axes = _panels(len(sides), share=True)
    for ax, (name, pairs) in zip(axes, sides.items()):
        ax.scatter(pairs.human, pairs.cosine, s=14, alpha=0.6, color="C0", edgecolors="none", label="a word pair")
        if pairs.pairs >= 2 and np.ptp(pairs.human) > 0:
            slope, intercept = np.polyfit(pairs.human, pairs.cosine, 1)
            ends = np.array([pairs.human.min(), pairs.human.max()])
            ax.plot(ends, slope * ends + intercept, color="C3", linewidth=1.5, label="least-squares line")
        ax.set_title(f"{name}: Spearman \N{GREEK SMALL LETTER RHO} = {pairs.spearman:.3f}")
        ax.set_xlabel("human similarity score")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("cosine similarity of the word vectors")
    axes[0].legend(loc="upper left")
    first = next(iter(sides.values()))
    figure.suptitle(f"{title}: human score against cosine similarity, {first.pairs:,} of {first.pairs_total:,} "
                    "pairs in the vocabulary")
    return _save(figure, path)


def _label_points(ax: Axes, labels: Mapping[str, np.ndarray]) -> None:
    """Write each label next to its point, on the side (see :data:`_LABEL_OFFSETS`) where it overlaps least.

    Greedy: labels are placed in order, each where the nearest point or already placed label is
    farthest (distances in display pixels, the label's box approximated from its length).
    """
    ax.figure.canvas.draw()  # fixes the data-to-pixel transform
    to_pixels = ax.transData.transform
    scale = ax.figure.dpi / 72  # pixels per point
    anchors = to_pixels(np.array(list(labels.values())))  # (n, 2)
    half_height = 6 * scale
    placed: list[np.ndarray] = []  # centres of the labels written so far
    for i, (label, point) in enumerate(labels.items()):
        half_width = 3.1 * scale * len(label)
        obstacles = np.vstack([np.delete(anchors, i, axis=0), *placed])  # (m, 2)
        candidates = [anchors[i] + scale * np.array([dx, dy + 4]) + [half_width if align == "left" else -half_width, 0]
                      for dx, dy, align in _LABEL_OFFSETS]
        # each candidate box's distance to the nearest obstacle (taxicab, 0 when one lies inside)
        gaps = [np.min(np.maximum(np.abs(obstacles - centre) - [half_width, half_height], 0).sum(axis=1),
                       initial=np.inf) for centre in candidates]
        best = int(np.argmax(gaps))
        placed.append(candidates[best])
        dx, dy, align = _LABEL_OFFSETS[best]
        ax.annotate(label, point, xytext=(dx, dy), textcoords="offset points", ha=align, fontsize=10, zorder=4)


@_styled
def plot_pca(sides: Mapping[str, KeyedVectors] | KeyedVectors, words: Mapping[str, Sequence[str]] | Sequence[str],
             path: PathLike, *, pairs: Sequence[tuple[str, str]] = PCA_PAIRS) -> Path:
    """Project chosen words' vectors on their first two principal components, a panel per set of vectors.

    In each panel the vectors are scaled to unit length (cosine geometry) and centred; the components
    come from their singular value decomposition. Each group of words has its colour, and a grey line
    joins the two words of each of ``pairs`` (parallel lines show an analogy's offset). Words missing
    from the vocabulary of any set are skipped with a logged warning, so that the panels show the same
    words; a word missing in its own case is taken in its most frequent other case (see
    :func:`torchw2v.evaluation.find_words`).

    Parameters
    ----------
    sides : dict of str to gensim.models.KeyedVectors, or gensim.models.KeyedVectors
        Each set's name and its vectors, in panel order (such as ``{"torchw2v": ..., "gensim": ...}``),
        or one set of vectors.
    words : dict of str to sequence of str, or sequence of str
        The words, in named groups (such as :data:`PCA_WORD_GROUPS`) or as one group.
    path : str or os.PathLike
        The PNG file to write.
    pairs : sequence of (str, str), optional
        Words to join by a line (see :data:`PCA_PAIRS`); pairs not shown are ignored.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If fewer than 3 of the words are in every vocabulary.

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
    sides = dict(sides) if isinstance(sides, Mapping) else {"": sides}
    groups = dict(words) if isinstance(words, Mapping) else {"words": tuple(words)}
    found = [{name: find_words(wv, group) for name, group in groups.items()} for wv in sides.values()]
    shown = {name: [word for word in group if all(word in side[name] for side in found)]
             for name, group in groups.items()}
    count = sum(map(len, shown.values()))
    if count < 3:
        raise ValueError(f"a PCA map needs at least 3 words in the vocabulary, found {count}: {shown}")

    figure, axes = _panels(len(sides), share=False)
    for ax, (side, wv), keys in zip(axes, sides.items(), found):
        vectors = wv.vectors[[wv.key_to_index[keys[name][word]] for name, group in shown.items()
                              for word in group]].astype(np.float64)  # (n, d)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        centred = vectors / np.where(norms > 0, norms, 1)
        centred -= centred.mean(axis=0)
        _, singular, components = np.linalg.svd(centred, full_matrices=False)
        points = centred @ components[:2].T  # (n, 2)
        explained = singular[:2] ** 2 / np.sum(singular ** 2)
        start = 0
        position = {}
        for colour, (name, group) in enumerate(shown.items()):
            group_points = points[start:start + len(group)]
            start += len(group)
            ax.scatter(group_points[:, 0], group_points[:, 1], color=f"C{colour}", label=name, zorder=3)
            position.update(zip(group, group_points))
        for first, second in pairs:
            if first in position and second in position:
                ax.plot(*np.transpose([position[first], position[second]]), color="0.6", linewidth=1, zorder=2)
        labels = {keys[name][word]: position[word] for name, group in shown.items() for word in group}
        _label_points(ax, labels)
        ax.set_xlabel(f"first principal component ({explained[0]:.0%} of the variance)")
        ax.set_ylabel(f"second principal component ({explained[1]:.0%} of the variance)")
        if side:
            ax.set_title(side)
        ax.grid(True, alpha=0.3)
        ax.margins(0.12)
        low, high = ax.get_ylim()
        ax.set_ylim(low, high + PCA_LEGEND_BAND * (high - low))  # an empty band on top for the legend
    axes[0].legend(loc="upper center", ncol=len(shown), handletextpad=0.2, columnspacing=1.0)
    figure.suptitle(f"PCA projection of {count} word vectors (unit length, centred)")
    return _save(figure, path)
