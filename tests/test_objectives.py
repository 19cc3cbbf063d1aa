"""The steps' updates against torch.autograd, padding rows, the repeat cap and vectors_lockf."""
import pytest
import torch
import torch.nn.functional as F

from torchw2v.huffman import huffman_tree
from torchw2v.objectives import (
    RowUpdates, cbow_step, clear_padding_rows, hierarchical_softmax_targets, logistic_updates, negative_targets,
    padded_tree, skipgram_step,
)

SUM = RowUpdates(cap=float("inf"))


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(0)


def test_logistic_updates_equal_minus_lr_times_autograd_gradient(gen):
    inputs = torch.randn(3, 4, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    outputs = torch.randn(3, 6, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    labels = torch.tensor([1.0, 0, 0, 0, 0, 0], dtype=torch.float64)[None, None, :]
    lr = 0.05
    scores = torch.einsum("bcd,bkd->bck", inputs, outputs)
    loss = -F.logsigmoid(torch.where(labels > 0, scores, -scores)).sum()
    loss.backward()
    d_in, d_out, our_scores = logistic_updates(inputs.detach(), outputs.detach(), labels, lr)
    torch.testing.assert_close(d_in, -lr * inputs.grad)
    torch.testing.assert_close(d_out, -lr * outputs.grad)
    torch.testing.assert_close(our_scores, scores.detach())


def _padded_weights(gen, vocab=7, dim=5):
    """syn0 and syn1neg with a zero padding row last."""
    syn0 = torch.cat([torch.randn(vocab, dim, dtype=torch.float64, generator=gen), torch.zeros(1, dim).double()])
    syn1neg = torch.cat([torch.randn(vocab, dim, dtype=torch.float64, generator=gen), torch.zeros(1, dim).double()])
    return syn0, syn1neg


def skipgram_pair_loss(w0, w1, centers, contexts, negatives):
    """The SGNS loss pair by pair, as gensim trains it (noise words equal to the center skipped)."""
    loss = 0
    for b in range(len(centers)):
        if centers[b] < 0:
            continue
        for c in contexts[b][contexts[b] >= 0]:
            loss = loss - F.logsigmoid(w0[c] @ w1[centers[b]])
            for n in negatives[b]:
                if n != centers[b]:
                    loss = loss - F.logsigmoid(-(w0[c] @ w1[n]))
    return loss


# a padded center (-1, all contexts -1) with real noise words; center 0 drawn as its own noise word
CENTERS = torch.tensor([0, 3, -1])
CONTEXTS = torch.tensor([[1, 2, -1, -1], [4, 5, 6, 1], [-1, -1, -1, -1]])
NEGATIVES = torch.tensor([[5, 0, 6], [2, 2, 1], [4, 5, 6]])


def test_skipgram_step_applies_autograd_gradient_and_ignores_padding(gen):
    syn0, syn1neg = _padded_weights(gen)
    lr = 0.1
    w0, w1 = syn0.clone().requires_grad_(), syn1neg.clone().requires_grad_()
    loss = skipgram_pair_loss(w0, w1, CENTERS, CONTEXTS, NEGATIVES)
    loss.backward()
    step_loss = skipgram_step(syn0, CONTEXTS, [negative_targets(syn1neg, CENTERS, NEGATIVES)], lr, SUM,
                              compute_loss=True)
    clear_padding_rows(syn0, syn1neg)
    torch.testing.assert_close(step_loss, loss.detach())
    torch.testing.assert_close(syn0, w0.detach() - lr * w0.grad)
    torch.testing.assert_close(syn1neg, w1.detach() - lr * w1.grad)
    assert not syn0[-1].any() and not syn1neg[-1].any()


def test_padding_row_must_be_cleared_between_steps(gen):
    """What the padding row receives in a step is wiped; left there, it would leak into real rows."""
    syn0, syn1neg = _padded_weights(gen)
    skipgram_step(syn0, CONTEXTS, [negative_targets(syn1neg, CENTERS, NEGATIVES)], 0.1, SUM)
    assert syn0[-1].any()
    clear_padding_rows(syn0, syn1neg)
    assert not syn0[-1].any()


@pytest.mark.parametrize("cbow_mean", [True, False])
def test_cbow_step_follows_gensim_update_rule(gen, cbow_mean):
    syn0, syn1neg = _padded_weights(gen)
    centers = torch.tensor([0, 3, -1])
    contexts = torch.tensor([[-1, 2, 1], [4, 5, 6], [-1, -1, -1]])  # the first center has no left neighbour
    negatives = torch.tensor([[5, 6], [2, 1], [1, 2]])
    lr = 0.1
    w0, w1 = syn0.clone(), syn1neg.clone().requires_grad_()
    hidden = []
    for b in range(2):
        rows = w0[contexts[b][contexts[b] >= 0]]
        hidden.append(rows.mean(dim=0) if cbow_mean else rows.sum(dim=0))
    hidden = torch.stack(hidden).requires_grad_()
    loss = 0
    for b in range(2):
        loss = loss - F.logsigmoid(hidden[b] @ w1[centers[b]])
        for n in negatives[b]:
            loss = loss - F.logsigmoid(-(hidden[b] @ w1[n]))
    loss.backward()
    step_loss = cbow_step(syn0, contexts, [negative_targets(syn1neg, centers, negatives)], lr, SUM,
                          cbow_mean=cbow_mean, compute_loss=True)
    clear_padding_rows(syn0, syn1neg)
    torch.testing.assert_close(step_loss, loss.detach())
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


def test_row_updates_cap_repeated_rows_only():
    weights = torch.zeros(4, 2)
    RowUpdates(cap=8.0)(weights, torch.tensor([0] * 20 + [1, 1, 2]), torch.ones(23, 2))
    torch.testing.assert_close(weights[:, 0], torch.tensor([8.0, 2.0, 1.0, 0.0]))
    RowUpdates(cap=8.0)(weights, torch.tensor([3, 3]), torch.ones(2, 2))  # the counts start from zero again
    torch.testing.assert_close(weights[:, 0], torch.tensor([8.0, 2.0, 1.0, 2.0]))
    SUM(weights, torch.tensor([0] * 20), torch.ones(20, 2))
    assert weights[0, 0] == 28.0


def test_newton_bound_moves_repeated_input_rows_to_the_minimum_along_their_step(gen):
    """Rows repeated in an update end at the second-order minimum of their loss along the summed
    step (from autograd), where that is short of the full step; rows updated once keep theirs."""
    syn0, syn1neg = _padded_weights(gen)
    syn0[:-1] *= 2.0
    centers = torch.tensor([0, 0, 3, 3])
    contexts = torch.tensor([[1, 1, 2, -1], [1, 4, -1, -1], [1, 1, 5, 4], [6, -1, -1, -1]])
    negatives = torch.tensor([[5, 6], [5, 6], [2, 0], [2, 0]])
    lr = 0.5
    start, outputs = syn0.clone(), syn1neg.clone()
    summed, summed1 = syn0.clone(), syn1neg.clone()
    skipgram_step(summed, contexts, [negative_targets(summed1, centers, negatives)], lr, SUM)
    skipgram_step(syn0, contexts, [negative_targets(syn1neg, centers, negatives)], lr, SUM,
                  bound_repeats=SUM.newton_bound)
    clear_padding_rows(syn0, syn1neg, summed, summed1)
    step = summed - start

    def loss_along(t):  # each row's loss terms depend on its own t only
        return skipgram_pair_loss(start + t[:, None] * step, outputs, centers, contexts, negatives)

    t = torch.zeros(len(start), dtype=torch.float64)
    slope = torch.autograd.functional.jacobian(loss_along, t)
    curvature = torch.autograd.functional.hessian(loss_along, t).diagonal()
    newton = (-slope / curvature.clamp(min=1e-300)).clamp(max=1.0)
    repeated = torch.bincount(contexts[contexts >= 0], minlength=len(start)) >= 2
    factor = torch.where(repeated, newton, torch.ones_like(newton))
    assert (factor[repeated] < 0.9).any() and (factor[repeated] > 0).all()  # the bound bites, and keeps a step
    torch.testing.assert_close(syn0, start + factor[:, None] * step)
    torch.testing.assert_close(syn1neg, summed1)  # output rows are the summed update's
    assert loss_along(factor) < loss_along(torch.ones_like(factor))


@pytest.mark.parametrize("sg", [1, 0], ids=["skipgram", "cbow"])
def test_vectors_lockf_freezes_and_scales_input_rows(gen, sg):
    syn0, syn1neg = _padded_weights(gen)
    before = syn0.clone()
    reference0, reference1 = syn0.clone(), syn1neg.clone()
    step = skipgram_step if sg else cbow_step
    step(reference0, CONTEXTS, [negative_targets(reference1, CENTERS, NEGATIVES)], 0.1, SUM)
    lockf = torch.ones(8, dtype=torch.float64)
    lockf[1], lockf[4] = 0.0, 0.5
    step(syn0, CONTEXTS, [negative_targets(syn1neg, CENTERS, NEGATIVES)], 0.1, SUM, lockf=lockf)
    torch.testing.assert_close(syn0[1], before[1])
    torch.testing.assert_close(syn0[4] - before[4], 0.5 * (reference0[4] - before[4]))
    torch.testing.assert_close(syn0[5], reference0[5])
    torch.testing.assert_close(syn1neg, reference1)  # output rows train as usual


@pytest.mark.parametrize("sg", [1, 0], ids=["skipgram", "cbow"])
def test_hierarchical_softmax_plus_negative_step_applies_autograd_gradient(gen, sg):
    """hs=1 with negative>0: both losses summed, as gensim; hidden = mean of contexts for CBOW."""
    counts = torch.tensor([30, 20, 9, 7, 5, 3, 1])
    tree = huffman_tree(counts.numpy()).padded()
    syn0, syn1neg = _padded_weights(gen)
    syn1 = torch.cat([torch.randn(6, 5, dtype=torch.float64, generator=gen), torch.zeros(1, 5).double()])
    points, labels = padded_tree(tree, syn1.shape[0], "cpu")
    centers = torch.tensor([0, 6, -1])
    contexts = torch.tensor([[1, 2, -1], [4, 5, 3], [-1, -1, -1]])
    negatives = torch.tensor([[5, 4], [2, 1], [3, 3]])
    lr = 0.1
    w0, w1, w2 = (w.clone().requires_grad_() for w in (syn0, syn1neg, syn1))
    loss = 0
    for b in range(2):
        words = contexts[b][contexts[b] >= 0]
        inputs = [w0[c] for c in words] if sg else [w0[words].mean(dim=0)]
        for h in inputs:
            code, point = tree.codes[centers[b]], tree.points[centers[b]]
            for j in range(tree.lengths[centers[b]]):
                sign = 1.0 if code[j] == 0 else -1.0
                loss = loss - F.logsigmoid(sign * (h @ w2[point[j]]))
            loss = loss - F.logsigmoid(h @ w1[centers[b]])
            for n in negatives[b]:
                loss = loss - F.logsigmoid(-(h @ w1[n]))
    loss.backward()
    targets = [hierarchical_softmax_targets(syn1, points, labels.double(), centers),
               negative_targets(syn1neg, centers, negatives)]
    step = skipgram_step if sg else cbow_step
    step_loss = step(syn0, contexts, targets, lr, SUM, compute_loss=True)
    clear_padding_rows(syn0, syn1neg, syn1)
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
