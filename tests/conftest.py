"""Shared set-up of the test suite: Triton's interpreter for the kernel tests on a CPU-only machine.

Without a CUDA device the Triton kernels run in Triton's interpreter (``TRITON_INTERPRET=1``) on
CPU tensors. triton fixes that setting when it is imported, and other code imports it too
(``torch.profiler`` does when it runs), so this file imports triton once, before any test runs,
under the setting, and restores the environment at once; the ``triton_interpreter`` fixture sets
it again for a kernel's first use.
"""
import importlib.util
import os
import sys

import pytest
import torch

if not torch.cuda.is_available() and importlib.util.find_spec("triton") is not None and "triton" not in sys.modules:
    _environment = os.environ.get("TRITON_INTERPRET")
    os.environ["TRITON_INTERPRET"] = "1"
    try:
        import triton  # noqa: F401  (its language functions are wrapped for the interpreter now)
    finally:
        if _environment is None:
            del os.environ["TRITON_INTERPRET"]
        else:
            os.environ["TRITON_INTERPRET"] = _environment


@pytest.fixture
def triton_interpreter(monkeypatch):
    """Without CUDA, run Triton kernels in Triton's interpreter (on CPU tensors)."""
    if not torch.cuda.is_available():
        monkeypatch.setenv("TRITON_INTERPRET", "1")
        if "triton" in sys.modules:  # its language functions were wrapped at import, for the interpreter or not
            from triton.runtime.interpreter import InterpretedFunction

            if not isinstance(sys.modules["triton"].language.sum, InterpretedFunction):
                pytest.fail("triton was imported without TRITON_INTERPRET=1 before these tests")
