"""Updates of the objectives against torch.autograd, and the row-update cap."""
import pytest
import torch
import torch.nn.functional as F

from torchw2v.huffman import huffman_tree
from torchw2v.objectives import (
    add_row_updates, cbow_hidden, cbow_step, hierarchical_softmax_targets, logistic_updates, negative_targets,
    skipgram_step,
)


def reference_loss(inputs, outputs, mask):
    """-log σ(u_o·v) - Σ_k log σ(-u_k·v), summed over the trained pairs."""
    scores = torch.einsum("bcd,bkd->bck", inputs, outputs)
    signs = torch.ones(scores.shape[-1], dtype=scores.dtype)
    signs[1:] = -1
    return -(F.logsigmoid(scores * signs) * mask).sum()


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(0)


def test_negative_sampling_updates_equal_minus_lr_times_autograd_gradient(gen):
    inputs = torch.randn(3, 4, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    outputs = torch.randn(3, 6, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    mask = (torch.rand(3, 4, 6, generator=gen) > 0.3).double()
    lr = 0.05
    loss = reference_loss(inputs, outputs, mask)
    loss.backward()
    labels = torch.tensor([1.0, 0, 0, 0, 0, 0], dtype=torch.float64)[None, None, :]
    d_in, d_out, our_loss = logistic_updates(inputs.detach(), outputs.detach(), labels, mask * lr)
    torch.testing.assert_close(d_in, -lr * inputs.grad)
    torch.testing.assert_close(d_out, -lr * outputs.grad)
    torch.testing.assert_close(our_loss, loss.detach())


def _weights(gen, vocab=7, dim=5):
    syn0 = torch.randn(vocab, dim, dtype=torch.float64, generator=gen)
    syn1neg = torch.randn(vocab, dim, dtype=torch.float64, generator=gen)
    return syn0, syn1neg


def skipgram_pair_loss(w0, w1, centers, contexts, negatives):
    """The SGNS loss pair by pair, as gensim trains it (noise words equal to the center skipped)."""
    loss = 0
    for b in range(len(centers)):
        for c in contexts[b][contexts[b] >= 0]:
            loss = loss - F.logsigmoid(w0[c] @ w1[centers[b]])
            for n in negatives[b]:
                if n != centers[b]:
                    loss = loss - F.logsigmoid(-(w0[c] @ w1[n]))
    return loss


def test_skipgram_step_applies_autograd_gradient_of_the_sgns_loss(gen):
    syn0, syn1neg = _weights(gen)
    centers = torch.tensor([0, 3])
    contexts = torch.tensor([[1, 2, -1, -1], [4, 5, 6, 1]])
    negatives = torch.tensor([[5, 0, 6], [2, 2, 1]])  # center 0 drawn as its own noise word: skipped
    lr = 0.1
    w0, w1 = syn0.clone().requires_grad_(), syn1neg.clone().requires_grad_()
    loss = skipgram_pair_loss(w0, w1, centers, contexts, negatives)
    loss.backward()
    step_loss = skipgram_step(syn0, centers, contexts, [negative_targets(syn1neg, centers, negatives)], lr,
                              compute_loss=True)
    torch.testing.assert_close(step_loss, loss.detach())
    torch.testing.assert_close(syn0, w0.detach() - lr * w0.grad)
    torch.testing.assert_close(syn1neg, w1.detach() - lr * w1.grad)


@pytest.mark.parametrize("cbow_mean", [True, False])
def test_cbow_step_follows_gensim_update_rule(gen, cbow_mean):
    syn0, syn1neg = _weights(gen)
    centers = torch.tensor([0, 3])
    contexts = torch.tensor([[1, 2, -1], [4, 5, 6]])
    negatives = torch.tensor([[5, 6], [2, 1]])
    lr = 0.1
    w0, w1 = syn0.clone(), syn1neg.clone().requires_grad_()
    hidden = cbow_hidden(w0[contexts.clamp(min=0)], contexts >= 0, cbow_mean).requires_grad_()
    loss = 0
    for b in range(2):
        loss = loss - F.logsigmoid(hidden[b] @ w1[centers[b]])
        for n in negatives[b]:
            loss = loss - F.logsigmoid(-(hidden[b] @ w1[n]))
    loss.backward()
    cbow_step(syn0, centers, contexts, [negative_targets(syn1neg, centers, negatives)], lr, cbow_mean=cbow_mean)
    torch.testing.assert_close(syn1neg, w1.detach() - lr * w1.grad)
    # gensim: each context word gets the hidden vector's update, divided by the context size
    # when the context is summed (cbow_mean=0) and undivided when it is averaged.
    expected = w0.clone()
    for b in range(2):
        words = contexts[b][contexts[b] >= 0]
        update = -lr * hidden.grad[b] / (1 if cbow_mean else len(words))
        for c in words:
            expected[c] += update
    torch.testing.assert_close(syn0, expected)


def test_cbow_hidden_sums_or_averages_valid_rows():
    inputs = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    valid = torch.tensor([[True, True, False]])
    assert cbow_hidden(inputs, valid, cbow_mean=False).tolist() == [[4.0, 6.0]]
    assert cbow_hidden(inputs, valid, cbow_mean=True).tolist() == [[2.0, 3.0]]


def test_add_row_updates_caps_repeated_rows_only():
    weights = torch.zeros(4, 2)
    rows = torch.tensor([0] * 20 + [1, 1, 2])
    deltas = torch.ones(23, 2)
    present = torch.ones(23, dtype=torch.bool)
    present[-1] = False
    add_row_updates(weights, rows, deltas * present[:, None], present=present, cap=8.0)
    torch.testing.assert_close(weights[:, 0], torch.tensor([8.0, 2.0, 0.0, 0.0]))


def _tree_tensors(counts):
    padded = huffman_tree(counts).padded()
    mask = torch.arange(padded.codes.shape[1])[None, :] < torch.as_tensor(padded.lengths)[:, None]
    return (padded, torch.as_tensor(padded.codes).double(), torch.as_tensor(padded.points), mask)


@pytest.mark.parametrize("sg", [1, 0], ids=["skipgram", "cbow"])
def test_hierarchical_softmax_plus_negative_step_applies_autograd_gradient(gen, sg):
    """hs=1 with negative>0: both losses summed, as gensim; hidden = mean of contexts for CBOW."""
    counts = torch.tensor([30, 20, 9, 7, 5, 3, 1])
    padded, codes, points, mask = _tree_tensors(counts.numpy())
    syn0, syn1neg = _weights(gen)
    syn1 = torch.randn(7, 5, dtype=torch.float64, generator=gen)
    centers = torch.tensor([0, 6])
    contexts = torch.tensor([[1, 2, -1], [4, 5, 3]])
    negatives = torch.tensor([[5, 4], [2, 1]])
    lr = 0.1
    w0, w1, w2 = (w.clone().requires_grad_() for w in (syn0, syn1neg, syn1))
    hidden_parts, loss = [], 0
    for b in range(2):
        words = contexts[b][contexts[b] >= 0]
        inputs = [w0[c] for c in words] if sg else [w0[words].mean(dim=0)]
        for h in inputs:
            hidden_parts.append(h)
            code, point = padded.codes[centers[b]], padded.points[centers[b]]
            for j in range(padded.lengths[centers[b]]):
                sign = 1.0 if code[j] == 0 else -1.0
                loss = loss - F.logsigmoid(sign * (h @ w2[point[j]]))
            loss = loss - F.logsigmoid(h @ w1[centers[b]])
            for n in negatives[b]:
                loss = loss - F.logsigmoid(-(h @ w1[n]))
    loss.backward()
    targets = [hierarchical_softmax_targets(syn1, codes, points, mask, centers),
               negative_targets(syn1neg, centers, negatives)]
    step = skipgram_step if sg else cbow_step
    step_loss = step(syn0, centers, contexts, targets, lr, compute_loss=True)
    torch.testing.assert_close(step_loss, loss.detach())
    torch.testing.assert_close(syn1, w2.detach() - lr * w2.grad)
    torch.testing.assert_close(syn1neg, w1.detach() - lr * w1.grad)
    if sg:
        torch.testing.assert_close(syn0, w0.detach() - lr * w0.grad)
    else:  # gensim's CBOW rule: each context word gets the mean's update, i.e. size × its gradient
        expected = w0.detach().clone()
        for b in range(2):
            words = contexts[b][contexts[b] >= 0]
            expected[words] -= lr * w0.grad[words] * len(words)
        torch.testing.assert_close(syn0, expected)
