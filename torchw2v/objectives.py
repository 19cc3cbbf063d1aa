"""Training objectives as functions of tensors: scores, updates and in-place steps.

Negative sampling (SGNS and CBOW) is computed in batches of windows: every center's
output rows (the true word and its ``K`` noise words) are shared by all its context
words (Ji et al. 2016), so scores and updates are ``bmm`` calls. Updates are
``-lr * gradient`` of the loss

    ``-log σ(u_o · h) - Σ_k log σ(-u_k · h)``

and are checked against ``torch.autograd`` in the tests. These functions never see the
model object: they take weight matrices and index tensors, and update the weights in place
with ``index_add_``: updates to a row repeated within a batch are summed, up to a cap
(:func:`add_row_updates`) that keeps frequent words stable in large batches.

>>> import torch
>>> inputs, outputs = torch.zeros(1, 2, 3), torch.ones(1, 2, 3)
>>> d_in, d_out, loss = negative_sampling_updates(inputs, outputs, torch.ones(1, 2, 2))
>>> d_in[0, 0].tolist(), round(float(loss), 4)
([0.0, 0.0, 0.0], 2.7726)
"""
import torch
import torch.nn.functional as F


def negative_sampling_updates(inputs, outputs, pair_weights, compute_loss=True):
    """Updates of input and output rows for the negative-sampling loss.

    Parameters
    ----------
    inputs : torch.Tensor, shape (B, C, d)
        Input vectors: skip-gram's context words, or CBOW's combined context (``C = 1``).
    outputs : torch.Tensor, shape (B, K + 1, d)
        Output vectors (``syn1neg`` rows): column 0 the true word, then the noise words.
    pair_weights : torch.Tensor, shape (B, C, K + 1)
        The learning rate where the (input, output) pair is trained, 0 for padding and for
        noise words that hit the true word (which gensim skips).
    compute_loss : bool, optional
        Also return the summed loss of the trained pairs (else ``None``).

    Returns
    -------
    tuple
        ``(delta_inputs (B, C, d), delta_outputs (B, K + 1, d), loss)``, where each delta is
        minus the learning rate times the gradient of the summed loss.
    """
    scores = torch.bmm(inputs, outputs.transpose(1, 2))  # (B, C, K+1)
    g = torch.sigmoid(scores).neg_()
    g[:, :, 0] += 1.0  # label 1 for the true word: g = (label - σ(score)) * lr
    g.mul_(pair_weights)
    delta_inputs = torch.bmm(g, outputs)  # (B, C, d)
    delta_outputs = torch.bmm(g.transpose(1, 2), inputs)  # (B, K+1, d)
    loss = None
    if compute_loss:
        scores[:, :, 1:].neg_()
        loss = -(F.logsigmoid(scores) * (pair_weights > 0)).sum()
    return delta_inputs, delta_outputs, loss


#: Most updates of one row in one batch applied at full strength (see :func:`add_row_updates`).
ROW_UPDATE_CAP = 8.0


#: The cap for the context rows of CBOW with ``cbow_mean=1``, which each receive the hidden
#: vector's whole update (``2 * reach`` times the gradient of the mean, as in gensim): a
#: lower cap keeps them as stable as the other rows.
CBOW_MEAN_INPUT_UPDATE_CAP = 2.0


def add_row_updates(weights, rows, deltas, present=None, cap=ROW_UPDATE_CAP):
    """``weights[rows] += deltas`` with repeated rows' summed update scaled to at most ``cap`` updates.

    Summing all updates of a row that repeats within a batch (a frequent word, hundreds of
    times in a large batch) takes one step ``n`` times as long as sequential SGD would, from
    a stale value: frequent rows then diverge. A row repeated ``n > cap`` times gets the mean
    of its updates times ``cap`` instead; rows repeated at most ``cap`` times (all rare and
    most mid-frequency words) get their exact summed update.

    Parameters
    ----------
    weights : torch.Tensor, shape (V, d)
        Updated in place.
    rows : torch.Tensor of int64, shape (N,)
    deltas : torch.Tensor, shape (N, d)
    present : torch.Tensor of bool, shape (N,), optional
        Which entries are real (padding entries, with zero deltas, are not counted).
    cap : float, optional

    Examples
    --------
    >>> w = torch.zeros(3, 1)
    >>> add_row_updates(w, torch.tensor([0, 0, 0, 1]), torch.ones(4, 1), cap=2.0)
    >>> w.flatten().tolist()
    [2.0, 1.0, 0.0]
    """
    counts = torch.zeros(weights.shape[0], dtype=weights.dtype, device=weights.device)
    ones = torch.ones_like(rows, dtype=weights.dtype) if present is None else present.to(weights.dtype)
    counts.index_add_(0, rows, ones)
    scale = (cap / counts.index_select(0, rows).clamp_(min=1.0)).clamp_(max=1.0)  # (N,)
    weights.index_add_(0, rows, deltas * scale[:, None])


