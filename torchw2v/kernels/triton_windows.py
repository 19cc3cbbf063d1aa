"""The device path's batch making in Triton: a span of the corpus to windows in two kernel launches.

:func:`fused_span_windows` does what :meth:`torchw2v.device_data.DeviceBatches.fill` does with
its torch ops between the random draws: it gathers the span the device cursor points at from
the corpus storage, applies gensim's subsampling, compacts the kept tokens, cuts them into
fixed-shape windows, adds the kept count to the effective words and moves the cursor on. The
torch ops take 19 launches for this (gathers, compares, a cumsum, a scatter, masks and
selects over ``(S, 2 * window)`` temporaries); here it is two:

1. **compaction**, one program: tile after tile of the span, it reads each token's id and
   sentence id (int32, straight from the corpus storage at the cursor), its keep draw and
   reach, keeps the token when ``draw <= threshold[id]`` (gensim's integer rule), and writes
   the ``i``-th kept token's id, sentence and reach to slot ``W + i`` of the compact buffer
   (an in-tile ``cumsum`` plus the count of earlier tiles); slots past the kept tokens get
   ``-1``. One program because the slots depend on every earlier token (a scan): with tiles
   of up to 4096 tokens a span of 16384 takes four passes;
2. **windows**, a program per block of slots: each slot's ``2 * window`` neighbours in the
   compact buffer, nearest first (``-1, +1, -2, +2, ...``), kept where they are of the same
   sentence and within the slot's reach; a slot is a center when its window holds a word
   (one at distance 1 then: sentences are contiguous).

The outputs equal the torch ops' for the same draws, value for value (tested), so the
torch ops stay the reference. Nothing is read back to the host: the cursor, the thresholds
and the counts are device tensors, and the shapes are fixed, so a CUDA graph captures the
launches. On CPU tensors the kernels run only under Triton's interpreter (``TRITON_INTERPRET=1``
set before triton is imported), which is how the tests check them without a GPU.

Traffic per span of ``S`` tokens: the corpus ids and sentence ids (8 bytes a token), the
draws, reach and thresholds (24 bytes), the compact buffer written once and read by the
windows (24 bytes a slot, its rows cached across neighbouring slots) and the outputs
(``8 (1 + 2 W)`` bytes a slot): 168 bytes a token at ``window=5``, where the torch ops move
about 1,150 (their ``(S, 2W)`` int64 and bool temporaries, each written and read again; counted
op by op as ``benchmarks/device_model.py`` counts them).

>>> windows_traffic(span=16384, window=5) // 16384
168
"""
from __future__ import annotations  # the kernels' tl.constexpr annotations stay text until triton wraps them

import functools

import torch

from torchw2v.kernels import triton_available
from torchw2v.kernels.triton_step import _interpreting, _next_power_of_two, _require, compile_kernel

#: triton.language, imported by the kernels' first use (triton fixes ``TRITON_INTERPRET`` at import).
tl = None

#: Largest tile of tokens the compaction program handles in one pass (16 warps, 8 tokens a thread: 126
#: registers on sm_90, where 8192 tokens spill).
COMPACT_TILE = 4096

#: Slots per program of the windows kernel.
WINDOW_SLOTS = 128


def windows_traffic(span, window):
    """Bytes the two kernels move per span: reads and writes of every operand, once each.

    Parameters
    ----------
    span : int
        Tokens per span ``S``.
    window : int
        The largest reach ``W``.
    """
    compaction = span * (8 + 8 + 8 + 8) + span * 3 * 8  # ids and sentences (int32), draw, reach, threshold; compact
    windows = span * 3 * 8 + span * 8 * (1 + 2 * window)  # compact read, centers and contexts written
    return compaction + windows


