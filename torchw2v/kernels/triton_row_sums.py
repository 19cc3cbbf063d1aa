"""Capped sums of repeated rows for the fused Triton step: the torch step's update rule in two or three launches.

With ``row_sums=RowSums(...)``, :func:`torchw2v.kernels.triton_step.fused_step` trains a batch as
the torch-op step does (:func:`torchw2v.objectives.skipgram_step` / :func:`~torchw2v.objectives.cbow_step`
with :class:`torchw2v.objectives.RowUpdates`), not Hogwild-style:

1. the step's program adds each update to a *row sum* (a matrix shaped as the weights, zero
   between updates) instead of the weights, counts each row's occurrences, and lists each
   row at its first occurrence, so every score and update of the batch is computed from the
   weights' values before it;
2. skip-gram with the Newton bound (:meth:`torchw2v.objectives.RowUpdates.newton_bound`): a
   second pass of the program adds, for each context occurrence, its loss's slope and curvature
   along its row's capped summed step;
3. :func:`RowSums.apply` (one launch for all matrices) adds each listed row's sum to the row,
   times ``min(1, cap / n)`` for a row that occurred ``n`` times, and times the Newton step
   ``min(1, Σ slope / Σ curvature)`` for an input row that occurred at least twice; it zeroes
   the sums, counts and terms it read, marks the list entries it applied ``-1`` (a list ends
   at its first ``-1``) and resets the lists' lengths.

The result is the torch step's up to the order of float additions, except that a center that
trains nothing (padding, or without context words) counts no repeats of its output rows (the
torch step counts its zero updates). The kernels read nothing back to the host and keep fixed
shapes: the ``apply`` grid covers the most rows an update can touch, and programs past the
list's length (read on the device) do nothing. Per center that moves each row once more than
the Hogwild kernel, in the sums, plus the listed rows' sums once; the torch-op step moves its
rows through six or more temporaries.

>>> import torch
>>> sums = RowSums(torch.zeros(4, 2), caps=(2.0, None, None))
>>> sums.syn0.sums.shape, sums.syn0.cap, sums.syn1neg
(torch.Size([4, 2]), 2.0, None)
"""
from __future__ import annotations  # the kernel's tl.constexpr annotations stay text until triton wraps it

import functools
from dataclasses import dataclass

import torch

#: triton.language, imported by the kernel's first use (see :mod:`torchw2v.kernels.triton_step`).
tl = None

#: The smallest normal float32: the least curvature the Newton bound divides by.
FLOAT32_TINY = float(torch.finfo(torch.float32).tiny)


def _apply_rows(weights, sums, counts, touched, terms, cap, n_rows, block, dim,
                BLOCK_R: tl.constexpr, BLOCK_D: tl.constexpr, BOUND: tl.constexpr, TINY: tl.constexpr):
    """Apply the listed rows ``block * BLOCK_R ...`` of one matrix; reset their sums, counts, terms and
    list entries (-1: the end of the list)."""
    slot = block * BLOCK_R + tl.arange(0, BLOCK_R)
    row = tl.load(touched + slot, mask=slot < n_rows, other=-1)
    live = row >= 0
    row = tl.maximum(row, 0)
    repeats = tl.load(counts + row, mask=live, other=1).to(tl.float32)
    scale = tl.minimum(cap / repeats, 1.0)
    if BOUND:
        slope = tl.load(terms + 2 * row, mask=live, other=0.0)
        curvature = tl.load(terms + 2 * row + 1, mask=live, other=1.0)
        newton = tl.minimum(slope / tl.maximum(curvature, TINY), 1.0)
        scale *= tl.where(repeats >= 2.0, newton, 1.0)
        tl.store(terms + 2 * row, tl.zeros_like(slope), mask=live)
        tl.store(terms + 2 * row + 1, tl.zeros_like(slope), mask=live)
    col = tl.arange(0, BLOCK_D)
    at = row[:, None] * dim + col[None, :]
    inside = live[:, None] & (col < dim)[None, :]
    total = tl.load(sums + at, mask=inside, other=0.0)
    tl.store(weights + at, tl.load(weights + at, mask=inside, other=0.0) + total * scale[:, None], mask=inside)
    tl.store(sums + at, tl.zeros_like(total), mask=inside)
    tl.store(counts + row, tl.zeros_like(row).to(tl.int32), mask=live)
    tl.store(touched + slot, tl.full(slot.shape, -1, tl.int64), mask=live)


