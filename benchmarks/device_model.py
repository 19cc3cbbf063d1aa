"""The device path's step measured on CPU, and what it implies for one H100 (an estimate).

No GPU is lent to this project's machines, so the device path is checked with proxies a GPU
engineer accepts (``../shared/DESIGN.md``). On a real corpus's vocabulary this script runs the
step of :class:`torchw2v.torch_steps.TorchSteps` eagerly on CPU and prints, per step:

- **ops**: the kernel-launching aten ops of one step (batch making and update), counted by a
  ``TorchDispatchMode``; views and metadata-only ops do not count;
- **shapes**: the distinct input shapes the step saw over the epoch (1 means a CUDA graph can
  capture it);
- **bytes**: bytes every op reads and writes (index ops only their rows), against the physical
  minimum of the SGNS update, ``(2b + K + 1)`` rows of ``4d`` bytes read and written per center
  (``b`` the mean reach); the unfused torch ops move several times that;
- **host µs**: host time to launch one span's ops eagerly: the ops times the measured time to
  launch an op on a one-element tensor (where the arithmetic is nil); a CUDA graph replays them
  with one launch;
- **pipeline words/s**: raw corpus words per second of the device data pipeline alone
  (:meth:`torchw2v.device_data.DeviceBatches.fill`) on this CPU;
- the same ops and shapes for the Triton step that CUDA runs by default (``cuda_kernel="auto"``):
  the batch made by two kernels (:mod:`torchw2v.kernels.triton_windows`) and each update by one
  (:mod:`torchw2v.kernels.triton_step`), each launch counted as one op (in Triton's interpreter,
  the launches are counted and not run: what a kernel does inside is no host op). Its bytes are
  the kernels' own accounting (``bytes_per_center``, ``windows_traffic``), not a count.

It then estimates an H100's words/s with a stated roofline: HBM at 3.35 TB/s, a fraction of it
reached by random 400-byte rows (``--row-efficiency``, 0.35 by default: gathers of scattered
rows are far from streaming), a floor per kernel (``--kernel-floor-us``, 2.5 µs) and, with CUDA
graph replay, no host launch cost. The estimate is an estimate: measure on a GPU when one is lent.

Example::

    python benchmarks/device_model.py --corpus ../shared/data/text8-head.gz --sg 1
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("TRITON_INTERPRET", "1")  # the Triton step is counted on CPU tensors (before triton's import)

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

from torchw2v.config import TrainingConfig, default_batch_size  # noqa: E402
from torchw2v.corpus import EncodedCorpus  # noqa: E402
from torchw2v.kernels.triton_row_sums import row_sums_bytes_per_center  # noqa: E402
from torchw2v.kernels.triton_step import bytes_per_center  # noqa: E402
from torchw2v.kernels.triton_windows import windows_traffic  # noqa: E402
from torchw2v.torch_steps import TorchSteps, TorchWeights  # noqa: E402
from torchw2v.trainer import TrainingTables  # noqa: E402

logger = logging.getLogger("torchw2v.device_model")

DEFAULT_CORPUS = Path(os.path.normpath(REPO_ROOT / ".." / "shared" / "data" / "text8-head.gz"))

#: aten ops that launch no kernel: views, metadata and allocation without initialisation.
NO_KERNEL_OPS = {
    "view", "_unsafe_view", "reshape", "expand", "select", "slice", "transpose", "t", "permute", "unsqueeze",
    "squeeze", "as_strided", "alias", "detach", "empty", "empty_like", "empty_strided", "new_empty",
    "_reshape_alias", "lift_fresh", "unbind", "split", "split_with_sizes", "chunk",
}

#: Index ops touch only the rows they name: bytes counted from their index-sized operands.
ROW_OPS = {"index_select", "index_add_", "index_fill_", "index_copy_", "index_add", "index_copy"}

H100_HBM_BYTES_PER_S = 3.35e12


class OpCounter(TorchDispatchMode):
    """Counts kernel-launching aten ops, their input shapes, and the bytes they move."""

    def __init__(self):
        super().__init__()
        self.ops = Counter()
        self.shapes = set()
        self.bytes = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = func.__name__.split(".")[0]
        if name in NO_KERNEL_OPS or getattr(self, "_in_launch", False):
            return out
        self.ops[name] += 1
        tensors = [a for a in list(args) + list(kwargs.values()) if isinstance(a, torch.Tensor)]
        self.shapes.add((name, tuple(tuple(t.shape) for t in tensors)))
        self.bytes += _bytes_moved(name, tensors, out)
        return out


@contextlib.contextmanager
def triton_launches_counted(counter):
    """Count each Triton kernel launch as one op in ``counter``, without running it (interpreter only)."""
    from triton.runtime.interpreter import InterpretedFunction

    def launch(function, *args, grid, warmup, **kwargs):
        counter.ops[f"triton:{function.fn.__name__}"] += 1
        counter.shapes.add((function.fn.__name__, tuple(tuple(a.shape) for a in args if isinstance(a, torch.Tensor))))

    original = InterpretedFunction.run
    InterpretedFunction.run = launch
    try:
        yield counter
    finally:
        InterpretedFunction.run = original


def _nbytes(tensor):
    return tensor.numel() * tensor.element_size()


def _bytes_moved(name, tensors, out):
    """Bytes an op reads and writes: index ops their rows only, others all operands and results."""
    outs = [o for o in (out if isinstance(out, (tuple, list)) else [out]) if isinstance(o, torch.Tensor)]
    if name == "index_select":
        return 2 * sum(_nbytes(o) for o in outs) + _nbytes(tensors[1])
    if name in ("index_add_", "index_copy_", "index_add", "index_copy"):
        return 3 * _nbytes(tensors[2]) + _nbytes(tensors[1])  # source read; rows read and written
    if name == "index_fill_":
        return _nbytes(tensors[1]) * (1 + tensors[0][0].numel())
    return sum(_nbytes(t) for t in tensors) + sum(_nbytes(o) for o in outs)


def build(corpus_path, args, vector_size, kernel="torch"):
    """A vocabulary, tables, weights and a TorchSteps over the corpus (CPU)."""
    from gensim.models.word2vec import Text8Corpus
    from torchw2v import TorchWord2Vec

    model = TorchWord2Vec(vector_size=vector_size, window=args.window, negative=args.negative, hs=args.hs,
                          sg=args.sg, min_count=5, sample=1e-3, device="cpu", cpu_kernel="torch", seed=1)
    sentences = Text8Corpus(str(corpus_path))
    model.build_vocab(sentences)
    tables = TrainingTables(model.wv.expandos["sample_int"], model.cum_table if args.negative else None,
                            model.huffman)
    config = TrainingConfig(sg=args.sg, window=args.window, negative=args.negative, hs=bool(args.hs),
                            batch_size=args.batch_size, seed=1)
    weights = TorchWeights.allocate(model.wv.vectors, model.syn1neg, model.syn1, "cpu")
    corpus = EncodedCorpus(sentences, model.wv.key_to_index, chunk_words=1_000_000)
    return TorchSteps(config, weights, tables, kernel=kernel), corpus


def batch_making_ops(steps):
    """Ops of one span's batch making alone (:meth:`torchw2v.device_data.DeviceBatches.fill`)."""
    counter = OpCounter()
    saved = steps._batches.save_cursor()
    with counter:
        steps._batches.fill()
    steps._batches.restore_cursor(saved)
    return sum(counter.ops.values())


