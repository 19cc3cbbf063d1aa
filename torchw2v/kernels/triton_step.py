"""The fused training step in Triton: one program per center word (or small group), updating the weights in place.

:func:`fused_step` is :func:`torchw2v.objectives.skipgram_step` / :func:`~torchw2v.objectives.cbow_step`
with the SGD rule in one kernel launch. Each program:

1. loads its center, context ids and noise words (or the center's Huffman path);
2. loads the center's output rows once: the true word and its ``K`` noise words from
   ``syn1neg`` and/or the inner nodes of its path from ``syn1`` (``T = K + 1`` and/or ``L``
   rows, one ``(T + L, d)`` block in registers);
3. skip-gram: streams the context rows through, one at a time: scores against the output
   block, the context row's update (from the output rows' starting values) atomically added
   to ``syn0`` at once, the output rows' updates accumulated in registers;
   CBOW: loads the context rows, forms the hidden vector (mean or sum), scores it, and adds
   the hidden vector's update to every context row (divided by the context count with
   ``cbow_mean=0``, as gensim and :func:`~torchw2v.objectives.cbow_step`);
4. adds the output rows' accumulated updates with atomic adds, and its loss to ``loss``.

Nothing is read back to the host: the learning rate is a 0-d device tensor read by the
kernel, the shapes are fixed per configuration, so the launch can be captured in a CUDA
graph. On CPU tensors the kernel runs only under Triton's interpreter (``TRITON_INTERPRET=1``
set before the first call), which is how the tests check it on a machine without a GPU.

Race semantics
--------------
Within one program every score and update is computed from the rows' values when the program
read them, exactly as the batched reference does for a whole batch; so a step in which no row
repeats equals the reference's. Between programs nothing is locked, as in Hogwild (and gensim's
worker threads): a program reads rows with plain loads and writes its updates with relaxed
per-element atomic adds (fire-and-forget ``REDG`` on sm_90, no fences), so no update is lost,
and updates of a row shared by several programs are summed, with no repeat cap. When the
programs run in grid order, one after another (Triton's interpreter does this), a program sees
every update of the programs before it: sequential per-center SGD, as word2vec.c. On a GPU, the
programs in flight at one time read each other's rows before or during their updates: on an H100
(132 SMs, 64K registers each) about 800 centers for skip-gram with negative sampling at
``d = 100`` (6 programs of 4 warps at 80 registers per SM), 400 for CBOW, 130 with hierarchical
softmax; the staleness of a read is bounded by that window, not by the batch size, and a row
read while another program adds to it sees some elements before and some after the add (never a
torn float). The batched torch step needs its repeat cap because every one of a row's ``n``
updates in a batch comes from the same stale value; here only the updates of programs in flight
together share a starting value. ``centers_per_program=G`` makes that explicit: the ``G``
centers of one program share their starting values, each missing the others' updates about as a
GPU program misses those of the programs in flight beside it. Without a cap, skip-gram on
text8-head trains to gensim's quality at ``G = 1024`` and diverges at 2048, CBOW holds up to 4096
(``benchmarks/device_quality.py --cap inf`` measures it with the equivalent torch step; see the README).
``max_programs=P`` bounds the window on any GPU: ``P`` programs, each training its share of the
batch one group after another.

Memory traffic
--------------
Per center the kernel reads its ``r`` context rows and ``o`` output rows once and writes
each once (an atomic add is a read-modify-write in L2; the line it modifies was brought in by
the program's own read), plus its ids: :func:`bytes_per_center` gives
``2 (r + o) 4 d`` plus the ids, against the physical minimum ``2 (r + o) 4 d``. With
``d = 100, K = 5`` and an average of 6 context words that is 9,728 bytes against 9,600 (the
torch-op step moved about 57 KB); rows of 400 bytes occupy 13 or 14 32-byte sectors, so the
DRAM traffic is up to 12% above the byte count.

>>> kernel, minimum = bytes_per_center(dim=100, rows_read=6 + 6, id_bytes=8 * (1 + 10 + 5))
>>> kernel, minimum
(9728, 9600)
"""
from __future__ import annotations  # the kernel's tl.constexpr annotations stay text until triton wraps it

import functools
import logging
import os

import torch

from torchw2v.kernels import triton_available

logger = logging.getLogger(__name__)

