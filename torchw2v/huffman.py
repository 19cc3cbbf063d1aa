"""Huffman tree for hierarchical softmax, built exactly as gensim builds it.

Each word gets a ``code`` (the 0/1 turns from the root to its leaf) and a ``point``
(the inner nodes on that path, which index the rows of ``syn1``). gensim's heap order,
ties included, is reproduced so that codes and points equal gensim's for the same
vocabulary. For batched training they are also laid out as padded arrays.

>>> import numpy as np
>>> tree = huffman_tree(np.array([5, 3, 2, 1]))
>>> [c.tolist() for c in tree.codes], [p.tolist() for p in tree.points]
([[0], [1, 0], [1, 1, 1], [1, 1, 0]], [[2], [2, 1], [2, 1, 0], [2, 1, 0]])
>>> tree.padded().codes.tolist()[3], tree.padded().lengths.tolist()
([1, 1, 0], [1, 2, 3, 3])
"""
import heapq
import logging
from collections import namedtuple
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)


class _Node(namedtuple("_Node", "count, index, left, right")):
    """A heap entry ordered by count alone, as gensim's ``Heapitem``, so ties fall the same way."""

    def __lt__(self, other):
        return self.count < other.count


@dataclass
class PaddedTree:
    """Codes and points padded to the deepest word, for vectorised training.

    Attributes
    ----------
    codes : numpy.ndarray of uint8, shape (V, L)
    points : numpy.ndarray of int64, shape (V, L)
        Inner-node indices (rows of ``syn1``); 0 in the padding.
    lengths : numpy.ndarray of int32, shape (V,)
        Path length of each word.
    """

    codes: np.ndarray
    points: np.ndarray
    lengths: np.ndarray


@dataclass
class HuffmanTree:
    """Per-word Huffman codes and inner-node points (lists of arrays, gensim's layout)."""

    codes: list
    points: list

    def padded(self):
        """The tree as :class:`PaddedTree` arrays."""
        lengths = np.array([len(code) for code in self.codes], dtype=np.int32)
        depth = int(lengths.max()) if len(lengths) else 0
        codes = np.zeros((len(lengths), depth), dtype=np.uint8)
        points = np.zeros((len(lengths), depth), dtype=np.int64)
        for word, (code, point) in enumerate(zip(self.codes, self.points)):
            codes[word, :len(code)] = code
            points[word, :len(point)] = point
        return PaddedTree(codes=codes, points=points, lengths=lengths)


def huffman_tree(counts):
    """Build gensim's Huffman tree over word counts (in vocabulary order).

    Parameters
    ----------
    counts : numpy.ndarray of int

    Returns
    -------
    HuffmanTree
    """
    vocab = len(counts)
    codes = [np.zeros(0, dtype=np.uint8)] * vocab
    points = [np.zeros(0, dtype=np.uint32)] * vocab
    heap = [_Node(int(count), i, None, None) for i, count in enumerate(counts)]
    heapq.heapify(heap)
    for i in range(vocab - 1):
        first, second = heapq.heappop(heap), heapq.heappop(heap)
        heapq.heappush(heap, _Node(first.count + second.count, i + vocab, first, second))
    max_depth = 0
    stack = [(heap[0], [], [])] if heap else []
    while stack:
        node, code, point = stack.pop()
        if node.index < vocab:
            codes[node.index] = np.asarray(code, dtype=np.uint8)
            points[node.index] = np.asarray(point, dtype=np.uint32)
            max_depth = max(max_depth, len(code))
        else:
            point = list(point) + [node.index - vocab]
            stack.append((node.left, list(code) + [0], point))
            stack.append((node.right, list(code) + [1], point))
    logger.info("built huffman tree with maximum node depth %i", max_depth)
    return HuffmanTree(codes=codes, points=points)


def assign_to_keyed_vectors(tree, wv):
    """Store the tree as gensim does: ``code`` and ``point`` attributes of ``wv``'s words."""
    wv.allocate_vecattrs(attrs=["code", "point"], types=[object, object])
    for word, (code, point) in enumerate(zip(tree.codes, tree.points)):
        wv.expandos["code"][word] = code
        wv.expandos["point"][word] = point