def triton_step_ops(args):
    """Ops and distinct step signatures per span of the Triton step (launches counted, not run)."""
    from torchw2v.device_data import NoiseLookup

    steps, corpus = build(args.corpus, args, args.vector_size, kernel="triton")
    steps._batches = steps._device_batches(corpus)
    if steps._batches.noise_lookup is not None:  # as on CUDA: one searchsorted, not the CPU's guide table
        lookup = steps._batches.noise_lookup
        steps._batches.noise_lookup = NoiseLookup(lookup.table.numpy(), "cpu", tuple(steps._batches.negatives.shape),
                                                  guide=False)
    signatures = set()
    ops = Counter()
    for index, _span in enumerate(steps.epoch(corpus)):
        counter = OpCounter()
        with counter, triton_launches_counted(counter):
            steps.run(0.025)
        signatures.add(frozenset(counter.shapes))
        ops = counter.ops
        if index == 20:
            break
    corpus.close()
    return ops, len(signatures)


def distinct_rows_per_center(steps):
    """Distinct rows of every trained matrix per update, divided by the update's real centers, over
    the span just made (the rows the row sums' apply kernel visits; the padding rows left out)."""
    batches, config = steps._batches, steps.config
    distinct, centers = 0, 0
    for start in range(0, batches.centers.shape[0], config.batch_size):
        center = batches.centers[start:start + config.batch_size]
        context = batches.contexts[start:start + config.batch_size]
        real = center[center >= 0]
        distinct += context[context >= 0].unique().numel()
        if config.hs:
            nodes = steps._points.index_select(0, real).flatten()
            distinct += nodes[nodes < steps.weights.syn1.shape[0] - 1].unique().numel()  # the padding row left out
        if config.negative:
            noise = batches.negatives[start:start + config.batch_size][center >= 0]
            distinct += torch.cat([real, noise.flatten()]).unique().numel()
        centers += real.numel()
    return distinct / max(centers, 1)