def _compact_program(storage, storage_stride, cursor_ptr, n_slots, keep_draws, reach, thresholds, compact,
                     compact_stride, effective_ptr, span, WINDOW: tl.constexpr, TILE: tl.constexpr):
    cursor = tl.load(cursor_ptr)
    start = cursor * span
    kept = tl.sum(tl.zeros((TILE,), dtype=tl.int64), axis=0)  # kept tokens of the earlier tiles
    for tile in range(0, span, TILE):
        token = tile + tl.arange(0, TILE)
        inside = token < span
        ids = tl.load(storage + start + token, mask=inside, other=0)
        sentences = tl.load(storage + storage_stride + start + token, mask=inside, other=0)
        draws = tl.load(keep_draws + token, mask=inside, other=1)
        keep = inside & (draws <= tl.load(thresholds + ids, mask=inside, other=0))
        slot = WINDOW + kept + tl.cumsum(keep.to(tl.int64), axis=0) - 1
        tl.store(compact + slot, ids.to(tl.int64), mask=keep)
        tl.store(compact + compact_stride + slot, sentences.to(tl.int64), mask=keep)
        tl.store(compact + 2 * compact_stride + slot, tl.load(reach + token, mask=keep, other=0), mask=keep)
        kept += tl.sum(keep.to(tl.int64), axis=0)
    for tile in range(0, span, TILE):  # the slots past the kept tokens are padding
        position = tile + tl.arange(0, TILE)
        empty = (position < span) & (position >= kept)
        for row in tl.static_range(3):
            tl.store(compact + row * compact_stride + WINDOW + position, tl.full((TILE,), -1, tl.int64), mask=empty)
    tl.debug_barrier()  # every thread has read the cursor before it moves
    tl.store(effective_ptr, tl.load(effective_ptr) + kept)
    tl.store(cursor_ptr, (cursor + 1) % n_slots)


def _windows_program(compact, compact_stride, centers, contexts, contexts_stride, span,
                     WINDOW: tl.constexpr, BLOCK_S: tl.constexpr, BLOCK_C: tl.constexpr, SHRINK: tl.constexpr):
    slot = tl.program_id(0) * BLOCK_S + tl.arange(0, BLOCK_S)  # (S,)
    column = tl.arange(0, BLOCK_C)  # (C,): -1, +1, -2, +2, ...
    distance = column // 2 + 1
    offset = tl.where(column % 2 == 0, -distance, distance)
    rows = slot < span
    cells = rows[:, None] & (column < 2 * WINDOW)[None, :]  # (S, C)
    here = WINDOW + slot
    center = tl.load(compact + here, mask=rows, other=-1)
    sentence = tl.load(compact + compact_stride + here, mask=rows, other=-1)
    neighbour = here[:, None] + offset[None, :]
    neighbour_ids = tl.load(compact + neighbour, mask=cells, other=-1)
    neighbour_sentences = tl.load(compact + compact_stride + neighbour, mask=cells, other=-1)
    valid = cells & (neighbour_sentences == sentence[:, None])
    if SHRINK:
        valid = valid & (distance[None, :] <= tl.load(compact + 2 * compact_stride + here, mask=rows, other=0)[:, None])
    tl.store(contexts + slot[:, None] * contexts_stride + column[None, :], tl.where(valid, neighbour_ids, -1),
             mask=cells)
    has_context = tl.sum((valid & (column < 2)[None, :]).to(tl.int32), axis=1) > 0
    tl.store(centers + slot, tl.where(has_context, center, -1), mask=rows)


@functools.lru_cache(maxsize=None)
def _kernels(interpret):
    """The jitted programs, for the interpreter or the device (``interpret`` keys the cache: triton
    reads ``TRITON_INTERPRET`` when it is imported and when it wraps a function)."""
    global tl
    import triton
    import triton.language as tl

    return triton.jit(_compact_program), triton.jit(_windows_program)