#: triton and triton.language, imported by the kernel's first use: triton fixes its interpreter
#: setting (``TRITON_INTERPRET``) at import, so importing this module must not import it.
triton = tl = None


def bytes_per_center(dim, rows_read, id_bytes, value_bytes=4):
    """Bytes the fused step moves per center, and the physical minimum.

    Parameters
    ----------
    dim : int
        Vector size ``d``.
    rows_read : float
        Rows read per center: its (average) context rows plus its output rows (``K + 1``
        for negative sampling, the path length for hierarchical softmax).
    id_bytes : int
        Bytes of ids read per center (center, ``C`` context ids, ``K`` noise ids or the
        path's points and codes).
    value_bytes : int, optional
        Bytes per weight (4 for float32).

    Returns
    -------
    tuple of int
        ``(kernel bytes, minimum bytes)``: every row read once and written once, plus the ids;
        and the rows alone.
    """
    rows = round(2 * rows_read * dim * value_bytes)
    return rows + id_bytes, rows


def _count_rows(rows, mask, counts, touched, n_touched):
    """Count an occurrence of each row (where ``mask``); a row's first occurrence in the update
    also appends it to the ``touched`` list, whose length is at ``n_touched``."""
    before = tl.atomic_add(counts + rows, 1, mask=mask, sem="relaxed")
    first = mask & (before == 0)
    position = tl.atomic_add(n_touched + tl.zeros_like(rows), 1, mask=first, sem="relaxed")
    tl.store(touched + position, rows, mask=first)