def measure(args):
    torch.set_num_threads(1)
    steps, corpus = build(args.corpus, args, args.vector_size)
    spans = steps.epoch(corpus)
    next(spans)
    steps.run(0.025)  # warm-up: allocations of the first step
    counter = OpCounter()
    seen_shapes = set()
    with counter:
        next(spans)
        steps.run(0.025)
    distinct = distinct_rows_per_center(steps)  # of the span just trained (a full one)
    ops_per_step = sum(counter.ops.values())
    bytes_per_step = counter.bytes
    updates = -(-steps._batches.corpus.span // args.batch_size)
    ops_per_update = (ops_per_step - batch_making_ops(steps)) / updates
    # shapes over the rest of the epoch (every span's step must see the same shapes)
    for _ in spans:
        shape_counter = OpCounter()
        with shape_counter:
            steps.run(0.025)
        seen_shapes.add(frozenset(shape_counter.shapes))
    effective = int(steps.effective_words)
    epoch_raw = steps._batches.corpus.raw_words
    centers_per_step = effective / steps._batches.corpus.num_spans
    raw_per_step = epoch_raw / steps._batches.corpus.num_spans
    corpus.close()

    # host time to launch an op: an element-wise op on one element, where the arithmetic is nil
    one = torch.zeros(1)
    for _ in range(1000):
        one.add_(1.0)
    start = time.perf_counter()
    for _ in range(20000):
        one.add_(1.0)
    host_us = 1e6 * (time.perf_counter() - start) / 20000 * ops_per_step

    # the data pipeline alone, one epoch
    pipeline_steps, pipeline_corpus = build(args.corpus, args, 4)
    batches = pipeline_steps._device_batches(pipeline_corpus)
    start = time.perf_counter()
    for _ in batches.epoch():
        batches.fill()
    pipeline_words_per_s = batches.corpus.raw_words / (time.perf_counter() - start)
    pipeline_corpus.close()

    reach = (args.window + 1) / 2  # mean reach of a shrunk window
    path = 20  # HS: about 20 inner nodes on a word's Huffman path
    outputs = (args.negative + 1 if args.negative else 0) + (path if args.hs else 0)
    ids = 8 * (1 + 2 * args.window + args.negative) + (12 * path if args.hs else 0)
    fused, physical = bytes_per_center(args.vector_size, 2 * reach + outputs, ids)
    if args.hs:  # the Triton step applies the torch step's capped sums (kernels/triton_row_sums.py)
        fused += row_sums_bytes_per_center(args.vector_size, 2 * reach + outputs, 2 * reach, distinct, bound=args.sg)
    per_center = bytes_per_step / max(centers_per_step, 1)
    time_memory = bytes_per_step / (H100_HBM_BYTES_PER_S * args.row_efficiency)
    time_floor = ops_per_step * args.kernel_floor_us * 1e-6
    step_time = max(time_memory, time_floor)
    estimate = raw_per_step / step_time
    triton_ops, triton_signatures = triton_step_ops(args)
    fused_ops = sum(triton_ops.values())
    fused_bytes = fused * centers_per_step + windows_traffic(steps._batches.corpus.span, args.window)
    fused_time = max(fused_bytes / (H100_HBM_BYTES_PER_S * args.row_efficiency),
                     args.kernel_floor_us * 1e-6 * fused_ops)
    fused_estimate = raw_per_step / fused_time
    return {
        "updates per span": updates,
        "ops per span (batch making + updates)": ops_per_step,
        "ops per update (torch ops)": round(ops_per_update, 1),
        "ops per span with the Triton kernels (random draws, 2 batch kernels, the update's launches)": fused_ops,
        "Triton step's ops": dict(triton_ops.most_common()),
        "distinct span-step signatures of the Triton step (first 21 spans)": triton_signatures,
        "ops": dict(counter.ops.most_common()),
        "distinct span-step signatures over the epoch": len(seen_shapes),
        "centers per span (kept words)": round(centers_per_step),
        "raw words per span": round(raw_per_step),
        "bytes moved per center (torch ops)": round(per_center),
        "physical minimum bytes per center": round(physical),
        "distinct rows per center in an update (all matrices)": round(distinct, 2),
        "bytes moved per center (Triton kernels, their estimate: update + batch making)":
            round(fused_bytes / max(centers_per_step, 1)),
        "host us per span (ops x launch time of a one-element op)": round(host_us),
        "device pipeline raw words/s on this CPU": round(pipeline_words_per_s),
        "H100 estimate, torch ops in a CUDA graph (raw words/s)": round(estimate),
        "H100 estimate, fused Triton kernel in a CUDA graph (raw words/s)": round(fused_estimate),
        "bound": "memory" if time_memory >= time_floor else "kernel floor",
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--sg", type=int, default=1)
    parser.add_argument("--hs", type=int, default=0)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--vector-size", type=int, default=100)
    parser.add_argument("--batch-size", type=int,
                        help="center slots per update (the span is torch_steps.span_tokens of it; default: "
                             "the configuration's CUDA default)")
    parser.add_argument("--row-efficiency", type=float, default=0.35,
                        help="share of HBM bandwidth reached by gathers of random 400-byte rows")
    parser.add_argument("--kernel-floor-us", type=float, default=2.5, help="least time of one kernel in a graph")
    args = parser.parse_args(argv)
    if args.batch_size is None:
        args.batch_size = default_batch_size("cuda", "torch", args.sg, args.hs)
    return args


def main(argv=None):
    logging.basicConfig(level=logging.WARNING)
    args = parse_args(argv)
    for key, value in measure(args).items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
