"""The device path: corpus, batches and training steps on one torch device (CUDA, MPS or CPU).

:class:`TorchSteps` keeps everything of a training step on the device: the encoded corpus and
its fixed-shape batches (:mod:`torchw2v.device_data`: subsampling, windows and noise drawn
there), the weights with their padding rows, the learning rate (a 0-d tensor), the running
loss and the count of effective words. The host's only per-step work is to write the learning
rate and launch the step: on CUDA, the whole step (batch and update) is captured once as a
CUDA graph and replayed; elsewhere it runs eagerly, the same ops. Nothing in a step reads the
device back; the trainer does, about once per ``report_delay`` seconds and at the end.

>>> import numpy as np
>>> from torchw2v.config import TrainingConfig
>>> from torchw2v.corpus import EncodedCorpus
>>> from torchw2v.sampling import noise_cum_table
>>> from torchw2v.trainer import TrainingTables
>>> tables = TrainingTables(np.full(3, 2**32 - 1, np.uint32), noise_cum_table(np.array([3, 2, 1]), 0.75))
>>> weights = TorchWeights.allocate(np.full((3, 4), 0.1, np.float32), np.zeros((3, 4), np.float32), None, "cpu")
>>> steps = TorchSteps(TrainingConfig(sg=1, compute_loss=True, batch_size=8), weights, tables)
>>> corpus = EncodedCorpus([["a", "b", "c", "a"]], {"a": 0, "b": 1, "c": 2}, 100)
>>> for span in steps.epoch(corpus):
...     steps.run(0.1)
>>> bool(steps.loss > 0), int(steps.effective_words), bool(weights.syn1neg[:3].abs().sum() > 0)
(True, 4, True)
>>> corpus.close()
"""
import logging
from dataclasses import dataclass

import numpy as np
import torch

from torchw2v.objectives import (
    TREE_ROW_UPDATE_CAP, RowUpdates, cbow_step, clear_padding_rows, hierarchical_softmax_targets,
    negative_labels, negative_targets, padded_tree, skipgram_step,
)

logger = logging.getLogger(__name__)


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


@dataclass
class TorchWeights:
    """The trained matrices on the device, each with its zero padding row last.

    Attributes
    ----------
    syn0 : torch.Tensor, shape (V + 1, d)
    syn1neg : torch.Tensor, shape (V + 1, d) or None
        Without negative sampling, None.
    syn1 : torch.Tensor, shape (V, d) or None
        The ``V - 1`` inner nodes and the padding row, with hierarchical softmax.
    lockf : torch.Tensor, shape (V + 1,) or None
        gensim's ``vectors_lockf`` per word (None when every word trains fully).
    """

    syn0: torch.Tensor
    syn1neg: torch.Tensor = None
    syn1: torch.Tensor = None
    lockf: torch.Tensor = None

    @classmethod
    def allocate(cls, syn0, syn1neg, syn1, device, dtype=torch.float32, lockf=None):
        """Copies of numpy weights on ``device``, padding rows added (empty or None arrays: unused).

        >>> w = TorchWeights.allocate(np.ones((2, 3), np.float32), None, np.ones((1, 3), np.float32), "cpu")
        >>> w.syn0.tolist(), w.syn1neg, w.syn1.shape
        ([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]], None, torch.Size([2, 3]))
        """
        def padded(array):
            if array is None or not len(array):
                return None
            matrix = torch.zeros(len(array) + 1, array.shape[1], dtype=dtype, device=device)
            matrix[:-1].copy_(torch.from_numpy(np.ascontiguousarray(array)))
            return matrix

        if lockf is not None:
            lockf = np.broadcast_to(np.asarray(lockf, dtype=np.float32), (len(syn0),))
            lockf = None if (lockf == 1).all() else torch.as_tensor(np.append(lockf, 0.0), dtype=dtype,
                                                                       device=device)
        return cls(padded(syn0), padded(syn1neg), padded(syn1), lockf)

    def matrices(self):
        """The trained matrices, padding rows included (None left out)."""
        return [w for w in (self.syn0, self.syn1neg, self.syn1) if w is not None]

    def store(self, syn0, syn1neg, syn1):
        """Copy the weights, without padding rows, into numpy arrays of the right shapes."""
        for matrix, array in ((self.syn0, syn0), (self.syn1neg, syn1neg), (self.syn1, syn1)):
            if matrix is not None:
                array[:] = matrix[:-1].detach().cpu().to(torch.float32).numpy()