def _fused_step_program(
        syn0, syn1neg, syn1, centers, contexts, negatives, points, codes, path_lengths, lockf, lr_ptr,
        loss_ptr, syn0_out, syn1neg_out, syn1_out, counts0, counts1neg, counts1, touched0, touched1neg, touched1,
        n_touched, terms0, cap0, n_centers, dim, syn0_stride, syn1neg_stride, syn1_stride, contexts_stride,
        negatives_stride, points_stride, codes_stride,
        N_CONTEXT: tl.constexpr, N_NEGATIVE: tl.constexpr, PATH_DEPTH: tl.constexpr,
        BLOCK_D: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_O: tl.constexpr, GROUP: tl.constexpr,
        SKIP_GRAM: tl.constexpr, CBOW_MEAN: tl.constexpr, NEGATIVE: tl.constexpr, HS: tl.constexpr,
        HAS_LOCKF: tl.constexpr, HAS_LOSS: tl.constexpr, ACCUMULATE: tl.constexpr, LINE_TERMS: tl.constexpr):
    # The updates go to ``*_out``: the weights themselves (Hogwild), or with ACCUMULATE the row sums of
    # torchw2v.kernels.triton_row_sums, with each row's occurrences counted (applied capped afterwards).
    # LINE_TERMS (skip-gram, a second pass over the same batch, the weights not yet updated): each context
    # occurrence's slope and curvature along its row's capped summed step, added to ``terms0``.
    col = tl.arange(0, BLOCK_D)
    in_dim = (col < dim)[None, None, :]  # (1, 1, D)
    slot = tl.arange(0, BLOCK_O)[None, :]  # (1, O)
    lr = tl.load(lr_ptr).to(tl.float32)
    # A program trains groups pid, pid + programs, ... one after another (a single group when the
    # grid has a program per group; fewer programs bound the centers in flight).
    for group_index in range(tl.program_id(0), tl.cdiv(n_centers, GROUP), tl.num_programs(0)):
        member = group_index * GROUP + tl.arange(0, GROUP)  # (G,)
        center = tl.load(centers + member, mask=member < n_centers, other=-1).to(tl.int64)
        active = center >= 0
        # Output slots o of a center: 0..K negative sampling (true word, then noise), then the
        # Huffman path; the tensors are (GROUP, BLOCK_O, BLOCK_D) blocks of rows.
        labels = tl.zeros((GROUP, BLOCK_O), dtype=tl.float32)
        trained = tl.zeros((GROUP, BLOCK_O), dtype=tl.int1)
        outputs = tl.zeros((GROUP, BLOCK_O, BLOCK_D), dtype=tl.float32)
        n_neg_slots = 0
        if NEGATIVE:
            n_neg_slots = N_NEGATIVE + 1
            noise = tl.load(negatives + member[:, None].to(tl.int64) * negatives_stride + (slot - 1),
                            mask=active[:, None] & (slot >= 1) & (slot <= N_NEGATIVE), other=-1).to(tl.int64)
            neg_rows = tl.where(slot == 0, center[:, None], noise)  # (G, O)
            neg_trained = active[:, None] & (slot <= N_NEGATIVE) & ((slot == 0) | (neg_rows != center[:, None]))
            outputs += tl.load(syn1neg + neg_rows[:, :, None] * syn1neg_stride + col[None, None, :],
                               mask=neg_trained[:, :, None] & in_dim, other=0.0)
            labels = tl.where(slot == 0, 1.0, labels)
            trained = trained | neg_trained
        if HS:
            depth = slot - n_neg_slots  # (1, O): position on the path
            length = tl.load(path_lengths + center, mask=active, other=0)  # (G,)
            on_path = active[:, None] & (depth >= 0) & (depth < length[:, None]) & (depth < PATH_DEPTH)
            node = tl.load(points + center[:, None] * points_stride + depth, mask=on_path, other=0).to(tl.int64)
            code = tl.load(codes + center[:, None] * codes_stride + depth, mask=on_path, other=0).to(tl.float32)
            outputs += tl.load(syn1 + node[:, :, None] * syn1_stride + col[None, None, :],
                               mask=on_path[:, :, None] & in_dim, other=0.0)
            labels = tl.where(on_path, 1.0 - code, labels)
            trained = trained | on_path

        c = tl.arange(0, BLOCK_C)[None, :]  # (1, C)
        context = tl.load(contexts + member[:, None].to(tl.int64) * contexts_stride + c,
                          mask=active[:, None] & (c < N_CONTEXT), other=-1).to(tl.int64)  # (G, C)
        valid = context >= 0
        n_valid = tl.sum(valid.to(tl.int32), axis=1)  # (G,)
        trained = trained & (n_valid > 0)[:, None]
        weight = trained.to(tl.float32) * lr  # (G, O)
        accumulated = tl.zeros((GROUP, BLOCK_O, BLOCK_D), dtype=tl.float32)
        loss = tl.zeros((GROUP, BLOCK_O), dtype=tl.float32)
        if SKIP_GRAM:
            for j in range(N_CONTEXT):
                word = tl.load(contexts + member.to(tl.int64) * contexts_stride + j, mask=active,
                               other=-1).to(tl.int64)  # (G,)
                present = word >= 0
                vector = tl.load(syn0 + word[:, None] * syn0_stride + col[None, :],
                                 mask=present[:, None] & (col < dim)[None, :], other=0.0)  # (G, D)
                score = tl.sum(outputs * vector[:, None, :], axis=2)  # (G, O)
                if LINE_TERMS:
                    repeats = tl.load(counts0 + word, mask=present, other=1).to(tl.float32)
                    step = tl.load(syn0_out + word[:, None] * syn0_stride + col[None, :],
                                   mask=present[:, None] & (col < dim)[None, :], other=0.0)
                    step *= tl.minimum(cap0 / repeats, 1.0)[:, None]  # the row's capped summed step
                    along = tl.sum(outputs * step[:, None, :], axis=2)  # (G, O)
                    fit = 1.0 / (1.0 + tl.exp(-score))
                    on = (trained & present[:, None]).to(tl.float32)
                    tl.atomic_add(terms0 + 2 * word, tl.sum((labels - fit) * along * on, axis=1), mask=present,
                                  sem="relaxed")
                    tl.atomic_add(terms0 + 2 * word + 1, tl.sum(fit * (1.0 - fit) * along * along * on, axis=1),
                                  mask=present, sem="relaxed")
                else:
                    pair = weight * present[:, None].to(tl.float32)
                    g = (labels - 1.0 / (1.0 + tl.exp(-score))) * pair
                    delta = tl.sum(g[:, :, None] * outputs, axis=1)  # (G, D)
                    if HAS_LOCKF:
                        delta *= tl.load(lockf + word, mask=present, other=0.0).to(tl.float32)[:, None]
                    tl.atomic_add(syn0_out + word[:, None] * syn0_stride + col[None, :], delta,
                                  mask=present[:, None] & (col < dim)[None, :], sem="relaxed")
                    if ACCUMULATE:
                        _count_rows(word, present, counts0, touched0, n_touched)
                    accumulated += g[:, :, None] * vector[:, None, :]
                if HAS_LOSS:
                    signed = tl.where(labels > 0, score, -score)
                    log_sigmoid = tl.minimum(signed, 0.0) - tl.log(1.0 + tl.exp(-tl.abs(signed)))
                    loss += tl.where(trained & present[:, None], -log_sigmoid, 0.0)
        else:
            rows = tl.load(syn0 + context[:, :, None] * syn0_stride + col[None, None, :],
                           mask=valid[:, :, None] & in_dim, other=0.0)  # (G, C, D)
            count = tl.maximum(n_valid, 1).to(tl.float32)[:, None]  # (G, 1)
            hidden = tl.sum(rows, axis=1)  # (G, D)
            if CBOW_MEAN:
                hidden = hidden / count
            score = tl.sum(outputs * hidden[:, None, :], axis=2)  # (G, O)
            g = (labels - 1.0 / (1.0 + tl.exp(-score))) * weight
            delta = tl.sum(g[:, :, None] * outputs, axis=1)  # (G, D): each context row's update with the mean
            if CBOW_MEAN:
                deltas = tl.where(valid[:, :, None], delta[:, None, :], 0.0)  # (G, C, D)
            else:  # gensim divides the sum's update by the context count
                deltas = tl.where(valid[:, :, None], (delta / count)[:, None, :], 0.0)
            if HAS_LOCKF:
                deltas *= tl.load(lockf + context, mask=valid, other=0.0).to(tl.float32)[:, :, None]
            tl.atomic_add(syn0_out + context[:, :, None] * syn0_stride + col[None, None, :], deltas,
                          mask=valid[:, :, None] & in_dim, sem="relaxed")
            if ACCUMULATE:
                _count_rows(context, valid, counts0, touched0, n_touched)
            accumulated = g[:, :, None] * hidden[:, None, :]
            if HAS_LOSS:
                signed = tl.where(labels > 0, score, -score)
                log_sigmoid = tl.minimum(signed, 0.0) - tl.log(1.0 + tl.exp(-tl.abs(signed)))
                loss = tl.where(trained, -log_sigmoid, 0.0)

        if NEGATIVE and not LINE_TERMS:
            neg_updated = trained & (slot < n_neg_slots)
            tl.atomic_add(syn1neg_out + neg_rows[:, :, None] * syn1neg_stride + col[None, None, :], accumulated,
                          mask=neg_updated[:, :, None] & in_dim, sem="relaxed")
            if ACCUMULATE:
                _count_rows(neg_rows, neg_updated, counts1neg, touched1neg, n_touched + 1)
        if HS and not LINE_TERMS:
            tl.atomic_add(syn1_out + node[:, :, None] * syn1_stride + col[None, None, :], accumulated,
                          mask=(trained & on_path)[:, :, None] & in_dim, sem="relaxed")
            if ACCUMULATE:
                _count_rows(node, trained & on_path, counts1, touched1, n_touched + 2)
        if HAS_LOSS:
            tl.atomic_add(loss_ptr, tl.sum(tl.sum(loss, axis=1), axis=0).to(loss_ptr.dtype.element_ty),
                          sem="relaxed")


