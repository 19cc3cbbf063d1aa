"""Encoded corpus chunks to training batches: subsampling, dynamic windows, batching.

All of it is vectorised numpy on the host, run on the data-preparation thread of the native
CPU kernels (the device path makes its batches on the device: :mod:`torchw2v.device_data`).
Each batch holds center words and their context words ordered by distance
(``-1, +1, -2, +2, ...``), padded with ``-1``, in text order, for cache locality. Batches are
made one at a time, with no wider windows than the chunk's sentences allow, so that memory stays
bounded whatever the ``window`` (:class:`TextOrderBatches`).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> windows = context_windows(np.array([7, 8, 9]), np.array([3]), window=1, shrink_windows=False, rng=rng)
>>> windows.centers.tolist(), windows.contexts.tolist()
([7, 8, 9], [[-1, 8], [7, 9], [8, -1]])
"""
from dataclasses import dataclass

import numpy as np

from torchw2v.corpus import MAX_SENTENCE_LENGTH

#: Most bytes the arrays making one batch of windows take at once (see :class:`TextOrderBatches`):
#: a batch of 2048 centers keeps its full size up to ``window=204``.
BATCH_BYTES = 64 * 2**20

#: Bytes per context slot while a batch's windows are made: int64 positions and their clipped
#: copy, the gathered ids and the result (int32 from the encoded corpus; int64 allowed), masks.
BYTES_PER_SLOT = 40


@dataclass
class WindowBatch:
    """Center words with their context words.

    Indices stay in the encoded corpus's int32: converting whole chunks to int64 made data
    preparation about 10% slower end to end (larger arrays); the steps convert per batch.

    Attributes
    ----------
    centers : numpy.ndarray of int32, shape (B,)
        Vocabulary indices of the center words.
    contexts : numpy.ndarray of int32, shape (B, C)
        Context word indices, nearest first (``-1, +1, -2, +2, ...``), ``-1`` where none.
    """

    centers: np.ndarray
    contexts: np.ndarray

    def __post_init__(self):
        if self.centers.ndim != 1 or self.contexts.ndim != 2 or len(self.centers) != len(self.contexts):
            raise ValueError(
                f"centers (B,) and contexts (B, C) must agree, got {self.centers.shape} and {self.contexts.shape}"
            )

    def __len__(self):
        return len(self.centers)


@dataclass
class Windows:
    """Every center of a chunk with its contexts and effective window (``reach``)."""

    centers: np.ndarray
    contexts: np.ndarray
    reach: np.ndarray


def subsample(ids, sentence_lengths, sample_ints, rng):
    """Drop frequent words at random as gensim does: keep ``w`` when a uniform uint32 <= ``sample_int[w]``.

    Parameters
    ----------
    ids : numpy.ndarray of int
        Token ids, sentence after sentence.
    sentence_lengths : numpy.ndarray of int
        Tokens per sentence.
    sample_ints : numpy.ndarray of uint32
        gensim's per-word thresholds (see :func:`torchw2v.sampling.downsample_ints`).
    rng : numpy.random.Generator

    Returns
    -------
    tuple of numpy.ndarray
        The kept ids and the new sentence lengths.

    Examples
    --------
    >>> kept, lengths = subsample(np.array([0, 1, 0]), np.array([2, 1]),
    ...                           np.array([2**32 - 1, 0], dtype=np.uint32), np.random.default_rng(0))
    >>> kept.tolist(), lengths.tolist()
    ([0, 0], [1, 1])
    """
    draws = rng.integers(0, 2**32, size=len(ids), dtype=np.uint64)
    keep = draws <= sample_ints[ids]
    sentence_of_token = np.repeat(np.arange(len(sentence_lengths)), sentence_lengths)
    lengths = np.bincount(sentence_of_token[keep], minlength=len(sentence_lengths))
    return ids[keep], lengths


def context_offsets(window):
    """Context offsets nearest first: ``[-1, 1, -2, 2, ..., -window, window]``.

    >>> context_offsets(2).tolist()
    [-1, 1, -2, 2]
    """
    distance = np.repeat(np.arange(1, window + 1), 2)
    return distance * np.tile([-1, 1], window)


def effective_window(window):
    """The farthest a context word can be from its center: ``window``, at most a sentence piece's length less one.

    No window reaches past a sentence piece (:data:`torchw2v.corpus.MAX_SENTENCE_LENGTH` tokens,
    gensim's ``MAX_WORDS_IN_BATCH`` split of longer sentences), so a larger ``window`` trains as this
    one does, as in gensim.

    >>> effective_window(5), effective_window(10**9)
    (5, 9999)
    """
    return min(window, MAX_SENTENCE_LENGTH - 1)


def _draw_reach(n, window, shrink_windows, rng):
    """Each center's reach: uniform in ``1..window`` with ``shrink_windows`` (gensim's ``reduced_windows``), else
    ``window``."""
    if shrink_windows:
        return window - rng.integers(0, window, size=n)
    return np.full(n, window)


