"""Training objectives on fixed-shape batches: scores, updates and the in-place step.

Skip-gram and CBOW are computed in batches of windows: every center's output rows are
shared by all its context words (Ji et al. 2016), so scores and updates are ``bmm``
calls. The output rows are the true word and its ``K`` noise words for negative sampling,
with the loss

    ``-log σ(u_o · h) - Σ_k log σ(-u_k · h)``,

and the inner nodes of the word's Huffman path for hierarchical softmax (label ``1 - code``
per node); with ``hs=1, negative>0`` both losses are summed, as gensim does. Updates are
``-lr * gradient`` of the loss, checked against ``torch.autograd`` in the tests.

**The padding row.** Every weight matrix the steps train has one extra, last row, kept at
zero: the *padding row*. Index tensors say "no word" with ``-1`` (a padded center, a missing
context word, a noise word equal to its center, a node past the end of a Huffman path), and
the steps read and write the padding row there. A zero input row adds nothing to any output
row's update, and a zero output row nothing to any input row's, so padding needs no masks;
what the padding row itself receives is wiped by :func:`clear_padding_rows` after the step.
The shapes of a step are therefore those of the batch, whatever it holds.

**Repeated rows.** The updates of a row that occurs several times in an update are summed
(:class:`RowUpdates`), as Hogwild's concurrent updates sum them, up to a cap: a row repeated
more than ``cap`` (32) times gets the mean of its updates times ``cap``. Only the most frequent
words reach it in an update of a few thousand center slots; without it their summed, stale
updates overshoot (:data:`ROW_UPDATE_CAP` gives the measurements). Skip-gram can also move each
repeated input row back to the Newton step along its summed update (:meth:`RowUpdates.newton_bound`,
with the terms of :func:`line_terms`), for runs of a densely repeated word.

These functions never see the model object: they take weight matrices and index tensors, and
hand the updates to an update rule (:class:`RowUpdates`, or
:meth:`torchw2v.optimizers.SparseRowAdam.update`).

>>> import torch
>>> syn0, syn1neg = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), torch.zeros(3, 2)
>>> targets = [negative_targets(syn1neg, torch.tensor([0]), torch.tensor([[1]]))]
>>> loss = skipgram_step(syn0, torch.tensor([[1, -1]]), targets, 0.5, RowUpdates(), compute_loss=True)
>>> syn1neg.tolist()  # the true word 0 pulled towards context 1, noise word 1 pushed away
[[0.0, 0.25], [0.0, -0.25], [0.0, 0.0]]
>>> round(float(loss), 4)  # two pairs at score 0: 2 log 2
1.3863
"""
from dataclasses import dataclass

import torch
import torch.nn.functional as F

#: Most updates of one row in one update applied at full strength (see :class:`RowUpdates`).
#: Measured on text8's first 2.1M words, CBOW, 5 epochs (gensim: WordSim-353 0.375-0.384,
#: analogies 4.4-5.0% over three seeds): 1024-slot updates without a cap gave 0.465 / 3.5%, with
#: a cap of 32 0.372 / 5.0%; 2048-slot updates 0.173 / 0.7% without, 0.369 / 4.7% with it.
ROW_UPDATE_CAP = 32.0

#: The cap of hierarchical softmax's inner-node rows (``syn1``) in CBOW: the nodes near the root are
#: on every center's path, so an update of 2048 slots repeats the root about 1400 times. Measured on
#: text8's first 2.1M words, CBOW with hierarchical softmax, 5 epochs, 2048-slot updates (gensim over
#: three seeds: WordSim-353 0.439-0.459, analogies 6.6-7.3%): a cap of 32 gave 0.446 / 5.3%, 128
#: 0.469 / 6.1%; without a cap training diverged in the first epoch. Skip-gram keeps
#: :data:`ROW_UPDATE_CAP` for them: a center's update of a node already sums its window's context
#: words' (about six), and 128 diverged in its first epoch.
TREE_ROW_UPDATE_CAP = 128.0


def padded_rows(ids, weights):
    """Row indices of ``weights`` for ``ids``: ``-1`` becomes the padding row (the last one).

    >>> padded_rows(torch.tensor([0, -1, 2]), torch.zeros(4, 1)).tolist()
    [0, 3, 2]
    """
    return ids.remainder(weights.shape[0])


def clear_padding_rows(*weights):
    """Zero the padding row (the last row) of each matrix, after a step wrote to it."""
    for matrix in weights:
        if matrix is not None:
            matrix[-1].zero_()


