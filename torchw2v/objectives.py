"""Training objectives as functions of tensors: scores, updates and in-place steps.

Skip-gram and CBOW are computed in batches of windows: every center's output rows are
shared by all its context words (Ji et al. 2016), so scores and updates are ``bmm``
calls. The output rows are the true word and its ``K`` noise words for negative sampling,
with the loss

    ``-log σ(u_o · h) - Σ_k log σ(-u_k · h)``,

and the inner nodes of the word's Huffman path for hierarchical softmax (label ``1 - code``
per node); with ``hs=1, negative>0`` both losses are summed, as gensim does. Updates are

``-lr * gradient`` of the loss, checked against ``torch.autograd`` in the tests. These functions never see the
model object: they take weight matrices and index tensors, and hand the updates to an update
rule (:mod:`torchw2v.optimizers`); the default, :func:`add_row_updates`, adds them in place
with ``index_add_``: updates to a row repeated within a batch are summed, up to a cap that
keeps frequent words stable in large batches.

>>> import torch
>>> inputs, outputs = torch.zeros(1, 2, 3), torch.ones(1, 2, 3)
>>> labels = torch.tensor([[[1.0, 0.0]]])
>>> d_in, d_out, loss = logistic_updates(inputs, outputs, labels, torch.ones(1, 2, 2))
>>> d_in[0, 0].tolist(), round(float(loss), 4)
([0.0, 0.0, 0.0], 2.7726)
"""
from dataclasses import dataclass

import torch
import torch.nn.functional as F


def logistic_updates(inputs, outputs, labels, pair_weights, compute_loss=True):
    """Updates of input and output rows for a sum of logistic losses.

    The loss of a pair is ``-log σ(u · v)`` where its label is 1 and ``-log σ(-u · v)``
    where it is 0: negative sampling labels the true word 1 and the noise words 0;
    hierarchical softmax labels each inner node on the word's path ``1 - code``.

    Parameters
    ----------
    inputs : torch.Tensor, shape (B, C, d)
        Input vectors: skip-gram's context words, or CBOW's combined context (``C = 1``).
    outputs : torch.Tensor, shape (B, T, d)
        Output rows shared by the inputs of a window (``syn1neg`` or ``syn1`` rows).
    labels : torch.Tensor, shape (B, 1, T) or broadcastable
    pair_weights : torch.Tensor, shape (B, C, T)
        The learning rate where the (input, output) pair is trained, 0 elsewhere (padding,
        noise words that hit the true word, nodes past the end of a Huffman path).
    compute_loss : bool, optional
        Also return the summed loss of the trained pairs (else ``None``).

    Returns
    -------
    tuple
        ``(delta_inputs (B, C, d), delta_outputs (B, T, d), loss)``, where each delta is
        minus the learning rate times the gradient of the summed loss.
    """
    scores = torch.bmm(inputs, outputs.transpose(1, 2))  # (B, C, T)
    g = (labels - torch.sigmoid(scores)).mul_(pair_weights)  # (label - σ(score)) * lr
    delta_inputs = torch.bmm(g, outputs)  # (B, C, d)
    delta_outputs = torch.bmm(g.transpose(1, 2), inputs)  # (B, T, d)
    loss = None
    if compute_loss:
        signed = torch.where(labels > 0, scores, -scores)
        loss = -(F.logsigmoid(signed) * (pair_weights > 0)).sum()
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


@dataclass
class OutputTargets:
    """The output rows one objective trains for each center of a batch.

    Attributes
    ----------
    weights : torch.Tensor, shape (V', d)
        The output matrix (``syn1neg`` or ``syn1``), updated in place.
    rows : torch.Tensor of int64, shape (B, T)
    labels : torch.Tensor, shape (B, T)
    trained : torch.Tensor of bool, shape (B, T)
    """

    weights: torch.Tensor
    rows: torch.Tensor
    labels: torch.Tensor
    trained: torch.Tensor

    def __post_init__(self):
        if not (self.rows.shape == self.labels.shape == self.trained.shape) or self.rows.dim() != 2:
            raise ValueError(f"rows, labels and trained must all be (B, T), got {self.rows.shape}, "
                             f"{self.labels.shape} and {self.trained.shape}")


def negative_targets(syn1neg, centers, negatives):
    """Negative sampling: the center word (label 1) and its ``K`` noise words (label 0).

    A noise word equal to the center is not trained, as gensim skips it.

    >>> t = negative_targets(torch.zeros(4, 2), torch.tensor([1]), torch.tensor([[1, 3]]))
    >>> t.rows.tolist(), t.labels.tolist(), t.trained.tolist()
    ([[1, 1, 3]], [[1.0, 0.0, 0.0]], [[True, False, True]])
    """
    rows = torch.cat([centers[:, None], negatives], dim=1)  # (B, K+1)
    trained = rows != centers[:, None]
    trained[:, 0] = True
    labels = torch.zeros(rows.shape, dtype=syn1neg.dtype, device=rows.device)
    labels[:, 0] = 1.0
    return OutputTargets(weights=syn1neg, rows=rows, labels=labels, trained=trained)


