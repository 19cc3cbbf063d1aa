"""How the steps' row updates are applied: gensim's SGD, or Adam on the rows of the batch.

The steps of :mod:`torchw2v.objectives` compute, for every row a batch touches, the update
``-lr * gradient`` and hand it to an *update rule* ``rule(weights, rows, deltas)``:

- :class:`torchw2v.objectives.RowUpdates`, the default: plain SGD with the learning rate
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
    """Adam (Kingma & Ba 2015) applied only to the rows that a batch touches, without host syncs.

    Parameters
    ----------
    weights : list of torch.Tensor, shape (V_i, d)
        The matrices it will update (``syn0``, ``syn1neg``, ``syn1``); their first and second
        moments are kept here, as zeros of the same shape and dtype, with a gradient buffer of
        the same shape that stays zero between updates.
    lr : float
        Default learning rate (each :meth:`update` call may give its own, for the schedule).
    betas : tuple of float, optional
        Decay rates of the moment estimates.
    eps : float, optional
        Added to the denominator.

    Notes
    -----
    Each matrix keeps its own step count, increased by every :meth:`update` call on it (one
    per batch); the bias correction uses it, as ``torch.optim.SparseAdam`` does. The count is a
    device tensor and distinct rows are never listed (no ``torch.unique``): the gradients are
    summed into the zero buffer, read back at every occurrence of a row, and every occurrence
    writes the same new moments and weights, so a repeated row is updated once. The buffer is
    cleared again at the touched rows only. Nothing in an update waits for the device, and the
    shapes are those of the batch, so the update can be captured in a CUDA graph.
    """

    def __init__(self, weights, lr, betas=(0.9, 0.999), eps=1e-8):
        if not lr > 0:
            raise ValueError(f"the Adam learning rate must be > 0, got {lr!r}")
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"Adam's betas must be in [0, 1), got {betas!r}")
        self.lr = float(lr)
        self.betas = betas
        self.eps = eps
        self._state = {id(w): _Moments(w) for w in weights}

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
            Which entries are real: padding entries move nothing and keep no moments.
        cap : float, optional
            Ignored: the SGD rule's repeat cap (Adam normalises each row's step itself).
        lr : float or torch.Tensor, optional
            Learning rate of this step (default: the one given at construction); a 0-d device
            tensor keeps the step free of host values.
        """
        state = self._state[id(weights)]
        if not len(rows):
            return
        rows = rows.long()  # index_fill_/index_copy_ take int64 indices only (a no-op when they are)
        beta1, beta2 = self.betas
        state.step.add_(1)
        gradient = state.gradient.index_add_(0, rows, deltas, alpha=-1.0).index_select(0, rows)  # (N, d)
        state.gradient.index_fill_(0, rows, 0.0)
        first = state.first.index_select(0, rows).mul_(beta1).add_(gradient, alpha=1.0 - beta1)
        second = state.second.index_select(0, rows).mul_(beta2).addcmul_(gradient, gradient, value=1.0 - beta2)
        step = first / second.div(1.0 - beta2 ** state.step).sqrt_().add_(self.eps)
        step.mul_((self.lr if lr is None else lr) / (1.0 - beta1 ** state.step))
        if present is not None:  # rows with only padding occurrences write back what they read
            state.touched.index_add_(0, rows, present.to(weights.dtype))
            keep = (state.touched.index_select(0, rows) > 0)[:, None]  # (N, 1), equal for a row's occurrences
            state.touched.index_fill_(0, rows, 0.0)
            first = torch.where(keep, first, state.first.index_select(0, rows))
            second = torch.where(keep, second, state.second.index_select(0, rows))
            step = step * keep
        state.first.index_copy_(0, rows, first)
        state.second.index_copy_(0, rows, second)
        weights.index_copy_(0, rows, weights.index_select(0, rows).sub_(step))


    def state_tensors(self):
        """Every tensor of the optimizer's state (moments, buffers, step counts), to save and restore."""
        return [tensor for state in self._state.values()
                for tensor in (state.first, state.second, state.gradient, state.touched, state.step)]


class _Moments:
    """Adam's state for one matrix: moments, zero buffers (gradient, touched rows) and the step count."""

    def __init__(self, weights):
        self.first = torch.zeros_like(weights)
        self.second = torch.zeros_like(weights)
        self.gradient = torch.zeros_like(weights)
        self.touched = torch.zeros(weights.shape[0], dtype=weights.dtype, device=weights.device)
        self.step = torch.zeros((), dtype=torch.float64, device=weights.device)  # exact bias corrections
