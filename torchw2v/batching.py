"""Encoded corpus chunks to training batches: subsampling, dynamic windows, batching.

All of it is vectorised numpy on the host, run on the data-preparation thread of the native
CPU kernels (the device path makes its batches on the device: :mod:`torchw2v.device_data`).
Each batch holds center words and their context words ordered by distance
(``-1, +1, -2, +2, ...``), padded with ``-1``, in text order, for cache locality.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> windows = context_windows(np.array([7, 8, 9]), np.array([3]), window=1, shrink_windows=False, rng=rng)
>>> windows.centers.tolist(), windows.contexts.tolist()
([7, 8, 9], [[-1, 8], [7, 9], [8, -1]])
"""
from dataclasses import dataclass

import numpy as np


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


def context_windows(ids, sentence_lengths, window, shrink_windows, rng):
    """Every token as a center with its context words inside its sentence.

    With ``shrink_windows`` the effective window (reach) of each center is drawn uniformly
    from ``1..window``, as gensim's ``reduced_windows``; otherwise it is ``window``.
    Centers without any context word (one-word sentences) are left out.

    Returns
    -------
    Windows
    """
    n = len(ids)
    if shrink_windows:
        reach = window - rng.integers(0, window, size=n)
    else:
        reach = np.full(n, window)
    sentence_end = np.repeat(np.cumsum(sentence_lengths), sentence_lengths)
    sentence_start = sentence_end - np.repeat(sentence_lengths, sentence_lengths)
    offsets = context_offsets(window)
    positions = np.arange(n)[:, None] + offsets[None, :]  # (n, 2W)
    valid = (
        (np.abs(offsets)[None, :] <= reach[:, None])
        & (positions >= sentence_start[:, None])
        & (positions < sentence_end[:, None])
    )
    contexts = np.where(valid, ids[np.clip(positions, 0, max(n - 1, 0))], -1)
    has_context = valid.any(axis=1)
    return Windows(centers=ids[has_context], contexts=contexts[has_context], reach=reach[has_context])


def text_order_batches(windows, batch_size):
    """Split windows into batches of at most ``batch_size`` centers, in text order.

    For the sequential native kernels: consecutive centers share most context words, so
    their rows stay in cache (as in gensim's sentence-by-sentence loop).

    >>> w = Windows(np.array([1, 2, 3]), np.array([[4, -1], [6, 7], [1, 2]]), np.array([1, 1, 1]))
    >>> [b.centers.tolist() for b in text_order_batches(w, 2)]
    [[1, 2], [3]]
    """
    for start in range(0, len(windows.centers), batch_size):
        yield WindowBatch(centers=windows.centers[start:start + batch_size],
                          contexts=windows.contexts[start:start + batch_size])