class RowUpdates:
    """SGD's row updates, ``weights[rows] += deltas``, with repeated rows summed up to a cap.

    Summing all updates of a row that repeats within a batch (a frequent word, hundreds of
    times in a large batch) takes one step ``n`` times as long as sequential SGD would, from a
    stale value: frequent rows then diverge. A row repeated ``n > cap`` times gets the mean of
    its updates times ``cap`` instead; rows repeated at most ``cap`` times get their exact
    summed update. The counts are kept in a buffer per matrix that is zero between updates
    (cleared at the touched rows only), so an update allocates nothing vocabulary-sized and
    never waits for the device.

    Parameters
    ----------
    cap : float, optional
        ``inf`` sums every update (Hogwild's semantics when nothing repeats).
    caps : dict, optional
        Another cap for some matrices: ``{matrix: cap}`` (e.g. ``syn1`` with
        :data:`TREE_ROW_UPDATE_CAP`).

    Notes
    -----
    The deltas are scaled in place (they are the step's temporaries): no copy of them is made.

    Examples
    --------
    >>> w = torch.zeros(3, 1)
    >>> RowUpdates(cap=2.0)(w, torch.tensor([0, 0, 0, 1]), torch.ones(4, 1))
    >>> w.flatten().tolist()
    [2.0, 1.0, 0.0]
    >>> tree = torch.zeros(2, 1)
    >>> RowUpdates(cap=2.0, caps={tree: 3.0})(tree, torch.tensor([0, 0, 0, 0]), torch.ones(4, 1))
    >>> tree.flatten().tolist()
    [3.0, 0.0]
    """

    def __init__(self, cap=ROW_UPDATE_CAP, caps=None):
        self.cap = float(cap)
        self._caps = {id(matrix): float(value) for matrix, value in (caps or {}).items()}
        self._counts = {}
        self._ones = {}
        self._line_terms = {}

    def cap_of(self, weights):
        """The cap of one matrix's rows (``caps``'s, else ``cap``).

        >>> tree = torch.zeros(2, 1)
        >>> RowUpdates(cap=2.0, caps={tree: 3.0}).cap_of(tree), RowUpdates(cap=2.0).cap_of(tree)
        (3.0, 2.0)
        """
        return self._caps.get(id(weights), self.cap)

    def __call__(self, weights, rows, deltas):
        cap = self.cap_of(weights)
        if cap == float("inf"):
            weights.index_add_(0, rows, deltas)
            return
        counts = self._counts.get(id(weights))
        if counts is None:
            counts = self._counts[id(weights)] = weights.new_zeros(weights.shape[0])
        ones = self._ones.get(len(rows))
        if ones is None:
            ones = self._ones[len(rows)] = deltas.new_ones(len(rows))
        counts.index_add_(0, rows, ones)
        scale = counts.index_select(0, rows).reciprocal_().mul_(cap).clamp_(max=1.0)  # (N,)
        counts.index_fill_(0, rows, 0.0)
        weights.index_add_(0, rows, deltas.mul_(scale[:, None]))  # deltas are the step's temporaries

    def newton_bound(self, weights, rows, steps, slopes, curvatures):
        """Shrink the summed update of each repeated row to the Newton step along it.

        Sequential SGD re-reads a row before each of its updates, so the updates of a row that
        repeats densely shrink as the row nears the loss's minimum along them; summed from one
        stale value they all point the same way and can overshoot it (a word repeated in a list,
        whose every repeat follows the same Huffman path, runs away). After an update moved each
        row by its summed step ``Δ``, this fits the loss along ``t·Δ`` with its second-order
        model at ``t = 0`` and moves a row that occurred at least twice back to the model's
        minimum ``t* = Σ slope / Σ curvature`` (summed over the row's occurrences) where
        ``t* < 1``. A row updated once keeps its step, as in sequential SGD.

        Parameters
        ----------
        weights : torch.Tensor, shape (V, d)
            The matrix the update has just been applied to.
        rows : torch.Tensor of int64, shape (N,)
            The rows updated, one per occurrence.
        steps : torch.Tensor, shape (N, d)
            Each occurrence's row's summed step ``Δ`` (its new value minus its value before
            the update); scaled in place.
        slopes, curvatures : torch.Tensor, shape (N,)
            Each occurrence's ``-dL/dt`` and ``d²L/dt²`` at ``t = 0`` for its own loss terms.

        Examples
        --------
        A row moved by 2 along a quadratic loss whose minimum is 1 away is moved back there:

        >>> w = torch.tensor([[2.0], [5.0]])
        >>> rule = RowUpdates()
        >>> rule.newton_bound(w, torch.tensor([0, 0, 1]), torch.tensor([[2.0], [2.0], [1.0]]),
        ...                   torch.tensor([4.0, 4.0, 1.0]), torch.tensor([8.0, 8.0, 4.0]))
        >>> w.flatten().tolist()  # row 1, updated once, keeps its step
        [1.0, 5.0]
        """
        terms = self._line_terms.get(id(weights))
        if terms is None:
            terms = self._line_terms[id(weights)] = weights.new_zeros(weights.shape[0], 3)
        ones = self._ones.get(len(rows))
        if ones is None:
            ones = self._ones[len(rows)] = steps.new_ones(len(rows))
        terms.index_add_(0, rows, torch.stack([slopes, curvatures, ones], dim=1))
        sums = terms.index_select(0, rows)  # (N, 3): the row's slope, curvature and count
        terms.index_fill_(0, rows, 0.0)
        newton = sums[:, 0].div_(sums[:, 1].clamp_(min=torch.finfo(sums.dtype).tiny)).clamp_(max=1.0)
        shrink = newton.masked_fill_(sums[:, 2] < 2.0, 1.0).sub_(1.0).div_(sums[:, 2])  # (t* - 1) / n
        weights.index_add_(0, rows, steps.mul_(shrink[:, None]))  # each occurrence adds its share


