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
_UINT32_P = ctypes.POINTER(ctypes.c_uint32)
_UINT64_P = ctypes.POINTER(ctypes.c_uint64)
_COMMON = [_FLOAT_P, _FLOAT_P, ctypes.c_int64, ctypes.c_int64, _INT64_P, _INT64_P, ctypes.c_int64,
           ctypes.c_int64, ctypes.c_int64, _UINT32_P, ctypes.c_float, _UINT64_P]


def _load_library():
    folder = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for path in sorted(glob.glob(os.path.join(folder, "_w2v_kernels*.so")) +
                       glob.glob(os.path.join(folder, "_w2v_kernels*.pyd"))):
        try:
            library = ctypes.CDLL(path)
        except OSError as error:  # a build for another platform: use the torch path
            logger.debug("cannot load %s: %s", path, error)
            continue
        library.w2v_skipgram_negative.restype = ctypes.c_double
        library.w2v_skipgram_negative.argtypes = _COMMON + [ctypes.c_int, _FLOAT_P]
        library.w2v_cbow_negative.restype = ctypes.c_double
        library.w2v_cbow_negative.argtypes = _COMMON + [ctypes.c_int, ctypes.c_int, _FLOAT_P]
        return library
    return None


_LIBRARY = _load_library()


def available():
    """Whether the compiled kernels could be loaded."""
    return _LIBRARY is not None


def _pointer(array, kind):
    return array.ctypes.data_as(kind)


class NativeKernel:
    """Negative-sampling steps on float32 CPU weights, one (center, context) pair at a time.

    Parameters
    ----------
    syn0, syn1neg : numpy.ndarray of float32, shape (V, d), C-contiguous
        Updated in place (share them with torch tensors through ``torch.from_numpy``).
    cum_table : numpy.ndarray of uint32
        gensim's cumulative noise table (:func:`torchw2v.sampling.noise_cum_table`).
    negative : int
        Noise words drawn per pair, fresh for every pair as in gensim.
    """

    def __init__(self, syn0, syn1neg, cum_table, negative):
        if not available():
            raise RuntimeError("the native CPU kernels are not built (reinstall torchw2v with a C compiler)")
        for name, array in (("syn0", syn0), ("syn1neg", syn1neg)):
            if array.dtype != np.float32 or not array.flags.c_contiguous:
                raise ValueError(f"{name} must be a C-contiguous float32 array")
        self.syn0, self.syn1neg = syn0, syn1neg
        self.cum_table = np.ascontiguousarray(cum_table, dtype=np.uint32)
        self.negative = int(negative)
        self.dim = syn0.shape[1]

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
        args = (
            _pointer(self.syn0, _FLOAT_P), _pointer(self.syn1neg, _FLOAT_P), self.dim, len(self.cum_table),
            _pointer(centers, _INT64_P), _pointer(contexts, _INT64_P), len(centers), contexts.shape[1],
            self.negative, _pointer(self.cum_table, _UINT32_P), float(alpha), ctypes.byref(state),
        )
        if sg:
            return _LIBRARY.w2v_skipgram_negative(*args, int(compute_loss), _pointer(work, _FLOAT_P))
        return _LIBRARY.w2v_cbow_negative(*args, int(cbow_mean), int(compute_loss), _pointer(work, _FLOAT_P))
