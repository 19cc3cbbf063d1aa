"""Native CPU kernels: gensim-style sequential SGD loops in C, called through ctypes.

The C source (``w2v_kernels.c``) is compiled when the package is installed (an optional
extension: without a C compiler the install still succeeds and training on CPU uses the
batched torch path). ``ctypes`` releases the GIL during the calls, so the trainer's
threads run them in parallel on different batches, updating the weights lock-free as
gensim's workers do.

>>> import numpy as np
>>> from torchw2v.sampling import noise_cum_table
>>> if available():
...     syn0 = np.full((3, 4), 0.1, np.float32); syn1neg = np.zeros((3, 4), np.float32)
...     kernel = NativeKernel(syn0, syn1neg, noise_cum_table(np.array([3, 2, 1]), 0.75), negative=2)
...     loss = kernel.step(np.array([0]), np.array([[1, 2]]), alpha=0.1, sg=True, cbow_mean=True,
...                        state=kernel.new_state(seed=1), compute_loss=True)
...     bool(loss > 0) and bool(syn1neg[0].sum() > 0)
... else:
...     True
True
"""
import ctypes
import glob
import logging
import os

import numpy as np

logger = logging.getLogger(__name__)

_FLOAT_P = ctypes.POINTER(ctypes.c_float)
_INT64_P = ctypes.POINTER(ctypes.c_int64)


class _Model(ctypes.Structure):
    """Mirror of the C ``Model`` struct: pointers to the model's arrays."""

    _fields_ = [
        ("syn0", _FLOAT_P), ("syn1neg", _FLOAT_P), ("syn1", _FLOAT_P),
        ("dim", ctypes.c_int64), ("vocab", ctypes.c_int64), ("negative", ctypes.c_int64),
        ("hs", ctypes.c_int64), ("depth", ctypes.c_int64),
        ("cum_table", ctypes.POINTER(ctypes.c_uint32)), ("codes", ctypes.POINTER(ctypes.c_uint8)),
        ("points", _INT64_P), ("lengths", ctypes.POINTER(ctypes.c_int32)),
        ("lockf", _FLOAT_P), ("lockf_len", ctypes.c_int64), ("sigmoid_table", _FLOAT_P),
    ]


#: The sigmoid table's size and range, as gensim's ``EXP_TABLE`` (and word2vec.c's ``expTable``).
EXP_TABLE_SIZE, MAX_EXP = 1000, 6
SIGMOID_SCALE = EXP_TABLE_SIZE // MAX_EXP // 2


def sigmoid_table():
    """gensim's ``EXP_TABLE``: the sigmoid at ``EXP_TABLE_SIZE`` points spaced evenly over
    ``[-MAX_EXP, MAX_EXP)``, computed as gensim computes it (float32 grid, exp in double).

    The kernels read the sigmoid of a score ``f`` in ``(-MAX_EXP, MAX_EXP)`` from entry
    ``int((f + MAX_EXP) * SIGMOID_SCALE)``, as gensim's and word2vec.c's loops do (their scale is
    the integer ``1000 // 6 // 2``: the last entries are never read).

    >>> table = sigmoid_table()
    >>> len(table), float(table[0]) < 0.0025, abs(float(table[EXP_TABLE_SIZE // 2]) - 0.5) < 1e-6
    (1000, True, True)
    """
    grid = (np.arange(EXP_TABLE_SIZE, dtype=np.float32) / np.float32(EXP_TABLE_SIZE) * np.float32(2)
            - np.float32(1)) * np.float32(MAX_EXP)
    exp = np.exp(grid.astype(np.float64)).astype(np.float32)
    return exp / (exp + np.float32(1))


_BATCH = [ctypes.POINTER(_Model), _INT64_P, _INT64_P, ctypes.c_int64, ctypes.c_int64, ctypes.c_float,
          ctypes.POINTER(ctypes.c_uint64)]


def load_library(path):
    """The compiled kernels at ``path`` with their signatures set, or None if they cannot be used there."""
    try:
        library = ctypes.CDLL(path)
        skipgram, cbow = library.w2v_skipgram, library.w2v_cbow
    except (OSError, AttributeError) as error:  # a build for another platform or version
        logger.debug("cannot use %s: %s", path, error)
        return None
    skipgram.restype = cbow.restype = ctypes.c_double
    skipgram.argtypes = _BATCH + [ctypes.c_int, _FLOAT_P, _INT64_P]
    cbow.argtypes = _BATCH + [ctypes.c_int, ctypes.c_int, _FLOAT_P, _INT64_P]
    return library


