"""The compiled CPU kernels against a Python reference of gensim's sequential per-pair SGD."""
import ctypes
import math

import numpy as np
import pytest

from torchw2v import native
from torchw2v.huffman import huffman_tree
from torchw2v.sampling import noise_cum_table

pytestmark = pytest.mark.skipif(not native.available(), reason="native kernels not built (no C compiler)")

MAX_EXP = 6.0
SIGMOID = native.sigmoid_table()


class ReferenceNoise:
    """word2vec's 48-bit LCG and gensim's bisect_left draw, in Python."""

    def __init__(self, cum_table, seed):
        self.cum_table, self.state = cum_table, seed

    def draw(self):
        self.state = (self.state * 25214903917 + 11) & 281474976710655
        r = (self.state >> 16) % int(self.cum_table[-1])
        return int(np.searchsorted(self.cum_table, r, side="left"))


def reference_logistic(l1, neu1e, row, label, alpha):
    f = float(l1 @ row)
    if abs(f) >= MAX_EXP:
        return 0.0
    g = (label - float(SIGMOID[int((f + MAX_EXP) * native.SIGMOID_SCALE)])) * alpha
    neu1e += g * row
    row += g * l1
    return math.log1p(math.exp(-(f if label else -f)))


def reference_pair(l1, neu1e, outputs, target, alpha, shared_noise=None):
    """gensim's order: the Huffman path (hs), then the true word and K noise words (fresh, or
    ``shared_noise``, the words drawn for the window)."""
    syn1neg, negative, noise, syn1, tree = outputs
    loss = 0.0
    if tree is not None:
        for code, point in zip(tree.codes[target], tree.points[target]):
            loss += reference_logistic(l1, neu1e, syn1[point], 1.0 - code, alpha)
    for d in range(negative + 1 if negative else 0):
        word, label = target, 1.0
        if d > 0:
            word, label = (noise.draw() if shared_noise is None else shared_noise[d - 1]), 0.0
            if word == target:
                continue
        loss += reference_logistic(l1, neu1e, syn1neg[word], label, alpha)
    return loss


def reference_logistic_pair(l1a, l1b, neu1e_a, neu1e_b, row, label, alpha):
    """Two inputs against one row: both scores from the row as it is, then both updates."""
    loss, gradients = 0.0, []
    for l1 in (l1a, l1b):
        f = float(l1 @ row)
        saturated = abs(f) >= MAX_EXP
        gradients.append(0.0 if saturated else (label - float(SIGMOID[int((f + MAX_EXP) * native.SIGMOID_SCALE)]))
                         * alpha)
        loss += 0.0 if saturated else math.log1p(math.exp(-(f if label else -f)))
    (ga, gb), before = gradients, row.copy()
    neu1e_a += ga * before
    neu1e_b += gb * before
    row += ga * l1a + gb * l1b
    return loss


def reference_skipgram_pair(syn0, a, b, outputs, target, alpha, shared_noise):
    """Context words a and b against the same rows (the path, then the shared noise), as the kernel
    pairs them when they have the same rows: each row trained for both at once."""
    syn1neg, negative, _, syn1, tree = outputs
    neu1e_a, neu1e_b = np.zeros_like(syn0[a]), np.zeros_like(syn0[b])
    l1a, l1b = syn0[a].copy(), syn0[b].copy()
    loss = 0.0
    if tree is not None:
        for code, point in zip(tree.codes[target], tree.points[target]):
            loss += reference_logistic_pair(l1a, l1b, neu1e_a, neu1e_b, syn1[point], 1.0 - code, alpha)
    for d in range(negative + 1 if negative else 0):
        word, label = (target, 1.0) if d == 0 else (shared_noise[d - 1], 0.0)
        if d > 0 and word == target:
            continue
        loss += reference_logistic_pair(l1a, l1b, neu1e_a, neu1e_b, syn1neg[word], label, alpha)
    syn0[b] += neu1e_b
    syn0[a] += neu1e_a
    return loss


def reference_step(syn0, outputs, centers, contexts, alpha, sg, cbow_mean, shared_negatives=False):
    loss = 0.0
    for center, window in zip(centers, contexts):
        words = [w for w in window if w >= 0]
        if sg:
            _, negative, noise, _, tree = outputs
            shared_noise = [noise.draw() for _ in range(negative)] if shared_negatives and negative else None
            # the kernel trains context words two at a time when they have the same output rows
            paired = shared_noise is not None or (tree is not None and not negative)
            while paired and len(words) >= 2:
                loss += reference_skipgram_pair(syn0, words[0], words[1], outputs, center, alpha, shared_noise)
                words = words[2:]
            for w in words:
                neu1e = np.zeros_like(syn0[w])
                loss += reference_pair(syn0[w], neu1e, outputs, center, alpha, shared_noise)
                syn0[w] += neu1e
        elif words:
            hidden = syn0[words].sum(axis=0)
            if cbow_mean:
                hidden /= len(words)
            neu1e = np.zeros_like(hidden)
            loss += reference_pair(hidden, neu1e, outputs, center, alpha)
            for w in words:
                syn0[w] += neu1e if cbow_mean else neu1e / len(words)
    return loss


@pytest.mark.parametrize("hs, negative", [(0, 3), (1, 0), (1, 2)], ids=["negative", "hs", "hs+negative"])
@pytest.mark.parametrize("sg, cbow_mean, shared_negatives", [(1, 1, False), (1, 1, True), (0, 1, False), (0, 0, False)],
                         ids=["skipgram", "skipgram-shared-negatives", "cbow-mean", "cbow-sum"])