_COUNT_ROWS = _count_rows


@functools.lru_cache(maxsize=None)
def _kernel(interpret):
    """The jitted program, for Triton's interpreter or for the device (``interpret``: Triton reads
    ``TRITON_INTERPRET`` when it is imported and when it wraps a function, so both happen here,
    on first use, after the caller's setting)."""
    global triton, tl, _count_rows
    import triton
    import triton.language as tl

    _count_rows = triton.jit(_COUNT_ROWS)  # the program's helper, called by its global name
    return triton.jit(_fused_step_program)


def _interpreting():
    return os.environ.get("TRITON_INTERPRET", "0").lower() in ("1", "true", "on", "yes")


def _next_power_of_two(n):
    return 1 << max(int(n) - 1, 0).bit_length()


def _require(condition, message):
    if not condition:
        raise ValueError(message)


def _check_ids(name, tensor, dim, device):
    _require(isinstance(tensor, torch.Tensor) and tensor.dim() == dim and not tensor.is_floating_point()
             and not tensor.is_complex() and tensor.dtype != torch.bool,
             f"{name} must be a {dim}-d integer tensor, got "
             f"{tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__}"
             f"{' ' + str(tensor.dtype) if isinstance(tensor, torch.Tensor) else ''}")
    _require(tensor.device == device, f"{name} is on {tensor.device}, syn0 on {device}")
    _require(dim == 1 and tensor.is_contiguous() or dim == 2 and tensor.stride(1) == 1,
             f"{name} must have contiguous rows")