@dataclass
class OutputTargets:
    """The output rows one objective trains for each center of a batch.

    Attributes
    ----------
    weights : torch.Tensor, shape (V' + 1, d)
        The output matrix (``syn1neg`` or ``syn1``) with its padding row, updated in place.
    rows : torch.Tensor of int64, shape (B, T)
        Rows of ``weights`` (the padding row where there is no target).
    labels : torch.Tensor, shape (B, T) or (1, T)
    """

    weights: torch.Tensor
    rows: torch.Tensor
    labels: torch.Tensor


def negative_labels(negative, dtype=torch.float32, device="cpu"):
    """The labels of negative sampling's targets, shape (1, K + 1): the true word 1, the noise words 0.

    >>> negative_labels(2).tolist()
    [[1.0, 0.0, 0.0]]
    """
    labels = torch.zeros(1, negative + 1, dtype=dtype, device=device)
    labels[0, 0] = 1.0
    return labels


def negative_targets(syn1neg, centers, negatives, labels=None):
    """Negative sampling: the center word (label 1) and its ``K`` noise words (label 0).

    A noise word equal to the center is not trained, as gensim skips it: it becomes padding.
    ``labels`` (from :func:`negative_labels`) saves making them at every step.

    >>> t = negative_targets(torch.zeros(5, 2), torch.tensor([1, -1]), torch.tensor([[1, 3], [0, 2]]))
    >>> t.rows.tolist(), t.labels.tolist()
    ([[1, 4, 3], [4, 0, 2]], [[1.0, 0.0, 0.0]])
    """
    rows = padded_rows(torch.cat([centers[:, None], negatives], dim=1), syn1neg)  # (B, K+1)
    rows[:, 1:].masked_fill_(rows[:, 1:] == rows[:, :1], syn1neg.shape[0] - 1)
    if labels is None:
        labels = negative_labels(negatives.shape[1], syn1neg.dtype, rows.device)
    return OutputTargets(weights=syn1neg, rows=rows, labels=labels)


def hierarchical_softmax_targets(syn1, points, labels, centers):
    """Hierarchical softmax: the inner nodes on each center's Huffman path, labelled ``1 - code``.

    Parameters
    ----------
    syn1 : torch.Tensor, shape (V, d)
        The ``V - 1`` inner nodes' rows and the padding row.
    points : torch.Tensor of int64, shape (V + 1, L)
        Each word's inner nodes, the padding row of ``syn1`` past the path's end; the last
        row (the padding center's) all padding.
    labels : torch.Tensor, shape (V + 1, L)
        ``1 - code`` on the path (anything past its end).
    centers : torch.Tensor of int64, shape (B,)
        ``-1`` for padding.
    """
    centers = padded_rows(centers, points)
    return OutputTargets(weights=syn1, rows=points.index_select(0, centers), labels=labels.index_select(0, centers))


