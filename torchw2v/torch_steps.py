"""The trainer's steps as batched torch ops, on any torch device (CPU, CUDA, MPS).

:class:`TorchSteps` runs :mod:`torchw2v.objectives` on batches of windows: the batches are
copied to the device (from pinned memory on CUDA, without waiting), noise words are drawn on
the device by :class:`NoiseSampler`, and the running loss stays on the device, so a step never
waits for the device: the trainer reads it back once, at the end of training. The native CPU
kernels have the same interface (:class:`torchw2v.native.NativeSteps`); this module is the only
one of the training loop that imports torch.

>>> import numpy as np, torch
>>> from torchw2v.config import TrainingConfig
>>> from torchw2v.sampling import noise_cum_table
>>> from torchw2v.trainer import TrainingTables
>>> tables = TrainingTables(np.full(3, 2**32 - 1, np.uint32), noise_cum_table(np.array([3, 2, 1]), 0.75))
>>> syn0, syn1neg = torch.full((3, 4), 0.1), torch.zeros(3, 4)
>>> steps = TorchSteps(TrainingConfig(sg=1, compute_loss=True), syn0, syn1neg, None, tables)
>>> centers, contexts = steps.prepare(np.array([0]), np.array([[1, 2]]))
>>> loss = steps.step(centers, contexts, alpha=0.1, state=steps.new_state(seed=1))
>>> bool(loss > 0) and bool(syn1neg.abs().sum() > 0)
True
"""
import functools

import numpy as np
import torch

from torchw2v.objectives import (
    add_row_updates, cbow_step, hierarchical_softmax_targets, negative_targets, skipgram_step,
)


class NoiseSampler:
    """Draws negative-sampling noise words on the training device.

    Draws ``r`` uniformly in ``[0, table[-1])`` and returns ``searchsorted(table, r)``,
    exactly gensim's ``bisect_left`` on its cumulative table, with a seeded
    ``torch.Generator`` on the device: no host round trip per batch.

    Parameters
    ----------
    cum_table : numpy.ndarray of uint32
        From :func:`torchw2v.sampling.noise_cum_table`.
    device : torch.device or str
    seed : int

    Examples
    --------
    >>> from torchw2v.sampling import noise_cum_table
    >>> sampler = NoiseSampler(noise_cum_table(np.array([1, 0, 1]), 1.0), "cpu", seed=0)
    >>> sorted(set(sampler.draw((100,)).tolist()))
    [0, 2]
    """

    def __init__(self, cum_table, device, seed):
        self.table = torch.as_tensor(np.asarray(cum_table, dtype=np.int64), device=device)
        self.domain = int(cum_table[-1])
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(int(seed))

    def draw(self, shape):
        """Noise word indices of the given shape (int64, on the device)."""
        draws = torch.randint(0, self.domain, shape, generator=self.generator, device=self.table.device)
        return torch.searchsorted(self.table, draws)


class TorchSteps:
    """Training steps on torch weights, one batch of windows at a time (the trainer's ``steps``).

    Parameters
    ----------
    config : torchw2v.config.TrainingConfig
    syn0, syn1neg : torch.Tensor, shape (V, d)
        Input and negative-sampling output weights on the training device, updated in place
        (``syn1neg`` is unused when ``config.negative == 0``).
    syn1 : torch.Tensor, shape (V - 1, d) or None
        Hierarchical-softmax output weights (with ``config.hs``).
    tables : torchw2v.trainer.TrainingTables
    optimizer : torchw2v.optimizers.SparseRowAdam, optional
        Apply the gradients with Adam, at the scheduled rate, instead of gensim's SGD.
    lockf : torch.Tensor, shape (V,), optional
        gensim's ``vectors_lockf`` per word, on the device: multiplies each input row's update.

    Attributes
    ----------
    text_order : bool
        False: the trainer groups windows of equal size into batches
        (:func:`torchw2v.batching.window_batches`), so that no padded work is done.
    """

    text_order = False

    def __init__(self, config, syn0, syn1neg, syn1, tables, optimizer=None, lockf=None):
        self.config = config
        self.lockf = lockf
        self.syn0, self.syn1neg, self.syn1 = syn0, syn1neg, syn1
        self.tables = tables
        self.optimizer = optimizer
        self.device = syn0.device
        self._pin = self.device.type == "cuda"
        if config.hs:
            tree = tables.tree
            self._codes = torch.as_tensor(tree.codes, device=self.device).to(syn0.dtype)
            self._points = torch.as_tensor(tree.points, device=self.device)
            depth = torch.arange(tree.codes.shape[1], device=self.device)
            self._path_mask = depth[None, :] < torch.as_tensor(tree.lengths, device=self.device)[:, None]

    def new_state(self, seed):
        """A training thread's noise sampler (None without negative sampling)."""
        if not self.config.negative:
            return None
        return NoiseSampler(self.tables.cum_table, self.device, seed)

    def prepare(self, centers, contexts):
        """A batch's numpy index arrays as CPU tensors, pinned for an asynchronous copy to a GPU."""
        centers, contexts = torch.from_numpy(centers), torch.from_numpy(contexts)
        if self._pin:
            centers, contexts = centers.pin_memory(), contexts.pin_memory()
        return centers, contexts

    def step(self, centers, contexts, alpha, state):
        """Train one batch at learning rate ``alpha``; returns its loss as a device tensor
        (None unless ``compute_loss``)."""
        config = self.config
        centers = centers.to(self.device, non_blocking=True)
        contexts = contexts.to(self.device, non_blocking=True)
        if self.optimizer is None:
            lr, update = alpha, add_row_updates
        else:  # the steps then yield minus the gradients, which Adam scales itself
            lr, update = 1.0, functools.partial(self.optimizer.update, lr=alpha)
        targets = []
        if config.hs:
            targets.append(hierarchical_softmax_targets(self.syn1, self._codes, self._points, self._path_mask,
                                                        centers))
        if config.negative:
            targets.append(negative_targets(self.syn1neg, centers, state.draw((len(centers), config.negative))))
        if config.sg:
            return skipgram_step(self.syn0, centers, contexts, targets, lr, compute_loss=config.compute_loss,
                                 update=update, lockf=self.lockf)
        return cbow_step(self.syn0, centers, contexts, targets, lr, cbow_mean=config.cbow_mean,
                         compute_loss=config.compute_loss, update=update, lockf=self.lockf)

    def zero_loss(self):
        """The running loss's start: a float64 zero on the device."""
        return torch.zeros((), dtype=torch.float64, device=self.device)

    @staticmethod
    def losses_to_numpy(losses):
        """Running-loss values (device tensors) as one float64 array, in one read from the device."""
        return torch.stack(list(losses)).cpu().numpy()

    def largest_magnitude(self):
        """The largest ``|w|`` over the weights (NaN if any is NaN); synchronises the device.

        Each weight is read once (``aminmax``; NaN propagates), without a temporary the size of the
        weights, so training threads writing meanwhile cannot fake a NaN.
        """
        extremes = [torch.stack(torch.aminmax(weights)).abs() for weights in (self.syn0, self.syn1neg, self.syn1)
                    if weights is not None and weights.numel()]
        return float(torch.cat(extremes).max())
