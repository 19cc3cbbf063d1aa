"""Fused device kernels for the training step; the torch-op step of :mod:`torchw2v.objectives` is their reference.

:mod:`torchw2v.kernels.triton_step` holds the fused CUDA step in Triton. Neither this package
nor that module imports triton (the kernel's first use does): triton fixes its interpreter
setting, ``TRITON_INTERPRET``, when it is imported.

>>> isinstance(triton_available(), bool)
True
"""
import functools
import importlib.util


@functools.lru_cache(maxsize=None)
def triton_available():
    """Whether triton is installed (found without importing it)."""
    return importlib.util.find_spec("triton") is not None