def padded_tree(tree, syn1_rows, device):
    """The Huffman tables of :func:`hierarchical_softmax_targets` from a padded tree.

    Parameters
    ----------
    tree : torchw2v.huffman.PaddedTree
    syn1_rows : int
        Rows of ``syn1`` with its padding row (``V``).
    device : torch.device or str

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        ``points`` (V + 1, L) and ``labels`` (V + 1, L) as float32.
    """
    points = torch.as_tensor(tree.points, dtype=torch.int64)
    depth = torch.arange(points.shape[1])
    on_path = depth[None, :] < torch.as_tensor(tree.lengths)[:, None]
    points = torch.where(on_path, points, syn1_rows - 1)
    points = torch.cat([points, torch.full((1, points.shape[1]), syn1_rows - 1)])
    labels = torch.cat([1.0 - torch.as_tensor(tree.codes, dtype=torch.float32),
                        torch.zeros(1, points.shape[1])])
    return points.to(device), labels.to(device)


def logistic_updates(inputs, outputs, labels, lr):
    """Scores and updates of input and output rows for a sum of logistic losses.

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
    lr : float or torch.Tensor
        Learning rate (a 0-d tensor on the device keeps host values out of the step).

    Returns
    -------
    tuple
        ``(delta_inputs (B, C, d), delta_outputs (B, T, d), scores (B, C, T))``, where each
        delta is minus ``lr`` times the gradient of the summed loss.
    """
    scores = torch.bmm(inputs, outputs.transpose(1, 2))  # (B, C, T)
    g = torch.sigmoid(scores)
    g = torch.sub(labels, g, out=g).mul_(lr)  # (label - σ(score)) * lr
    return torch.bmm(g, outputs), torch.bmm(g.transpose(1, 2), inputs), scores


def pair_loss(scores, labels, real_inputs, output_rows, padding_output):
    """Summed loss of the real pairs: ``-log σ(±score)``, padding left out.

    Parameters
    ----------
    scores : torch.Tensor, shape (B, C, T)
    labels : torch.Tensor, broadcastable to (B, C, T)
    real_inputs : torch.Tensor of bool, shape (B, C)
    output_rows : torch.Tensor, shape (B, T)
    padding_output : int
        The output padding row's index.
    """
    real = real_inputs[:, :, None] & (output_rows != padding_output)[:, None, :]
    return -(F.logsigmoid(torch.where(labels > 0, scores, -scores)) * real).sum()


def _train_outputs(inputs, real_inputs, targets, lr, update, scored=None):
    """Apply every objective's output updates; return the summed input update and loss.

    ``scored``, a list, receives each objective's ``(outputs, labels, scores)``.
    """
    delta_inputs, loss = None, None
    for target in targets:
        outputs = target.weights.index_select(0, target.rows.reshape(-1)).view(*target.rows.shape, -1)  # (B, T, d)
        labels = target.labels[:, None, :]  # (B or 1, 1, T)
        delta, delta_outputs, scores = logistic_updates(inputs, outputs, labels, lr)
        update(target.weights, target.rows.reshape(-1), delta_outputs.reshape(-1, inputs.shape[-1]))
        delta_inputs = delta if delta_inputs is None else delta_inputs.add_(delta)
        if real_inputs is not None:
            part = pair_loss(scores, labels, real_inputs, target.rows, target.weights.shape[0] - 1)
            loss = part if loss is None else loss + part
        if scored is not None:
            scored.append((outputs, labels, scores))
    return delta_inputs, loss


def line_terms(steps, scored):
    """Slope and curvature of each input's loss along its step: the terms of :meth:`RowUpdates.newton_bound`.

    Parameters
    ----------
    steps : torch.Tensor, shape (B, C, d)
        The step ``Δ`` of each input row.
    scored : list of (outputs, labels, scores)
        Each objective's output rows (B, T, d), labels and scores (B, C, T) at ``t = 0``.

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        ``-dL/dt = Σ (label - σ(s)) u·Δ`` and ``d²L/dt² = Σ σ'(s) (u·Δ)²``, each (B, C).

    Examples
    --------
    One pair at score 0, label 1, with ``u·Δ = 2``: slope ``0.5·2``, curvature ``0.25·4``.

    >>> u = torch.tensor([[[1.0, 1.0]]])
    >>> line_terms(torch.tensor([[[1.0, 1.0]]]), [(u, torch.ones(1, 1, 1), torch.zeros(1, 1, 1))])
    (tensor([[1.]]), tensor([[1.]]))
    """
    slopes, curvatures = None, None
    for outputs, labels, scores in scored:
        along = torch.bmm(steps, outputs.transpose(1, 2))  # (B, C, T): u·Δ
        fit = torch.sigmoid(scores)
        slope = (labels - fit).mul_(along).sum(dim=-1)
        curvature = fit.mul_(1.0 - fit).mul_(along).mul_(along).sum(dim=-1)
        slopes = slope if slopes is None else slopes.add_(slope)
        curvatures = curvature if curvatures is None else curvatures.add_(curvature)
    return slopes, curvatures