def _check_weights(name, tensor, dim, device):
    _require(isinstance(tensor, torch.Tensor) and tensor.dim() == 2 and tensor.dtype == torch.float32,
             f"{name} must be a 2-d float32 tensor, got "
             f"{tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__}"
             f"{' ' + str(tensor.dtype) if isinstance(tensor, torch.Tensor) else ''}")
    _require(tensor.shape[1] == dim, f"{name} has rows of {tensor.shape[1]}, syn0 of {dim}")
    _require(tensor.device == device, f"{name} is on {tensor.device}, syn0 on {device}")
    _require(tensor.stride(1) == 1, f"{name} must have contiguous rows")


def fused_step(syn0, centers, contexts, lr, *, sg, cbow_mean, syn1neg=None, negatives=None, syn1=None,
               points=None, codes=None, path_lengths=None, lockf=None, loss=None, centers_per_program=1,
               max_programs=None, num_warps=None, row_sums=None):
    """One skip-gram or CBOW step on a batch of windows in one kernel launch, in place.

    The SGD step of :func:`torchw2v.objectives.skipgram_step` and
    :func:`~torchw2v.objectives.cbow_step`: equal to them when no row repeats in the batch;
    repeats are summed without a cap (see the module's race semantics), or with ``row_sums``
    capped as theirs, in one or two more launches. Only tensor metadata is checked: nothing is
    read back to the host.

    Parameters
    ----------
    syn0 : torch.Tensor of float32, shape (V, d)
        Input vectors, updated in place.
    centers : torch.Tensor of int64 or int32, shape (B,)
        Center words; ``-1`` marks padding (that center does nothing).
    contexts : torch.Tensor of int64 or int32, shape (B, C)
        Context words, ``-1`` where none. A CBOW center without context words is not trained
        (as gensim; the reference would count the loss of its zero hidden vector). Skip-gram
        streams the columns in order, so a word repeated in one window is read the second time
        with its first update applied (the reference sums both from the starting value).
    lr : torch.Tensor of float32, shape ()
        The learning rate, on the device (read by the kernel).
    sg : bool
        Skip-gram (else CBOW).
    cbow_mean : bool
        CBOW's hidden vector is the mean of the context rows (else their sum, and the update
        each context row receives is divided by their count, as gensim's ``cbow_mean=0``).
    syn1neg : torch.Tensor of float32, shape (V', d), optional
        Negative-sampling output rows, updated in place; with ``negatives``.
    negatives : torch.Tensor of int64 or int32, shape (B, K), optional
        Noise words drawn by the caller; a noise word equal to its center is not trained.
    syn1 : torch.Tensor of float32, shape (V - 1, d), optional
        Hierarchical-softmax inner-node rows, updated in place; with ``points``, ``codes``
        and ``path_lengths`` (:class:`torchw2v.huffman.PaddedTree` on the device).
    points : torch.Tensor of int64 or int32, shape (V, L), optional
    codes : torch.Tensor, shape (V, L), optional
        Huffman codes (float or integer); the label of a node is ``1 - code``.
    path_lengths : torch.Tensor of int, shape (V,), optional
    lockf : torch.Tensor of float32, shape (V,), optional
        Multiplier of each ``syn0`` row's updates (gensim's ``vectors_lockf``; 0 freezes a row).
    loss : torch.Tensor of float32 or float64, shape (), optional
        The summed loss of the trained pairs is added to it (atomically).
    centers_per_program : int, optional
        Centers handled by one program, sharing their starting values (a power of two;
        1 on a GPU; larger groups make Triton's interpreter faster).
    max_programs : int, optional
        Launch at most this many programs, each training its groups of centers one after another:
        this bounds the centers in flight (the staleness of a read) on any GPU. Default: a program
        per group.
    num_warps : int, optional
        Warps per program on a GPU (default: :func:`default_num_warps`).
    row_sums : torchw2v.kernels.triton_row_sums.RowSums, optional
        Train as the torch-op step does, repeated rows summed up to their caps from the values
        before the step (see :mod:`torchw2v.kernels.triton_row_sums`), in one more launch (two
        with its Newton bound); its matrices must be the ones given here.

    Raises
    ------
    ValueError
        Naming the argument whose shape, dtype or device does not fit, or when neither
        objective is given.
    RuntimeError
        When triton is missing, or the tensors are on the CPU outside Triton's interpreter.
    """
    if not triton_available():
        raise RuntimeError("fused_step needs triton (pip install triton); the torch-op step runs without it")
    _require(isinstance(syn0, torch.Tensor), f"syn0 must be a tensor, got {type(syn0).__name__}")
    device = syn0.device
    _check_weights("syn0", syn0, syn0.shape[1] if syn0.dim() == 2 else -1, device)
    vocab, dim = syn0.shape
    _check_ids("centers", centers, 1, device)
    _check_ids("contexts", contexts, 2, device)
    _require(contexts.shape[0] == centers.shape[0],
             f"contexts must be (B, C) with B = len(centers) = {centers.shape[0]}, got {tuple(contexts.shape)}")
    _require(isinstance(lr, torch.Tensor) and lr.dim() == 0 and lr.dtype == torch.float32 and lr.device == device,
             f"lr must be a 0-d float32 tensor on {device} (read by the kernel), got {lr!r}")
    negative = syn1neg is not None or negatives is not None
    if negative:
        _require(syn1neg is not None and negatives is not None, "negative sampling needs both syn1neg and negatives")
        _check_weights("syn1neg", syn1neg, dim, device)
        _check_ids("negatives", negatives, 2, device)
        _require(negatives.shape[0] == centers.shape[0],
                 f"negatives must be (B, K) with B = {centers.shape[0]}, got {tuple(negatives.shape)}")
    hs_parts = {"syn1": syn1, "points": points, "codes": codes, "path_lengths": path_lengths}
    hs = any(part is not None for part in hs_parts.values())
    if hs:
        missing = [name for name, part in hs_parts.items() if part is None]
        _require(not missing, f"hierarchical softmax needs syn1, points, codes and path_lengths; missing {missing}")
        _check_weights("syn1", syn1, dim, device)
        _check_ids("points", points, 2, device)
        _check_ids("path_lengths", path_lengths, 1, device)
        _require(isinstance(codes, torch.Tensor) and codes.shape == points.shape and codes.device == device
                 and codes.stride(1) == 1, f"codes must be a tensor shaped as points {tuple(points.shape)} on "
                 f"{device} with contiguous rows")
        _require(points.shape[0] == vocab and path_lengths.shape[0] == vocab,
                 f"points and path_lengths must have one row per word ({vocab}), got {tuple(points.shape)} and "
                 f"{tuple(path_lengths.shape)}")
    _require(negative or hs, "fused_step needs an objective: syn1neg and negatives, or syn1 and the Huffman paths")
    if lockf is not None:
        _require(isinstance(lockf, torch.Tensor) and lockf.shape == (vocab,) and lockf.is_floating_point()
                 and lockf.device == device and lockf.is_contiguous(),
                 f"lockf must be a contiguous float tensor of shape ({vocab},) on {device}")
    if loss is not None:
        _require(isinstance(loss, torch.Tensor) and loss.dim() == 0 and loss.dtype in (torch.float32, torch.float64)
                 and loss.device == device, f"loss must be a 0-d float32 or float64 tensor on {device}")
    group = int(centers_per_program)
    _require(group >= 1 and group & (group - 1) == 0,
             f"centers_per_program must be a power of two, got {centers_per_program}")
    _require(max_programs is None or int(max_programs) >= 1, f"max_programs must be at least 1, got {max_programs}")
    interpret = _interpreting()
    if device.type != "cuda" and not interpret:
        raise RuntimeError(f"fused_step runs on CUDA tensors, or on CPU tensors under Triton's interpreter "
                           f"(TRITON_INTERPRET=1); got tensors on {device}")
    n_centers, n_context = contexts.shape
    if n_centers == 0:
        return
    if row_sums is not None:
        _check_row_sums(row_sums, syn0, syn1neg if negative else None, syn1 if hs else None, sg)
    constants = kernel_constants(dim, n_context, negatives.shape[1] if negative else None,
                                 points.shape[1] if hs else None, sg=sg, cbow_mean=cbow_mean, lockf=lockf is not None,
                                 loss=loss is not None, centers_per_program=group, accumulate=row_sums is not None)
    placeholder = syn0  # stands for the absent tensors; the constexpr flags keep the kernel from reading it
    programs = (n_centers + group - 1) // group
    if max_programs is not None:
        programs = min(programs, int(max_programs))
    weights = [syn0, syn1neg if negative else placeholder, syn1 if hs else placeholder]
    buffers = [None, None, None] if row_sums is None else row_sums.buffers()
    # where the updates go (the weights, or their row sums), and the row sums' counts and lists
    outputs = [matrix if buffer is None else buffer.sums for matrix, buffer in zip(weights, buffers)]
    counts = [placeholder if buffer is None else buffer.counts for buffer in buffers]
    touched = [placeholder if buffer is None else buffer.touched for buffer in buffers]
    terms = row_sums.terms if row_sums is not None and row_sums.newton_bound else placeholder

    def launch(**flags):
        flagged = dict(constants, **flags)
        _kernel(interpret)[(programs,)](
            *weights, centers, contexts,
            negatives if negative else placeholder, points if hs else placeholder, codes if hs else placeholder,
            path_lengths if hs else placeholder, lockf if lockf is not None else placeholder, lr,
            loss if loss is not None else placeholder, *outputs, *counts, *touched,
            row_sums.n_touched if row_sums is not None else placeholder, terms,
            buffers[0].cap if row_sums is not None else 0.0, n_centers, dim, syn0.stride(0),
            syn1neg.stride(0) if negative else 0, syn1.stride(0) if hs else 0, contexts.stride(0),
            negatives.stride(0) if negative else 0, points.stride(0) if hs else 0, codes.stride(0) if hs else 0,
            num_warps=num_warps or default_num_warps(flagged), **flagged)

    launch()
    if row_sums is None:
        return
    if row_sums.newton_bound:
        launch(LINE_TERMS=True, HAS_LOSS=False)
    row_sums.apply((n_centers * n_context, n_centers * (negatives.shape[1] + 1) if negative else 0,
                    n_centers * points.shape[1] if hs else 0), interpret)


