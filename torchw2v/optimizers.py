"""How the steps' row updates are applied: gensim's SGD, or Adam on the rows of the batch.

The steps of :mod:`torchw2v.objectives` compute, for every row a batch touches, the update
``-lr * gradient`` and hand it to an *update rule* ``rule(weights, rows, deltas, present, cap)``:

- :func:`torchw2v.objectives.add_row_updates`, the default: plain SGD with the learning rate
  folded into the deltas (gensim's rule, with the repeat cap of large batches);
- :meth:`SparseRowAdam.update`: the steps run with ``lr=1``, so the deltas are minus the
  gradients; Adam sums them per distinct row and moves only those rows, keeping its
  moment estimates for them ("lazy" Adam, as ``torch.optim.SparseAdam``). Rows absent from
  a batch keep their moments untouched, so rare words are not decayed towards zero.

>>> import torch
>>> weights = torch.zeros(4, 2)
>>> adam = SparseRowAdam([weights], lr=0.1)
>>> adam.update(weights, torch.tensor([1, 1, 3]), torch.ones(3, 2), lr=0.1)
>>> weights[:, 0].tolist()  # Adam's first step moves each touched row by about lr
[0.0, 0.10000000149011612, 0.0, 0.10000000149011612]
"""
import torch


class SparseRowAdam:
    """Adam (Kingma & Ba 2015) applied only to the rows that a batch touches.

    Parameters
    ----------
    weights : list of torch.Tensor, shape (V_i, d)
        The matrices it will update (``syn0``, ``syn1neg``, ``syn1``); their first and second
        moments are kept here, as zeros of the same shape and dtype.
    lr : float
        Default learning rate (each :meth:`update` call may give its own, for the schedule).
    betas : tuple of float, optional
        Decay rates of the moment estimates.
    eps : float, optional
        Added to the denominator.

    Notes
    -----
    Each matrix keeps its own step count, increased by every :meth:`update` call on it (one
    per batch); the bias correction uses it, as ``torch.optim.SparseAdam`` does. Distinct rows
    are found with ``torch.unique``, which synchronises a CUDA device once per update: Adam is
    for rerunning Adam-trained experiments, the SGD rule is the fast path.
    """

    def __init__(self, weights, lr, betas=(0.9, 0.999), eps=1e-8):
        if not lr > 0:
            raise ValueError(f"the Adam learning rate must be > 0, got {lr!r}")
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"Adam's betas must be in [0, 1), got {betas!r}")
        self.lr = float(lr)
        self.betas = betas
        self.eps = eps
        self._state = {id(w): _Moments(torch.zeros_like(w), torch.zeros_like(w)) for w in weights}

    def update(self, weights, rows, deltas, present=None, cap=None, *, lr=None):
        """Adam step for the rows of ``weights`` in ``rows``; ``deltas`` are minus their gradients.

        Parameters
        ----------
        weights : torch.Tensor, shape (V, d)
            One of the matrices given at construction; updated in place.
        rows : torch.Tensor of int64, shape (N,)
            Row of each delta; repeated rows have their gradients summed.
        deltas : torch.Tensor, shape (N, d)
            Minus the gradient of the batch loss with respect to each row occurrence.
        present : torch.Tensor of bool, shape (N,), optional
            Which entries are real (padding entries are ignored).
        cap : float, optional
            Ignored: the SGD rule's repeat cap (Adam normalises each row's step itself).
        lr : float, optional
            Learning rate of this step (default: the one given at construction).
        """
        state = self._state[id(weights)]
        if not len(rows):
            return
        if present is not None:  # padding goes to a row past the end, dropped below (no masked copies)
            rows = torch.where(present, rows, weights.shape[0])
        unique, inverse = torch.unique(rows, return_inverse=True)
        gradient = torch.zeros(len(unique), weights.shape[1], dtype=weights.dtype, device=weights.device)
        gradient.index_add_(0, inverse, deltas, alpha=-1.0)
        if present is not None and int(unique[-1]) == weights.shape[0]:
            unique, gradient = unique[:-1], gradient[:-1]
        unique = unique.long()  # index_copy_ takes int64 indices only
        state.step += 1
        beta1, beta2 = self.betas
        first = state.first.index_select(0, unique).mul_(beta1).add_(gradient, alpha=1.0 - beta1)
        second = state.second.index_select(0, unique).mul_(beta2).addcmul_(gradient, gradient, value=1.0 - beta2)
        state.first.index_copy_(0, unique, first)
        state.second.index_copy_(0, unique, second)
        step_size = (self.lr if lr is None else lr) / (1.0 - beta1 ** state.step)
        denominator = second.div_(1.0 - beta2 ** state.step).sqrt_().add_(self.eps)
        weights.index_add_(0, unique, first.div_(denominator), alpha=-step_size)


class _Moments:
    """Adam's state for one matrix: first and second moments, and the step count."""

    def __init__(self, first, second):
        self.first = first
        self.second = second
        self.step = 0