def compact_constants(span, window):
    """Compile-time constants of the compaction program, and its warps.

    >>> compact_constants(16384, 5)
    ({'WINDOW': 5, 'TILE': 4096}, 16)
    """
    tile = min(_next_power_of_two(span), COMPACT_TILE)
    return dict(WINDOW=int(window), TILE=tile), max(1, min(16, tile // 256))


def windows_constants(window, shrink_windows):
    """Compile-time constants of the windows program, and its warps.

    >>> windows_constants(5, True)
    ({'WINDOW': 5, 'BLOCK_S': 128, 'BLOCK_C': 16, 'SHRINK': True}, 4)
    """
    return dict(WINDOW=int(window), BLOCK_S=WINDOW_SLOTS, BLOCK_C=_next_power_of_two(2 * int(window)),
                SHRINK=bool(shrink_windows)), 4


def fused_span_windows(storage, cursor, keep_draws, reach, thresholds, compact, centers, contexts, effective_words,
                       *, window, shrink_windows):
    """Make the span at ``cursor`` into windows, in place, in two kernel launches (no host read).

    Parameters
    ----------
    storage : torch.Tensor of int32, shape (2, T)
        The corpus on the device (:attr:`torchw2v.device_data.DeviceCorpus.storage`): ids, then
        sentence ids, ``T`` a multiple of the span.
    cursor : torch.Tensor of int64, shape (1,)
        Which span of the storage to make (``0 .. T / S - 1``); moved to the next one, modulo.
    keep_draws : torch.Tensor of int64, shape (S,)
        Uniform draws in ``[0, 2**32]``, one per token of the span.
    reach : torch.Tensor of int64, shape (S,)
        Each token's reach, ``1..window`` (read only with ``shrink_windows``).
    thresholds : torch.Tensor of int64, shape (V + 1,)
        gensim's ``sample_int`` per id (``-1``: never kept).
    compact : torch.Tensor of int64, shape (3, S + 2 * window + 1)
        Work buffer: ``-1`` in its first and last ``window + 1`` columns (never written here).
    centers : torch.Tensor of int64, shape (S,)
        Output: the ``i``-th kept token's id in slot ``i`` when its window holds a word, else ``-1``.
    contexts : torch.Tensor of int64, shape (S, 2 * window)
        Output: its context words, nearest first, ``-1`` where none.
    effective_words : torch.Tensor of int64, shape ()
        The kept tokens are added to it.
    window : int
    shrink_windows : bool

    Raises
    ------
    ValueError
        Naming the argument whose shape, dtype or device does not fit.
    RuntimeError
        When triton is missing, or the tensors are on the CPU outside Triton's interpreter.
    """
    if not triton_available():
        raise RuntimeError("fused_span_windows needs triton (pip install triton); the torch ops run without it")
    device, span = keep_draws.device, keep_draws.shape[0]
    w = int(window)
    expected = {"storage": (storage, torch.int32, None), "cursor": (cursor, torch.int64, (1,)),
                "keep_draws": (keep_draws, torch.int64, (span,)), "reach": (reach, torch.int64, (span,)),
                "thresholds": (thresholds, torch.int64, None), "compact": (compact, torch.int64, (3, span + 2 * w + 1)),
                "centers": (centers, torch.int64, (span,)), "contexts": (contexts, torch.int64, (span, 2 * w)),
                "effective_words": (effective_words, torch.int64, ())}
    for name, (tensor, dtype, shape) in expected.items():
        _require(isinstance(tensor, torch.Tensor) and tensor.dtype == dtype and tensor.device == device
                 and (shape is None or tuple(tensor.shape) == shape) and tensor.is_contiguous(),
                 f"{name} must be a contiguous {dtype} tensor{'' if shape is None else f' of shape {shape}'} on "
                 f"{device}, got {getattr(tensor, 'dtype', type(tensor).__name__)} "
                 f"{tuple(getattr(tensor, 'shape', ()))}")
    _require(storage.dim() == 2 and storage.shape[0] == 2 and storage.shape[1] % span == 0,
             f"storage must be (2, T) with T a multiple of the span ({span}), got {tuple(storage.shape)}")
    _require(thresholds.dim() == 1, f"thresholds must be one-dimensional, got {tuple(thresholds.shape)}")
    interpret = _interpreting()
    if device.type != "cuda" and not interpret:
        raise RuntimeError(f"fused_span_windows runs on CUDA tensors, or on CPU tensors under Triton's interpreter "
                           f"(TRITON_INTERPRET=1); got tensors on {device}")
    compact_program, windows_program = _kernels(interpret)
    constants, warps = compact_constants(span, w)
    compact_program[(1,)](storage, storage.stride(0), cursor, storage.shape[1] // span, keep_draws, reach, thresholds,
                          compact, compact.stride(0), effective_words, span, num_warps=warps, **constants)
    constants, warps = windows_constants(w, shrink_windows)
    windows_program[(-(-span // constants["BLOCK_S"]),)](
        compact, compact.stride(0), centers, contexts, contexts.stride(0), span, num_warps=warps, **constants)


#: Argument types of the two programs for ahead-of-time compilation.
COMPACT_SIGNATURE = dict(storage="*i32", storage_stride="i32", cursor_ptr="*i64", n_slots="i32", keep_draws="*i64",
                         reach="*i64", thresholds="*i64", compact="*i64", compact_stride="i32", effective_ptr="*i64",
                         span="i32")
WINDOWS_SIGNATURE = dict(compact="*i64", compact_stride="i32", centers="*i64", contexts="*i64", contexts_stride="i32",
                         span="i32")


def compile_ahead(span, window, shrink_windows=True, capability=90):
    """Compile both programs for a CUDA architecture without a GPU (triton ships ptxas).

    Returns
    -------
    dict
        ``{"compact": CompiledKernel, "windows": CompiledKernel}``.
    """
    compact_program, windows_program = _kernels(False)
    compact, compact_warps = compact_constants(span, window)
    windows, windows_warps = windows_constants(window, shrink_windows)
    return {"compact": compile_kernel(compact_program, COMPACT_SIGNATURE, compact, capability, compact_warps),
            "windows": compile_kernel(windows_program, WINDOWS_SIGNATURE, windows, capability, windows_warps)}