def _check_row_sums(row_sums, syn0, syn1neg, syn1, sg):
    """Raise ValueError unless ``row_sums`` was made for exactly the matrices the step trains."""
    for name, matrix, buffer in zip(("syn0", "syn1neg", "syn1"), (syn0, syn1neg, syn1), row_sums.buffers()):
        _require((matrix is None) == (buffer is None),
                 f"row_sums {'has no' if buffer is None else 'has a'} buffer for {name}, which the step "
                 f"{'trains' if matrix is not None else 'does not train'}")
        same = matrix is None or (buffer.weights.data_ptr() == matrix.data_ptr()
                                  and buffer.weights.shape == matrix.shape
                                  and matrix.stride(0) == buffer.sums.stride(0))
        _require(same, f"row_sums was made for another {name} (same tensor, shape and row stride needed)")
    _require(sg or not row_sums.newton_bound, "the Newton bound of row_sums is skip-gram's (sg=True)")


def kernel_constants(dim, n_context, n_negative, path_depth, *, sg, cbow_mean, lockf=False, loss=False,
                     centers_per_program=1, accumulate=False):
    """The kernel's compile-time constants for a configuration (one compiled kernel each).

    Parameters
    ----------
    dim, n_context : int
        Vector size and context columns ``C``.
    n_negative, path_depth : int or None
        ``K`` with negative sampling, the padded Huffman depth ``L`` with hierarchical softmax.
    sg, cbow_mean, lockf, loss : bool
    centers_per_program : int, optional
    accumulate : bool, optional
        Updates go to row sums (``row_sums`` of :func:`fused_step`); the line-terms pass sets
        ``LINE_TERMS`` itself.

    Returns
    -------
    dict

    Examples
    --------
    >>> constants = kernel_constants(100, 10, 5, None, sg=True, cbow_mean=True)
    >>> constants["BLOCK_D"], constants["BLOCK_O"], default_num_warps(constants)
    (128, 8, 4)
    """
    negative, hs = n_negative is not None, path_depth is not None
    n_outputs = (n_negative + 1 if negative else 0) + (path_depth if hs else 0)
    return dict(N_CONTEXT=n_context, N_NEGATIVE=n_negative or 0, PATH_DEPTH=path_depth or 0,
                BLOCK_D=_next_power_of_two(dim), BLOCK_C=_next_power_of_two(n_context),
                BLOCK_O=_next_power_of_two(n_outputs), GROUP=centers_per_program, SKIP_GRAM=bool(sg),
                CBOW_MEAN=bool(cbow_mean), NEGATIVE=negative, HS=hs, HAS_LOCKF=bool(lockf), HAS_LOSS=bool(loss),
                ACCUMULATE=bool(accumulate), LINE_TERMS=False)