def hierarchical_softmax_targets(syn1, codes, points, path_mask, centers):
    """Hierarchical softmax: the inner nodes on each center's Huffman path, labelled ``1 - code``.

    Parameters
    ----------
    syn1 : torch.Tensor, shape (V - 1, d)
    codes : torch.Tensor, shape (V, L)
        Padded Huffman codes (as floats).
    points : torch.Tensor of int64, shape (V, L)
        Padded inner-node indices.
    path_mask : torch.Tensor of bool, shape (V, L)
        True on the real path, False in the padding.
    centers : torch.Tensor of int64, shape (B,)
    """
    return OutputTargets(weights=syn1, rows=points.index_select(0, centers),
                         labels=1.0 - codes.index_select(0, centers), trained=path_mask.index_select(0, centers))


def _train_outputs(hidden, targets, input_weights, lr, compute_loss, update):
    """Apply every objective's output updates; return the summed input update and loss."""
    delta_inputs, loss = 0.0, None
    for target in targets:
        outputs = target.weights.index_select(0, target.rows.reshape(-1)).view(*target.rows.shape, -1)
        pair_weights = input_weights[:, :, None] * (target.trained.to(hidden.dtype) * lr)[:, None, :]
        delta, delta_outputs, part = logistic_updates(hidden, outputs, target.labels[:, None, :], pair_weights,
                                                      compute_loss)
        update(target.weights, target.rows.reshape(-1), delta_outputs.reshape(-1, hidden.shape[-1]),
               present=target.trained.reshape(-1))
        delta_inputs = delta_inputs + delta
        loss = part if loss is None else loss + part
    return delta_inputs, loss


def _locked(delta_inputs, lockf, rows):
    """``delta_inputs`` (N, d) scaled by the ``lockf`` value of each of its ``rows`` (unchanged when None).

    >>> _locked(torch.ones(2, 1), torch.tensor([0.0, 0.5]), torch.tensor([1, 0])).flatten().tolist()
    [0.5, 0.0]
    """
    if lockf is None:
        return delta_inputs
    return delta_inputs * lockf.index_select(0, rows).to(delta_inputs.dtype)[:, None]


def skipgram_step(syn0, centers, contexts, targets, lr, compute_loss=False, update=add_row_updates, lockf=None):
    """One skip-gram step on a batch of windows, in place.

    As in gensim, each context word's input vector predicts the center word; the output
    rows of a center (its noise words, its Huffman path) are shared by its context words.

    Parameters
    ----------
    syn0 : torch.Tensor, shape (V, d)
        Input (word) vectors; updated in place.
    centers : torch.Tensor of int64, shape (B,)
    contexts : torch.Tensor of int64, shape (B, C)
        Context word indices, ``-1`` for padding.
    targets : list of OutputTargets
        The objectives: :func:`negative_targets` and/or :func:`hierarchical_softmax_targets`
        (both summed when both are on, as gensim's ``hs=1, negative>0``).
    lr : float
        Learning rate folded into the updates (1 gives minus the gradients).
    compute_loss : bool, optional
    update : callable, optional
        The update rule ``update(weights, rows, deltas, present=..., cap=...)``:
        :func:`add_row_updates` (SGD) or :meth:`torchw2v.optimizers.SparseRowAdam.update`.
    lockf : torch.Tensor, shape (V,), optional
        gensim's ``vectors_lockf``: each input row's update is multiplied by its word's value
        (0 freezes the row). None: 1 for every word.

    Returns
    -------
    torch.Tensor or None
        The summed loss (a 0-d tensor on the device) when ``compute_loss``.
    """
    valid = contexts >= 0  # (B, C)
    context_rows = contexts.clamp(min=0).reshape(-1)
    inputs = syn0.index_select(0, context_rows).view(*contexts.shape, -1)  # (B, C, d)
    delta_inputs, loss = _train_outputs(inputs, targets, valid.to(syn0.dtype), lr, compute_loss, update)
    delta_inputs = _locked(delta_inputs.reshape(-1, syn0.shape[1]), lockf, context_rows)  # (B*C, d)
    update(syn0, context_rows, delta_inputs, present=valid.reshape(-1))
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


def cbow_step(syn0, centers, contexts, targets, lr, cbow_mean=True, compute_loss=False, update=add_row_updates,
              lockf=None):
    """One CBOW step on a batch of windows, in place.

    The hidden vector is the mean (``cbow_mean``) or sum of the context vectors. As in
    gensim and word2vec.c, every context word receives the hidden vector's full update
    with ``cbow_mean=1``, and the update divided by the context size with ``cbow_mean=0``.

    Parameters are those of :func:`skipgram_step`, plus ``cbow_mean``.
    """
    valid = contexts >= 0  # (B, C)
    context_rows = contexts.clamp(min=0).reshape(-1)
    inputs = syn0.index_select(0, context_rows).view(*contexts.shape, -1)  # (B, C, d)
    hidden = cbow_hidden(inputs, valid, cbow_mean)[:, None, :]  # (B, 1, d)
    ones = torch.ones(len(centers), 1, dtype=syn0.dtype, device=syn0.device)
    delta_hidden, loss = _train_outputs(hidden, targets, ones, lr, compute_loss, update)  # (B, 1, d)
    if not cbow_mean:
        delta_hidden = delta_hidden / valid.sum(dim=1).clamp(min=1).to(syn0.dtype)[:, None, None]
    delta_inputs = delta_hidden * valid[:, :, None].to(syn0.dtype)  # (B, C, d)
    delta_inputs = _locked(delta_inputs.reshape(-1, syn0.shape[1]), lockf, context_rows)  # (B*C, d)
    update(syn0, context_rows, delta_inputs, present=valid.reshape(-1),
           cap=CBOW_MEAN_INPUT_UPDATE_CAP if cbow_mean else ROW_UPDATE_CAP)
    return loss