def _scaled_by_lockf(delta_inputs, rows, lockf):
    """Input updates times gensim's ``vectors_lockf`` of their rows (0 freezes a row)."""
    if lockf is None:
        return delta_inputs
    return delta_inputs * lockf.index_select(0, rows)[:, None]


def skipgram_step(syn0, contexts, targets, lr, update, compute_loss=False, lockf=None, bound_repeats=None):
    """One skip-gram step on a batch of windows, in place.

    As in gensim, each context word's input vector predicts the center word; the output
    rows of a center (its noise words, its Huffman path) are shared by its context words.

    Parameters
    ----------
    syn0 : torch.Tensor, shape (V + 1, d)
        Input (word) vectors with the padding row; updated in place.
    contexts : torch.Tensor of int64, shape (B, C)
        Context word indices, ``-1`` for padding (a padded center has only padding).
    targets : list of OutputTargets
        The objectives: :func:`negative_targets` and/or :func:`hierarchical_softmax_targets`
        (both summed when both are on, as gensim's ``hs=1, negative>0``).
    lr : float or torch.Tensor
        Learning rate folded into the updates (1 gives minus the gradients).
    update : callable
        The update rule ``update(weights, rows, deltas)``: a :class:`RowUpdates` (SGD) or
        :meth:`torchw2v.optimizers.SparseRowAdam.update`.
    compute_loss : bool, optional
    lockf : torch.Tensor, shape (V + 1,), optional
        gensim's ``vectors_lockf``: a factor on each input row's updates.
    bound_repeats : callable, optional
        ``bound_repeats(syn0, rows, steps, slopes, curvatures)``, called after the input rows'
        update with the terms of :func:`line_terms`: :meth:`RowUpdates.newton_bound` for SGD.

    Returns
    -------
    torch.Tensor or None
        The summed loss (a 0-d tensor on the device) when ``compute_loss``.
    """
    rows = padded_rows(contexts, syn0)  # (B, C)
    inputs = syn0.index_select(0, rows.reshape(-1)).view(*rows.shape, -1)  # (B, C, d)
    scored = [] if bound_repeats is not None else None
    delta_inputs, loss = _train_outputs(inputs, contexts >= 0 if compute_loss else None, targets, lr, update,
                                        scored)
    flat = rows.reshape(-1)
    update(syn0, flat, _scaled_by_lockf(delta_inputs.reshape(-1, syn0.shape[1]), flat, lockf))
    if bound_repeats is not None:
        steps = syn0.index_select(0, flat).view_as(inputs).sub_(inputs)  # (B, C, d): each row's summed step
        slopes, curvatures = line_terms(steps, scored)
        bound_repeats(syn0, flat, steps.view(-1, syn0.shape[1]), slopes.reshape(-1), curvatures.reshape(-1))
    return loss


def cbow_step(syn0, contexts, targets, lr, update, cbow_mean=True, compute_loss=False, lockf=None):
    """One CBOW step on a batch of windows, in place.

    The hidden vector is the mean (``cbow_mean``) or sum of the context vectors. As in
    gensim and word2vec.c, every context word receives the hidden vector's full update
    with ``cbow_mean=1``, and the update divided by the context size with ``cbow_mean=0``.

    Parameters are those of :func:`skipgram_step`, plus ``cbow_mean``.
    """
    rows = padded_rows(contexts, syn0)  # (B, C)
    inputs = syn0.index_select(0, rows.reshape(-1)).view(*rows.shape, -1)  # (B, C, d)
    size = (contexts >= 0).sum(dim=1, keepdim=True).clamp_(min=1).to(syn0.dtype)  # (B, 1)
    hidden = inputs.sum(dim=1, keepdim=True)  # (B, 1, d): padding rows are zero
    if cbow_mean:
        hidden = hidden / size[:, :, None]
    real = (contexts >= 0).any(dim=1, keepdim=True) if compute_loss else None  # (B, 1)
    delta_hidden, loss = _train_outputs(hidden, real, targets, lr, update)  # (B, 1, d)
    if not cbow_mean:
        delta_hidden = delta_hidden / size[:, :, None]
    flat = rows.reshape(-1)
    # (B*C, d): a copy of its own (never a view of delta_hidden), which the update rule may scale in place
    delta_inputs = delta_hidden.expand(-1, rows.shape[1], -1).contiguous().view(-1, syn0.shape[1])
    update(syn0, flat, _scaled_by_lockf(delta_inputs, flat, lockf))
    return loss