def _apply_program(weights0, sums0, counts0, touched0, cap0, rows0, blocks0,
                   weights1, sums1, counts1, touched1, cap1, rows1, blocks1,
                   weights2, sums2, counts2, touched2, cap2, rows2, terms, n_touched, dim,
                   BLOCK_R: tl.constexpr, BLOCK_D: tl.constexpr, BOUND: tl.constexpr, TINY: tl.constexpr):
    # Programs [0, blocks0) apply syn0's list, the next blocks1 syn1neg's, the rest syn1's. The lists
    # end at their first -1, so the lengths are not read here and program 0 resets them for the next update.
    block = tl.program_id(0)
    if block == 0:
        lane = tl.arange(0, 4)
        tl.store(n_touched + lane, tl.zeros_like(lane), mask=lane < 3)
    if block < blocks0:
        _apply_rows(weights0, sums0, counts0, touched0, terms, cap0, rows0, block, dim, BLOCK_R, BLOCK_D, BOUND, TINY)
    elif block < blocks0 + blocks1:
        _apply_rows(weights1, sums1, counts1, touched1, terms, cap1, rows1, block - blocks0, dim, BLOCK_R, BLOCK_D,
                    False, TINY)
    else:
        _apply_rows(weights2, sums2, counts2, touched2, terms, cap2, rows2, block - blocks0 - blocks1, dim, BLOCK_R,
                    BLOCK_D, False, TINY)


_APPLY_ROWS = _apply_rows


@functools.lru_cache(maxsize=None)
def _kernel(interpret):
    """The jitted apply program (see :func:`torchw2v.kernels.triton_step._kernel` on ``interpret``)."""
    global tl, _apply_rows
    import triton
    import triton.language as tl

    _apply_rows = triton.jit(_APPLY_ROWS)  # the program's helper, called by its global name
    return triton.jit(_apply_program)


@dataclass
class RowSumBuffer:
    """One matrix's row sums, occurrence counts and list of rows touched in the current update.

    Attributes
    ----------
    weights : torch.Tensor, shape (R, d)
    sums : torch.Tensor, shape (R, d)
    counts : torch.Tensor of int32, shape (R,)
    touched : torch.Tensor of int64, shape (R,)
        The rows touched in the current update, then -1.
    cap : float
        Occurrences applied at full strength (``inf``: every update summed).
    """

    weights: torch.Tensor
    sums: torch.Tensor
    counts: torch.Tensor
    touched: torch.Tensor
    cap: float

    @classmethod
    def allocate(cls, weights, cap):
        if not weights.is_contiguous():
            raise ValueError(f"RowSums needs contiguous weights, got strides {weights.stride()}")
        rows = weights.shape[0]
        return cls(weights, torch.zeros_like(weights, memory_format=torch.contiguous_format),
                   torch.zeros(rows, dtype=torch.int32, device=weights.device),
                   torch.full((rows,), -1, dtype=torch.int64, device=weights.device), float(cap))


