"""Throughput and ops per step of the device data pipeline (:mod:`torchw2v.device_data`), on CPU.

Encodes a text8-style corpus (vocabulary ``min_count=5``, ``sample=1e-3``, sentences of
10,000 words as gensim's ``Text8Corpus``), loads it with :class:`~torchw2v.device_data.DeviceCorpus`,
and times :meth:`~torchw2v.device_data.DeviceBatches.fill` over whole epochs for each span
size: the pipeline alone (no training step), in raw corpus words per second of the fastest
epoch (the machine may be shared), without and with the noise draws. It counts the ops one
step launches with ``torch.profiler`` (top-level ops; views counted apart, as they launch no
device work), and times the numpy producer of the native CPU path (``subsample`` -> ``TextOrderBatches``,
which draws no noise) on the same corpus in the same rounds.

Examples
--------
::

    python benchmarks/device_pipeline.py                       # ../shared/data/text8-head.gz
    python benchmarks/device_pipeline.py --spans 16384 262144 --epochs 1 --threads 1
"""
from __future__ import annotations

import argparse
import collections
import gzip
import logging
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # benchmark this checkout's torchw2v, installed or not

from torchw2v.batching import TextOrderBatches, subsample  # noqa: E402
from torchw2v.corpus import EncodedCorpus  # noqa: E402
from torchw2v.device_data import DeviceBatches, DeviceCorpus  # noqa: E402
from torchw2v.sampling import downsample_ints, noise_cum_table  # noqa: E402

logger = logging.getLogger("device_pipeline")

#: Ops that only make views (no device work).
VIEW_OPS = {"aten::slice", "aten::select", "aten::view", "aten::expand", "aten::unsqueeze", "aten::as_strided"}


def load_corpus(path, min_count, sample, sentence_words=10000, chunk_words=10000):
    """The encoded corpus, its vocabulary size, subsampling thresholds and noise table."""
    with gzip.open(path, "rt") if str(path).endswith(".gz") else open(path) as handle:
        words = handle.read().split()
    counts = collections.Counter(words)
    vocab = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: -counts[w])
    key_to_index = {w: i for i, w in enumerate(vocab)}
    word_counts = np.array([counts[w] for w in vocab])
    sample_ints = downsample_ints(word_counts, sample, int(word_counts.sum()))
    sentences = [words[i:i + sentence_words] for i in range(0, len(words), sentence_words)]
    corpus = EncodedCorpus(sentences, key_to_index, chunk_words)
    return corpus, len(vocab), sample_ints, noise_cum_table(word_counts, 0.75), len(words)


def count_ops(batches):
    """Top-level ops of one :meth:`fill`, by name."""
    from torch.profiler import ProfilerActivity, profile

    next(batches.epoch())
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        batches.fill()
    names = [e.name for e in prof.events() if e.cpu_parent is None]
    return collections.Counter(names)


def device_epoch(batches):
    """Seconds of one epoch of :meth:`fill`."""
    start = time.perf_counter()
    for _ in batches.epoch():
        batches.fill()
    return time.perf_counter() - start


def numpy_epoch(corpus, sample_ints, window, batch_size, rng):
    """Seconds of one epoch of the native CPU path's numpy producer (the host's windows)."""
    start = time.perf_counter()
    for chunk in corpus.chunks():
        ids, lengths = subsample(chunk.ids, chunk.sentence_lengths, sample_ints, rng)
        for _ in TextOrderBatches(ids, lengths, window, True, batch_size, rng):
            pass
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", default=str(REPO_ROOT.parent / "shared" / "data" / "text8-head.gz"))
    parser.add_argument("--spans", type=int, nargs="+", default=[16384, 65536, 262144])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--skip-numpy", action="store_true", help="do not time the numpy producer")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    corpus, vocab_size, sample_ints, cum_table, words = load_corpus(args.corpus, 5, 1e-3)
    list(corpus.chunks())  # encode once: the timings below replay the encoded corpus, as later epochs do
    logger.info("%s: %i raw words, %i-word vocabulary, torch %s with %i threads",
                args.corpus, words, vocab_size, torch.__version__, torch.get_num_threads())
    print("| span S | steps per epoch | raw words/s, windows | raw words/s, windows + noise | numpy producer, same "
          "rounds | ops per step (views apart) |")
    print("|---|---|---|---|---|---|")
    rng = np.random.default_rng(1)
    for span in args.spans:
        device_corpus = DeviceCorpus(corpus.chunks, vocab_size, "cpu", span)
        bare = DeviceBatches(device_corpus, sample_ints, args.window, True, seed=1)
        noisy = DeviceBatches(device_corpus, sample_ints, args.window, True, cum_table, args.negative, seed=1)
        device_epoch(bare), device_epoch(noisy)  # warm up (allocator, first-touch pages)
        best = collections.defaultdict(lambda: math.inf)
        for _ in range(args.epochs):  # interleaved, so that all three see the same load on a shared machine
            best["bare"] = min(best["bare"], device_epoch(bare))
            best["noisy"] = min(best["noisy"], device_epoch(noisy))
            if not args.skip_numpy:
                best["numpy"] = min(best["numpy"], numpy_epoch(corpus, sample_ints, args.window, 16384, rng))
        rate = {key: device_corpus.raw_words / seconds / 1e6 for key, seconds in best.items()}
        ops = count_ops(noisy)
        launched = sum(n for name, n in ops.items() if name not in VIEW_OPS)
        print(f"| {span} | {device_corpus.num_spans} | {rate['bare']:.1f}M | {rate['noisy']:.1f}M | "
              f"{rate.get('numpy', math.nan):.1f}M | {launched} (+{sum(ops.values()) - launched}) |", flush=True)
    logger.info("ops of one step (negative=%i): %s", args.negative, dict(ops))
    corpus.close()


if __name__ == "__main__":
    main()