def default_num_warps(constants):
    """Warps per program: 4, up to 16 for larger blocks of rows.

    A program holds its output rows and their accumulated updates in registers (``2 BLOCK_O
    BLOCK_D`` floats per center), and CBOW also its context rows (``BLOCK_C BLOCK_D``): one warp
    per 256 floats of the larger block. ptxas (sm_90, ``d = 100``, 10 context columns) then fits
    negative sampling in 80 registers (skip-gram, 4 warps) and 78 (CBOW, 8 warps), and a Huffman
    path of up to 32 nodes in 119-127 (16 warps); deeper paths, or hierarchical softmax at
    ``d > 128``, spill to local memory.
    """
    rows = max(constants["BLOCK_O"], 1 if constants["SKIP_GRAM"] else constants["BLOCK_C"])
    return int(min(16, max(4, constants["GROUP"] * rows * constants["BLOCK_D"] // 256)))


#: Argument types of the kernel for ahead-of-time compilation (int64 ids, float32 weights and
#: learning rate, a float64 loss, int32 path lengths, float32 codes).
_SIGNATURE = dict(
    syn0="*fp32", syn1neg="*fp32", syn1="*fp32", centers="*i64", contexts="*i64", negatives="*i64",
    points="*i64", codes="*fp32", path_lengths="*i32", lockf="*fp32", lr_ptr="*fp32", loss_ptr="*fp64",
    syn0_out="*fp32", syn1neg_out="*fp32", syn1_out="*fp32", counts0="*i32", counts1neg="*i32", counts1="*i32",
    touched0="*i64", touched1neg="*i64", touched1="*i64", n_touched="*i32", terms0="*fp32", cap0="fp32",
    n_centers="i32", dim="i32", syn0_stride="i32", syn1neg_stride="i32", syn1_stride="i32", contexts_stride="i32",
    negatives_stride="i32", points_stride="i32", codes_stride="i32")


def compile_ahead(constants, capability=90, num_warps=None):
    """Compile the kernel for a CUDA architecture without a GPU (triton ships ptxas).

    For checking that it compiles and reading its resource use (``asm["cubin"]``, ``asm["ptx"]``);
    Triton's interpreter must be off (``TRITON_INTERPRET`` unset when triton was imported).

    Parameters
    ----------
    constants : dict
        From :func:`kernel_constants`.
    capability : int, optional
        Compute capability (90: H100).
    num_warps : int, optional
        Default: :func:`default_num_warps`.

    Returns
    -------
    triton.compiler.CompiledKernel
    """
    return compile_kernel(_kernel(False), _SIGNATURE, constants, capability, num_warps or default_num_warps(constants))


def compile_kernel(kernel, signature, constants, capability, num_warps):
    """Compile a jitted Triton function for a CUDA architecture without a GPU (triton ships ptxas).

    Parameters
    ----------
    kernel : triton.JITFunction
        Jitted with the interpreter off.
    signature : dict
        Argument name to Triton type (``"*fp32"``, ``"i32"``...), in the function's order, its
        compile-time constants left out.
    constants : dict
        The constants' values.
    capability : int
        Compute capability (90: H100).
    num_warps : int

    Returns
    -------
    triton.compiler.CompiledKernel
    """
    if _interpreting():
        raise RuntimeError("compiling ahead needs Triton's interpreter off (TRITON_INTERPRET unset)")
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    names = list(signature) + list(constants)
    full = dict(signature, **{name: "constexpr" for name in constants})
    aligned = {(names.index(name),): [["tt.divisibility", 16]] for name, kind in signature.items()
               if kind.startswith("*")}  # as the launcher specialises 16-byte aligned tensors
    source = ASTSource(fn=kernel, signature=full, attrs=aligned,
                       constexprs={(names.index(name),): value for name, value in constants.items()})
    return triton.compile(source, target=GPUTarget("cuda", capability, 32), options=dict(num_warps=num_warps))