def test_kernel_equals_sequential_reference(sg, cbow_mean, shared_negatives, hs, negative):
    rng = np.random.default_rng(0)
    vocab, dim = 12, 9
    counts = rng.integers(1, 50, vocab)
    syn0 = ((rng.random((vocab, dim)) - 0.5) / dim).astype(np.float32)
    syn1neg = ((rng.random((vocab, dim)) - 0.5)).astype(np.float32)
    syn1 = ((rng.random((vocab, dim)) - 0.5)).astype(np.float32)
    cum_table = noise_cum_table(counts, 0.75)
    tree = huffman_tree(counts) if hs else None
    centers = rng.integers(0, vocab, 6)
    contexts = rng.integers(-1, vocab, (6, 4))
    ref0, ref1, ref2 = (w.astype(np.float64) for w in (syn0, syn1neg, syn1))
    outputs = (ref1, negative, ReferenceNoise(cum_table, 5), ref2, tree)
    expected_loss = reference_step(ref0, outputs, centers, contexts, 0.3, sg, cbow_mean, shared_negatives)
    kernel = native.NativeKernel(syn0, syn1neg, cum_table, negative, syn1=syn1,
                                 tree=tree.padded() if hs else None, shared_negatives=shared_negatives)
    loss = kernel.step(centers, contexts, 0.3, sg=bool(sg), cbow_mean=bool(cbow_mean),
                       state=kernel.new_state(5), compute_loss=True)
    np.testing.assert_allclose(syn0, ref0, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(syn1neg, ref1, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(syn1, ref2, rtol=1e-4, atol=1e-6)
    assert loss == pytest.approx(expected_loss, rel=1e-4)
    assert not np.allclose(ref0, ((np.random.default_rng(0).random((vocab, dim)) - 0.5) / dim))


def test_sigmoid_table_is_gensims():
    """gensim's EXP_TABLE read at gensim's index: close to the exact sigmoid, 1/2 at 0, and never past
    its end, even for the float32 score just below MAX_EXP (where f + MAX_EXP rounds to 12)."""
    f = np.linspace(-MAX_EXP, MAX_EXP, 100_001, dtype=np.float32)[1:-1]
    index = ((f + np.float32(MAX_EXP)) * np.float32(native.SIGMOID_SCALE)).astype(np.int32)
    assert native.SIGMOID_SCALE == 83 and index.min() >= 0 and index.max() < native.EXP_TABLE_SIZE
    edge = np.nextafter(np.float32(MAX_EXP), np.float32(0))
    assert edge + np.float32(MAX_EXP) == np.float32(12)  # rounds up: a scale of 1000 / 12 would read entry 1000
    assert int((edge + np.float32(MAX_EXP)) * np.float32(native.SIGMOID_SCALE)) < native.EXP_TABLE_SIZE
    exact = 1 / (1 + np.exp(-f.astype(np.float64)))
    assert SIGMOID.dtype == np.float32 and np.all(np.diff(SIGMOID) > 0)
    assert np.max(np.abs(SIGMOID[index] - exact)) < 0.02  # gensim's grid is 0.4% coarser than the index
    assert SIGMOID[native.EXP_TABLE_SIZE // 2] == pytest.approx(0.5, abs=1e-7)


def test_state_advances_and_seeds_differ():
    cum_table = noise_cum_table(np.arange(1, 30), 0.75)
    syn0, syn1neg = np.full((29, 4), 0.1, np.float32), np.zeros((29, 4), np.float32)
    kernel = native.NativeKernel(syn0, syn1neg, cum_table, negative=5)
    state = kernel.new_state(3)
    kernel.step(np.array([1]), np.array([[2, 3]]), 0.1, sg=True, cbow_mean=True, state=state)
    assert state.value != 3
    assert isinstance(state, ctypes.c_uint64)


def test_kernel_rejects_arrays_it_cannot_update():
    with pytest.raises(ValueError, match="float32"):
        native.NativeKernel(np.zeros((3, 2)), np.zeros((3, 2), np.float32), np.array([1, 2, 3], np.uint32), 1)


@pytest.mark.parametrize("sg", [0, 1], ids=["cbow", "skipgram"])
def test_empty_windows_keep_the_noise_draw_order(sg):
    """Noise words drawn a window ahead are the draws the reference makes when the window
    trains, also around windows without context words (which draw nothing in CBOW)."""
    rng = np.random.default_rng(1)
    vocab, dim, negative = 10, 6, 3
    cum_table = noise_cum_table(rng.integers(1, 40, vocab), 0.75)
    syn0 = ((rng.random((vocab, dim)) - 0.5) / dim).astype(np.float32)
    syn1neg = (rng.random((vocab, dim)) - 0.5).astype(np.float32)
    centers = np.array([0, 1, 2, 3, 4])
    contexts = np.array([[-1, -1], [5, 6], [-1, -1], [-1, -1], [7, -1]])
    ref0, ref1 = syn0.astype(np.float64), syn1neg.astype(np.float64)
    outputs = (ref1, negative, ReferenceNoise(cum_table, 9), None, None)
    expected_loss = reference_step(ref0, outputs, centers, contexts, 0.5, sg, True, shared_negatives=bool(sg))
    kernel = native.NativeKernel(syn0, syn1neg, cum_table, negative, shared_negatives=bool(sg))
    state = kernel.new_state(9)
    loss = kernel.step(centers, contexts, 0.5, sg=bool(sg), cbow_mean=True, state=state, compute_loss=True)
    np.testing.assert_allclose(syn0, ref0, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(syn1neg, ref1, rtol=1e-4, atol=1e-6)
    assert loss == pytest.approx(expected_loss, rel=1e-4)
    assert state.value == outputs[2].state  # as many draws as the reference, no more