def _windows(ids, sentence_start, sentence_end, reach, rows, width):
    """The windows of the centers at positions ``rows``, ``2 * width`` context slots each.

    Positions are int64, ``(len(rows), 2 * width)`` of them with their masks and gathered ids:
    at most :data:`BYTES_PER_SLOT` bytes per slot at once.
    """
    offsets = context_offsets(width)
    positions = rows[:, None] + offsets[None, :]  # (m, 2W)
    valid = (
        (np.abs(offsets)[None, :] <= reach[rows, None])
        & (positions >= sentence_start[rows, None])
        & (positions < sentence_end[rows, None])
    )
    contexts = np.where(valid, ids[np.clip(positions, 0, max(len(ids) - 1, 0))], -1)
    return Windows(centers=ids[rows], contexts=contexts, reach=reach[rows])


def _sentence_bounds(sentence_lengths):
    """Per token, the start and end positions of its sentence."""
    sentence_end = np.repeat(np.cumsum(sentence_lengths), sentence_lengths)
    return sentence_end - np.repeat(sentence_lengths, sentence_lengths), sentence_end


def context_windows(ids, sentence_lengths, window, shrink_windows, rng):
    """Every token as a center with its context words inside its sentence, ``2 * window`` slots each.

    With ``shrink_windows`` the effective window (reach) of each center is drawn uniformly
    from ``1..window``, as gensim's ``reduced_windows``; otherwise it is ``window``.
    Centers without any context word (one-word sentences) are left out. The whole chunk at
    once, at the full width: the reference the device path is tested against; training makes
    the same windows batch by batch, in bounded memory, with :class:`TextOrderBatches`.

    Returns
    -------
    Windows
    """
    reach = _draw_reach(len(ids), window, shrink_windows, rng)
    start, end = _sentence_bounds(sentence_lengths)
    windows = _windows(ids, start, end, reach, np.arange(len(ids)), window)
    has_context = (windows.contexts >= 0).any(axis=1)
    return Windows(centers=windows.centers[has_context], contexts=windows.contexts[has_context],
                   reach=windows.reach[has_context])


class TextOrderBatches:
    """A chunk's windows in batches of at most ``batch_size`` centers, in text order, made one by one.

    For the sequential native kernels: consecutive centers share most context words, so
    their rows stay in cache (as in gensim's sentence-by-sentence loop). The windows are those
    of :func:`context_windows` with the same random draws (the reaches are drawn here, at
    construction), but each batch is made when it is iterated over, and with no more context
    slots than the chunk's longest sentence can fill: ``2 * min(window, longest - 1)``. So
    memory stays bounded whatever the ``window``: a batch has fewer centers when its arrays
    would take more than ``max_bytes`` (which changes no update: the kernels train center after
    center).

    Parameters
    ----------
    ids : numpy.ndarray of int
        Token ids, sentence after sentence (after subsampling).
    sentence_lengths : numpy.ndarray of int
        Tokens per sentence piece; windows never cross them.
    window : int
        The largest reach (``window`` as the user gave it: larger than any sentence is fine).
    shrink_windows : bool
    batch_size : int
    rng : numpy.random.Generator
    max_bytes : int, optional
        Most bytes of the arrays making one batch (:data:`BYTES_PER_SLOT` per context slot).

    Examples
    --------
    >>> batches = TextOrderBatches(np.array([1, 2, 3]), np.array([3]), 10**9, False, 2, np.random.default_rng(0))
    >>> len(batches), [(b.centers.tolist(), b.contexts.tolist()) for b in batches]
    (2, [([1, 2], [[-1, 2, -1, 3], [1, 3, -1, -1]]), ([3], [[2, -1, 1, -1]])])
    """

    def __init__(self, ids, sentence_lengths, window, shrink_windows, batch_size, rng, max_bytes=None):
        self.ids = ids
        self.reach = _draw_reach(len(ids), window, shrink_windows, rng)
        self.sentence_start, self.sentence_end = _sentence_bounds(sentence_lengths)
        longest = int(np.max(sentence_lengths, initial=0))
        self.width = max(1, min(window, longest - 1))
        max_bytes = BATCH_BYTES if max_bytes is None else max_bytes
        self.batch_size = max(1, min(batch_size, max_bytes // (2 * self.width * BYTES_PER_SLOT)))
        # a center has a context word exactly when its sentence has another word (reach >= 1)
        self.centers = np.flatnonzero(np.repeat(np.asarray(sentence_lengths) >= 2, sentence_lengths))

    def __len__(self):
        return -(-len(self.centers) // self.batch_size)

    def __iter__(self):
        for first in range(0, len(self.centers), self.batch_size):
            rows = self.centers[first:first + self.batch_size]
            windows = _windows(self.ids, self.sentence_start, self.sentence_end, self.reach, rows, self.width)
            yield WindowBatch(centers=windows.centers, contexts=windows.contexts)
