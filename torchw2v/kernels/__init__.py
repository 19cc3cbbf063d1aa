"""Fused device kernels for the training step; the torch-op step of :mod:`torchw2v.objectives` is their reference.

:mod:`torchw2v.kernels.triton_step` holds the fused CUDA step in Triton. Importing this
package imports neither torch nor triton; :func:`triton_available` tries triton's import.

>>> isinstance(triton_available(), bool)
True
"""
import functools
import logging

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=None)
def triton_available():
    """Whether triton imports here (the fused step's requirement), logging why not."""
    try:
        import triton  # noqa: F401
    except ImportError as error:
        logger.debug("triton is not available: %s", error)
        return False
    return True