#: Encoded corpus tokens the data pipeline turns into a batch at once (at least): smaller
#: batches are trained as several updates on slices of one span's batch.
SPAN_TOKENS = 16384


#: Most bytes the (span, 2 * window) buffers of the window workspace
#: (:class:`torchw2v.device_data.WindowWorkspace`) may take: up to ``window=546`` at spans of 16384 tokens (the
#: step's own (batch_size, 2 * window, vector_size) arrays come on top).
WINDOW_BUFFER_BYTES = 2**29

#: Bytes per (center slot, context slot) of those buffers: neighbour ids, neighbour sentences and
#: contexts (int64), the neighbour slots (int32), two masks (bool).
WINDOW_SLOT_BYTES = 3 * 8 + 4 + 2 * 1


def span_tokens(batch_size):
    """Tokens per span: the least multiple of ``batch_size`` that is at least :data:`SPAN_TOKENS`.

    >>> span_tokens(1024), span_tokens(5000), span_tokens(65536)
    (16384, 20000, 65536)
    """
    return batch_size * -(-SPAN_TOKENS // batch_size)


def _with_empty_row(table, device):
    """``table`` with one more, zero row (the padding word's), on ``device``.

    >>> _with_empty_row(torch.tensor([3, 2]), "cpu").tolist()
    [3, 2, 0]
    """
    return torch.cat([table, table.new_zeros((1, *table.shape[1:]))]).to(device)


class TorchSteps:
    """Training steps on torch weights, span after span of the corpus on the device.

    Parameters
    ----------
    config : torchw2v.config.TrainingConfig
        ``batch_size``: center slots (encoded corpus tokens, whose kept words are the centers) per
        update. The data pipeline makes a span of :func:`span_tokens` at once, trained as
        consecutive updates of ``batch_size`` slots each.
    weights : TorchWeights
    tables : torchw2v.trainer.TrainingTables
    optimizer : torchw2v.optimizers.SparseRowAdam, optional
        Apply the gradients with Adam, at the scheduled rate, instead of gensim's SGD.
    cuda_graph : bool, optional
        Capture the step as a CUDA graph and replay it (default: on CUDA devices).
    memory_share : float, optional
        Share of the device's free memory the resident corpus may take (else it is streamed).
    kernel : {"torch", "triton"}, optional
        The step's implementation: torch ops (the batch of :func:`torchw2v.device_data.span_windows`,
        the update of :mod:`torchw2v.objectives`), or Triton kernels: the batch made by
        :func:`torchw2v.kernels.triton_windows.fused_span_windows` (the same batch) and each update
        by :func:`torchw2v.kernels.triton_step.fused_step` (SGD in float32; with negative sampling
        alone, repeated rows summed without the repeat cap, see its race semantics; with hierarchical
        softmax, the torch step's capped sums and Newton bound, :mod:`torchw2v.kernels.triton_row_sums`).

    Attributes
    ----------
    loss : torch.Tensor
        Summed loss of the trained pairs since construction (float64 on the device).
    effective_words : torch.Tensor
        Words kept by subsampling since construction (int64 on the device).
    """

    def __init__(self, config, weights, tables, optimizer=None, cuda_graph=None, memory_share=None, kernel="torch"):
        if kernel == "triton" and (optimizer is not None or weights.syn0.dtype != torch.float32):
            raise ValueError("the fused Triton kernel trains float32 weights with SGD")
        _check_window_buffers(config)
        self.kernel = kernel
        self.config = config
        self.weights = weights
        self.tables = tables
        self.optimizer = optimizer
        self.device = weights.syn0.device
        self.cuda_graph = self.device.type == "cuda" if cuda_graph is None else bool(cuda_graph)
        self.memory_share = memory_share
        self.lr = torch.zeros((), dtype=weights.syn0.dtype, device=self.device)
        self.loss = torch.zeros((), dtype=torch.float64, device=self.device)
        # the update rule, and the rate folded into the deltas (Adam scales minus the gradients itself)
        if optimizer is None:
            # CBOW's inner nodes get one update per center; skip-gram's already sum a window's
            caps = {weights.syn1: TREE_ROW_UPDATE_CAP} if weights.syn1 is not None and not config.sg else None
            self._rule, self._step_lr = RowUpdates(caps=caps), self.lr
        else:
            self._rule, self._step_lr = _AdamRule(optimizer, self.lr), 1.0
        # skip-gram HS: every repeat of a context row follows the same Huffman path (see RowUpdates.newton_bound)
        bound = optimizer is None and bool(config.sg and config.hs)
        self._bound_repeats = self._rule.newton_bound if bound else None
        self._row_sums = None
        if config.hs:
            self._points, self._labels = padded_tree(tables.tree, weights.syn1.shape[0], self.device)
            if kernel == "triton":  # the kernel gathers each center's path itself; the padding word's is empty
                from torchw2v.kernels.triton_row_sums import RowSums

                tree = tables.tree
                self._tree = {"points": _with_empty_row(torch.as_tensor(tree.points), self.device),
                              "codes": _with_empty_row(torch.as_tensor(tree.codes).float(), self.device),
                              "path_lengths": _with_empty_row(torch.as_tensor(tree.lengths), self.device)}
                # the torch step's rule and caps: Hogwild's uncapped sums diverge with hierarchical softmax
                matrices = (weights.syn0, weights.syn1neg, weights.syn1)
                self._row_sums = RowSums(*matrices, [None if matrix is None else self._rule.cap_of(matrix)
                                                     for matrix in matrices], newton_bound=bound)
        if config.negative:
            self._negative_labels = negative_labels(config.negative, weights.syn0.dtype, self.device)
        self._batches = None
        self._graph = None

    @property
    def effective_words(self):
        """Words kept by subsampling in all spans run so far (a device tensor)."""
        return self._batches.effective_words if self._batches is not None else torch.zeros((), dtype=torch.int64)

    def epoch(self, corpus):
        """Yield the host's view of each span of one epoch (:class:`torchw2v.device_data.Span`).

        The first call puts the corpus on the device (encoding it, in the first epoch, from the
        streaming reader). Call :meth:`run` once per span, before asking for the next.
        """
        if self._batches is None:
            self._batches = self._device_batches(corpus)
        yield from self._batches.epoch()

    def _device_batches(self, corpus):
        from torchw2v.device_data import DEFAULT_MEMORY_SHARE, DeviceBatches, DeviceCorpus

        config, tables = self.config, self.tables
        share = DEFAULT_MEMORY_SHARE if self.memory_share is None else self.memory_share
        device_corpus = DeviceCorpus(corpus.chunks, len(tables.sample_ints), self.device,
                                     span_tokens(config.batch_size), memory_share=share)
        return DeviceBatches(device_corpus, tables.sample_ints, config.window, config.shrink_windows,
                             cum_table=tables.cum_table, negative=config.negative, seed=config.seed,
                             kernel=self.kernel)

    def run(self, alpha):
        """Train the next span at learning rate ``alpha``: launch its batch and step, wait for nothing."""
        self.lr.fill_(alpha)
        if not self.cuda_graph:
            self._batch_and_step()
        elif self._graph is not None:
            self._graph.replay()
        else:
            self._capture()

    def _batch_and_step(self):
        """Make the span's batch and train it, ``batch_size`` center slots per update (the work a
        CUDA graph captures)."""
        batches, config = self._batches, self.config
        batches.fill()
        for start in range(0, batches.centers.shape[0], config.batch_size):
            end = start + config.batch_size
            self._update(batches.centers[start:end], batches.contexts[start:end],
                         None if batches.negatives is None else batches.negatives[start:end])

    def _update(self, centers, contexts, negatives):
        """One update on a slice of the span's batch (views: the same shapes every span)."""
        weights, config = self.weights, self.config
        if self.kernel == "triton":
            self._fused_update(centers, contexts, negatives)
            return
        targets = []
        if config.hs:
            targets.append(hierarchical_softmax_targets(weights.syn1, self._points, self._labels, centers))
        if config.negative:
            targets.append(negative_targets(weights.syn1neg, centers, negatives, self._negative_labels))
        lr, update = self._step_lr, self._rule
        if config.sg:
            loss = skipgram_step(weights.syn0, contexts, targets, lr, update,
                                 compute_loss=config.compute_loss, lockf=weights.lockf,
                                 bound_repeats=self._bound_repeats)
        else:
            loss = cbow_step(weights.syn0, contexts, targets, lr, update, cbow_mean=config.cbow_mean,
                             compute_loss=config.compute_loss, lockf=weights.lockf)
        clear_padding_rows(*weights.matrices())
        if loss is not None:
            self.loss.add_(loss)

    def _fused_update(self, centers, contexts, negatives):
        """The update as the fused Triton kernels (they never touch the padding rows)."""
        from torchw2v.kernels.triton_step import fused_step

        weights, config = self.weights, self.config
        kwargs = {}
        if config.negative:
            kwargs.update(syn1neg=weights.syn1neg, negatives=negatives)
        if config.hs:
            kwargs.update(syn1=weights.syn1, **self._tree)
        fused_step(weights.syn0, centers, contexts, self.lr, sg=bool(config.sg), cbow_mean=bool(config.cbow_mean),
                   lockf=weights.lockf, loss=self.loss if config.compute_loss else None, row_sums=self._row_sums,
                   **kwargs)

    def _capture(self):
        """Run the first span eagerly, then capture the step as a CUDA graph for the next ones.

        The warm-up and the capture run the step on the same span again, at learning rate 0
        and with the optimizer's state restored, so they change nothing that training sees.
        """
        self._batch_and_step()
        saved = (self.lr.clone(), self.loss.clone(), self._batches.effective_words.clone(),
                 self._batches.save_cursor(), self._optimizer_state())
        self.lr.zero_()
        stream = torch.cuda.Stream(self.device)
        stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(stream):
            for _ in range(2):
                self._batches.restore_cursor(saved[3])
                self._batch_and_step()
        torch.cuda.current_stream(self.device).wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        graph.register_generator_state(self._batches.generator)
        self._batches.restore_cursor(saved[3])
        with torch.cuda.graph(graph):
            self._batch_and_step()
        self._batches.restore_cursor(saved[3])
        self.lr.copy_(saved[0])
        self.loss.copy_(saved[1])
        self._batches.effective_words.copy_(saved[2])
        self._restore_optimizer_state(saved[4])
        self._graph = graph
        logger.info("captured the training step as a CUDA graph on %s", self.device)

    def _optimizer_state(self):
        if self.optimizer is None:
            return None
        return [tensor.clone() for tensor in self.optimizer.state_tensors()]

    def _restore_optimizer_state(self, saved):
        if saved is not None:
            for tensor, value in zip(self.optimizer.state_tensors(), saved):
                tensor.copy_(value)

    def losses_to_numpy(self, losses):
        """Running-loss values (device tensors) as one float64 array, in one read from the device."""
        return torch.stack(list(losses)).cpu().numpy()

    def largest_magnitude(self):
        """The largest ``|w|`` over the weights (NaN if any is NaN); synchronises the device.

        Each weight is read once (``aminmax``; NaN propagates), without a temporary the size of
        the weights.
        """
        extremes = [torch.stack(torch.aminmax(weights)).abs() for weights in self.weights.matrices()]
        return float(torch.cat(extremes).max())


def _check_window_buffers(config):
    """Raise ValueError, naming ``window`` and ``batch_size``, when the window buffers would exceed their budget.

    The window counted is :func:`torchw2v.batching.effective_window`'s: none reaches past a
    sentence piece.

    >>> from torchw2v.config import TrainingConfig
    >>> _check_window_buffers(TrainingConfig(window=10**7))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: window=10000000 at batch_size=1024 needs 9,374 MiB of window buffers on the device path (...
    """
    from torchw2v.batching import effective_window

    span, window = span_tokens(config.batch_size), effective_window(config.window)
    needed = span * 2 * window * WINDOW_SLOT_BYTES
    if needed > WINDOW_BUFFER_BYTES:
        largest = WINDOW_BUFFER_BYTES // (span * 2 * WINDOW_SLOT_BYTES)
        raise ValueError(
            f"window={config.window} at batch_size={config.batch_size} needs {needed / 2**20:,.0f} MiB of window "
            f"buffers on the device path ({span} center slots per span x {2 * window} context slots x "
            f"{WINDOW_SLOT_BYTES} bytes), over its {WINDOW_BUFFER_BYTES / 2**20:,.0f} MiB budget: use window <= "
            f"{largest} at this batch_size (a batch_size up to {SPAN_TOKENS} gives the shortest spans), or the "
            "native CPU kernels (device='cpu', cpu_kernel='native'), which take any window")


class _AdamRule:
    """:meth:`SparseRowAdam.update` as a step's update rule, at the device learning rate."""

    def __init__(self, optimizer, lr):
        self.optimizer, self.lr = optimizer, lr

    def __call__(self, weights, rows, deltas):
        self.optimizer.update(weights, rows, deltas, lr=self.lr)