def _load_library():
    folder = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for path in sorted(glob.glob(os.path.join(folder, "_w2v_kernels*.so")) +
                       glob.glob(os.path.join(folder, "_w2v_kernels*.pyd"))):
        library = load_library(path)
        if library is not None:
            return library
    return None


_LIBRARY = _load_library()


def available():
    """Whether the compiled kernels could be loaded."""
    return _LIBRARY is not None


class NativeKernel:
    """Training steps on float32 CPU weights, one (center, context) pair at a time.

    Parameters
    ----------
    syn0 : numpy.ndarray of float32, shape (V, d), C-contiguous
        Input vectors, updated in place (share them with torch through ``torch.from_numpy``).
    syn1neg : numpy.ndarray of float32, shape (V, d)
        Negative-sampling output vectors, updated in place (unused when ``negative=0``).
    cum_table : numpy.ndarray of uint32 or None
        gensim's cumulative noise table (:func:`torchw2v.sampling.noise_cum_table`).
    negative : int
        Noise words drawn per pair (0: none).
    syn1 : numpy.ndarray of float32, shape (V, d), optional
        Hierarchical-softmax output vectors, updated in place.
    tree : torchw2v.huffman.PaddedTree, optional
        Huffman codes and points; hierarchical softmax is on when given.
    shared_negatives : bool, optional
        Skip-gram: draw the noise words once per center and share them among its context
        words (Ji et al. 2016), instead of fresh for every pair as gensim does. The rows of a
        window's noise words then stay in cache through the window, and its context words train
        against them two at a time (each row read once for both; so do they against the Huffman
        path with hierarchical softmax alone). (CBOW has one noise draw
        per center anyway: gensim's; like skip-gram's shared ones, they are drawn one window
        ahead, in the same order, so that their rows are fetched while the previous window trains.)
    lockf : numpy.ndarray of float32, shape (1,) or (V,), optional
        gensim's ``vectors_lockf``: each input row's update is multiplied by its word's value
        (0 freezes the row); one value applies to every word. Default: 1.
    library : ctypes.CDLL, optional
        The compiled kernels to call (:func:`load_library`; default: the installed build).
    """

    def __init__(self, syn0, syn1neg, cum_table, negative, syn1=None, tree=None, shared_negatives=False,
                 lockf=None, library=None):
        library = library or _LIBRARY
        if library is None:
            raise RuntimeError("the native CPU kernels are not built (reinstall torchw2v with a C compiler)")
        arrays = {"syn0": syn0, "syn1neg": syn1neg} if negative else {"syn0": syn0}
        if tree is not None:
            arrays["syn1"] = syn1
        for name, array in arrays.items():
            if array is None or array.dtype != np.float32 or not array.flags.c_contiguous:
                raise ValueError(f"{name} must be a C-contiguous float32 array")
        self.dim = syn0.shape[1]
        # keep every array the struct points to alive as long as the kernel
        self._arrays = dict(arrays)
        self._arrays["cum_table"] = np.ascontiguousarray(cum_table if negative else np.ones(1), dtype=np.uint32)
        lockf = np.ones(1, dtype=np.float32) if lockf is None else np.ascontiguousarray(lockf, dtype=np.float32)
        if lockf.ndim != 1 or len(lockf) not in (1, len(syn0)):
            raise ValueError(f"lockf must have 1 or {len(syn0)} (vocabulary size) values, got shape {lockf.shape}")
        self._arrays["lockf"] = lockf
        self._arrays["sigmoid_table"] = sigmoid_table()
        hs = tree is not None
        if hs:
            self._arrays.update(codes=np.ascontiguousarray(tree.codes, dtype=np.uint8),
                                points=np.ascontiguousarray(tree.points, dtype=np.int64),
                                lengths=np.ascontiguousarray(tree.lengths, dtype=np.int32))
        model = _Model(dim=self.dim, vocab=len(syn0), negative=int(negative), hs=int(hs),
                       depth=tree.codes.shape[1] if hs else 0, lockf_len=len(lockf))
        for name, array in self._arrays.items():
            setattr(model, name, array.ctypes.data_as(dict(_Model._fields_)[name]))
        self._model = model
        self.shared_negatives = bool(shared_negatives and negative)
        self.negative = int(negative)
        self._library = library

    def weights(self):
        """The weight matrices the kernels update (the input vectors first)."""
        return [self._arrays[name] for name in ("syn0", "syn1neg", "syn1") if name in self._arrays]

    def new_state(self, seed):
        """A per-thread random state (word2vec's 48-bit LCG), seeded."""
        return ctypes.c_uint64(int(seed) & 0xFFFFFFFFFFFF)

    def step(self, centers, contexts, alpha, sg, cbow_mean, state, compute_loss=False):
        """Train one batch of windows; returns the summed loss (0.0 unless ``compute_loss``).

        Parameters
        ----------
        centers : numpy.ndarray of int64, shape (B,)
        contexts : numpy.ndarray of int64, shape (B, C)
            Context word indices, ``-1`` where empty.
        alpha : float
        sg : bool
            Skip-gram (True) or CBOW.
        cbow_mean : bool
        state : ctypes.c_uint64
            From :meth:`new_state`; advanced in place.
        compute_loss : bool, optional
        """
        centers = np.ascontiguousarray(centers, dtype=np.int64)
        contexts = np.ascontiguousarray(contexts, dtype=np.int64)
        work = np.empty(2 * self.dim, dtype=np.float32)
        args = (ctypes.byref(self._model), centers.ctypes.data_as(_INT64_P), contexts.ctypes.data_as(_INT64_P),
                len(centers), contexts.shape[1], float(alpha), ctypes.byref(state))
        # room for two windows' noise words: CBOW's drawn a window ahead, skip-gram's shared ones
        noise = np.empty(2 * self.negative, dtype=np.int64) if self.negative else None
        noise_p = _INT64_P() if noise is None else noise.ctypes.data_as(_INT64_P)
        if sg:
            return self._library.w2v_skipgram(*args, int(compute_loss), work.ctypes.data_as(_FLOAT_P),
                                              noise_p if self.shared_negatives else _INT64_P())
        return self._library.w2v_cbow(*args, int(cbow_mean), int(compute_loss), work.ctypes.data_as(_FLOAT_P),
                                      noise_p)