def _output_rows(syn1neg, centers, negatives):
    """Output indices ``(B, K+1)``, their rows, and which of them are trained."""
    targets = torch.cat([centers[:, None], negatives], dim=1)  # (B, K+1)
    target_ok = targets != centers[:, None]
    target_ok[:, 0] = True
    rows = syn1neg.index_select(0, targets.reshape(-1)).view(*targets.shape, -1)  # (B, K+1, d)
    return targets, rows, target_ok


def skipgram_negative_step(syn0, syn1neg, centers, contexts, negatives, lr, compute_loss=False):
    """One skip-gram negative-sampling step on a batch of windows, in place.

    As in gensim, each context word's input vector predicts the center word (and not the
    noise words); the ``K`` noise words of a center are shared by its context words.

    Parameters
    ----------
    syn0, syn1neg : torch.Tensor, shape (V, d)
        Input (word) vectors and negative-sampling output vectors; updated in place.
    centers : torch.Tensor of int64, shape (B,)
    contexts : torch.Tensor of int64, shape (B, C)
        Context word indices, ``-1`` for padding.
    negatives : torch.Tensor of int64, shape (B, K)
    lr : float
    compute_loss : bool, optional

    Returns
    -------
    torch.Tensor or None
        The summed loss (a 0-d tensor on the device) when ``compute_loss``.
    """
    valid = contexts >= 0  # (B, C)
    context_rows = contexts.clamp(min=0).reshape(-1)
    inputs = syn0.index_select(0, context_rows).view(*contexts.shape, -1)  # (B, C, d)
    targets, outputs, target_ok = _output_rows(syn1neg, centers, negatives)
    pair_weights = valid.to(syn0.dtype)[:, :, None] * (target_ok.to(syn0.dtype) * lr)[:, None, :]  # (B, C, K+1)
    delta_inputs, delta_outputs, loss = negative_sampling_updates(inputs, outputs, pair_weights, compute_loss)
    add_row_updates(syn1neg, targets.reshape(-1), delta_outputs.reshape(-1, syn1neg.shape[1]),
                    present=target_ok.reshape(-1))
    add_row_updates(syn0, context_rows, delta_inputs.reshape(-1, syn0.shape[1]), present=valid.reshape(-1))
    return loss


def cbow_hidden(inputs, valid, cbow_mean):
    """CBOW's hidden vector: the sum (``cbow_mean=0``) or mean of the valid context rows.

    >>> h = cbow_hidden(torch.ones(1, 3, 2), torch.tensor([[True, True, False]]), cbow_mean=True)
    >>> h.tolist()
    [[1.0, 1.0]]
    """
    total = (inputs * valid[:, :, None].to(inputs.dtype)).sum(dim=1)  # (B, d)
    if cbow_mean:
        total = total / valid.sum(dim=1, keepdim=True).clamp(min=1).to(inputs.dtype)
    return total


def cbow_negative_step(syn0, syn1neg, centers, contexts, negatives, lr, cbow_mean=True, compute_loss=False):
    """One CBOW negative-sampling step on a batch of windows, in place.

    The hidden vector is the mean (``cbow_mean``) or sum of the context vectors. As in
    gensim and word2vec.c, every context word receives the hidden vector's full update
    with ``cbow_mean=1``, and the update divided by the context size with ``cbow_mean=0``.

    Parameters are those of :func:`skipgram_negative_step`, plus ``cbow_mean``.
    """
    valid = contexts >= 0  # (B, C)
    context_rows = contexts.clamp(min=0).reshape(-1)
    inputs = syn0.index_select(0, context_rows).view(*contexts.shape, -1)  # (B, C, d)
    hidden = cbow_hidden(inputs, valid, cbow_mean)  # (B, d)
    targets, outputs, target_ok = _output_rows(syn1neg, centers, negatives)
    pair_weights = (target_ok.to(syn0.dtype) * lr)[:, None, :]  # (B, 1, K+1)
    delta_hidden, delta_outputs, loss = negative_sampling_updates(
        hidden[:, None, :], outputs, pair_weights, compute_loss)  # (B, 1, d)
    if not cbow_mean:
        delta_hidden = delta_hidden / valid.sum(dim=1).clamp(min=1).to(syn0.dtype)[:, None, None]
    delta_inputs = delta_hidden * valid[:, :, None].to(syn0.dtype)  # (B, C, d)
    add_row_updates(syn1neg, targets.reshape(-1), delta_outputs.reshape(-1, syn1neg.shape[1]),
                    present=target_ok.reshape(-1))
    add_row_updates(syn0, context_rows, delta_inputs.reshape(-1, syn0.shape[1]), present=valid.reshape(-1),
                    cap=CBOW_MEAN_INPUT_UPDATE_CAP if cbow_mean else ROW_UPDATE_CAP)
    return loss