class RowSums:
    """The workspace of the fused step's capped updates, allocated once for a set of weights.

    Parameters
    ----------
    syn0 : torch.Tensor of float32, shape (V, d)
    syn1neg, syn1 : torch.Tensor of float32, optional
        The output matrices the step trains (None: not trained).
    caps : tuple of (float or None)
        The repeat caps of ``syn0``, ``syn1neg`` and ``syn1`` (as :class:`torchw2v.objectives.RowUpdates`'s
        ``cap`` and ``caps``); None for a matrix that is not trained.
    newton_bound : bool, optional
        Bound each repeated input row's step by the Newton step along it (skip-gram only).

    Notes
    -----
    Each trained matrix gets a sum matrix of its own shape (the weights' memory again), and
    ``syn0`` with the bound a ``(V, 2)`` float32 matrix of line terms.
    """

    def __init__(self, syn0, syn1neg=None, syn1=None, caps=(None, None, None), newton_bound=False):
        self.syn0, self.syn1neg, self.syn1 = (
            None if matrix is None or cap is None else RowSumBuffer.allocate(matrix, cap)
            for matrix, cap in zip((syn0, syn1neg, syn1), caps))
        if self.syn0 is None:
            raise ValueError("RowSums needs syn0 and its cap")
        self.newton_bound = bool(newton_bound)
        self.terms = torch.zeros(syn0.shape[0], 2, dtype=torch.float32, device=syn0.device) if newton_bound else None
        self.n_touched = torch.zeros(3, dtype=torch.int32, device=syn0.device)

    def buffers(self):
        """The matrices' buffers in the order syn0, syn1neg, syn1 (None where not trained)."""
        return self.syn0, self.syn1neg, self.syn1

    def apply(self, most_rows, interpret):
        """Add each touched row's capped (and bounded) sum to its weights, reset the workspace (one launch).

        Parameters
        ----------
        most_rows : tuple of int
            The most rows of ``syn0``, ``syn1neg`` and ``syn1`` the update can have touched
            (its occurrences): the launch covers that many list entries of each.
        interpret : bool
            Triton's interpreter is on.
        """
        dim = self.syn0.weights.shape[1]
        constants = _constants(dim, self.newton_bound)
        arguments, blocks = [], []
        for buffer, bound in zip(self.buffers(), most_rows):
            buffer = buffer or self.syn0  # an absent matrix (bound 0): syn0's buffer stands in, never read
            rows = min(buffer.weights.shape[0], bound)
            arguments.append((buffer.weights, buffer.sums, buffer.counts, buffer.touched, buffer.cap, rows))
            blocks.append(-(-rows // constants["BLOCK_R"]))
        syn0, syn1neg, syn1 = arguments
        _kernel(interpret)[(max(1, sum(blocks)),)](
            *syn0, blocks[0], *syn1neg, blocks[1], *syn1, self.terms if self.newton_bound else self.syn0.weights,
            self.n_touched, dim, num_warps=4, **constants)


def row_sums_bytes_per_center(dim, rows_read, input_rows, distinct_rows, bound, value_bytes=4):
    """Bytes the row sums move per center on top of the Hogwild step's (``bytes_per_center``).

    The step adds each update to a sum instead of its row (a read and a write of the sum, and a
    4-byte count, where the Hogwild step writes the row); the apply kernel reads a list entry per
    occurrence (8 bytes), and for each distinct row reads its sum, reads and writes the row and
    zeroes the sum; skip-gram's bound reads the center's rows again and each input row's sum.

    Parameters
    ----------
    dim : int
    rows_read : float
        Rows per center (context and output rows, as ``bytes_per_center``).
    input_rows : float
        Context rows per center.
    distinct_rows : float
        Distinct rows of all matrices per update, divided by the update's centers.
    bound : bool
        Skip-gram's Newton bound (its second pass).
    value_bytes : int, optional

    Examples
    --------
    >>> row_sums_bytes_per_center(100, 26, 6, 4, bound=False)
    17232
    """
    row = dim * value_bytes
    extra = rows_read * (row + 2 * 4 + 8) + distinct_rows * (4 * row + 4)
    if bound:
        extra += (rows_read + input_rows) * row + input_rows * 4 * 4
    return round(extra)


#: Argument types of the apply kernel for ahead-of-time compilation.
_SIGNATURE = {f"{name}{index}": kind for index in range(3) for name, kind in
              (("weights", "*fp32"), ("sums", "*fp32"), ("counts", "*i32"), ("touched", "*i64"), ("cap", "fp32"),
               ("rows", "i32"), ("blocks", "i32"))}
del _SIGNATURE["blocks2"]
_SIGNATURE.update(terms="*fp32", n_touched="*i32", dim="i32")


def compile_ahead(dim=100, bound=False, capability=90):
    """Compile the apply kernel for a CUDA architecture without a GPU (see
    :func:`torchw2v.kernels.triton_step.compile_kernel`; Triton's interpreter off).

    Returns
    -------
    triton.compiler.CompiledKernel
    """
    from torchw2v.kernels.triton_step import compile_kernel

    return compile_kernel(_kernel(False), _SIGNATURE, _constants(dim, bound), capability, 4)


def _constants(dim, bound):
    """The apply kernel's compile-time constants: blocks of 2048 floats (16 rows at ``d <= 128``)."""
    block_d = 1 << max(dim - 1, 0).bit_length()
    return dict(BLOCK_R=max(1, 2048 // block_d), BLOCK_D=block_d, BOUND=bool(bound), TINY=FLOAT32_TINY)