class NativeSteps:
    """The trainer's steps with the native kernels: the interface of :class:`torchw2v.torch_steps.TorchSteps`
    on numpy weights, without torch.

    Parameters
    ----------
    config : torchw2v.config.TrainingConfig
    kernel : NativeKernel
        The kernels, bound to the weights they update.

    Examples
    --------
    >>> from torchw2v.config import TrainingConfig
    >>> from torchw2v.sampling import noise_cum_table
    >>> if available():
    ...     syn0 = np.full((3, 4), 0.1, np.float32); syn1neg = np.zeros((3, 4), np.float32)
    ...     kernel = NativeKernel(syn0, syn1neg, noise_cum_table(np.array([3, 2, 1]), 0.75), negative=2)
    ...     steps = NativeSteps(TrainingConfig(sg=1), kernel)
    ...     loss = steps.step(*steps.prepare(np.array([0]), np.array([[1, 2]])), 0.1, steps.new_state(1))
    ...     loss == 0.0 and 0.1 <= steps.largest_magnitude() < 1
    ... else:
    ...     True
    True
    """

    def __init__(self, config, kernel):
        self.config = config
        self.kernel = kernel

    def new_state(self, seed):
        """A training thread's random state."""
        return self.kernel.new_state(seed)

    @staticmethod
    def prepare(centers, contexts):
        """The kernels take the batch's numpy arrays as they are."""
        return centers, contexts

    def step(self, centers, contexts, alpha, state):
        """Train one batch at learning rate ``alpha``; returns its loss (0.0 unless ``compute_loss``)."""
        config = self.config
        return self.kernel.step(centers, contexts, alpha, sg=config.sg, cbow_mean=config.cbow_mean, state=state,
                                compute_loss=config.compute_loss)

    @staticmethod
    def zero_loss():
        """The running loss's start."""
        return 0.0

    @staticmethod
    def losses_to_numpy(losses):
        """Running-loss values as a float64 array."""
        return np.asarray(losses, dtype=np.float64)

    def largest_magnitude(self):
        """The largest ``|w|`` over the weights the kernels update (NaN if any is NaN)."""
        extremes = [(weights.min(), weights.max()) for weights in self.kernel.weights()]
        return float(np.max(np.abs(extremes)))  # NaN propagates
