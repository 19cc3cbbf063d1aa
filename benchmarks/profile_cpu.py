"""Where the native CPU path's time goes, phase by phase, against gensim's own phases.

Four measurements, each side by side with gensim in the same run:

1. **Reading and the vocabulary scan** on the whole corpus: reading and splitting the text alone,
   then ``build_vocab`` of TorchWord2Vec and of gensim's Word2Vec.
2. **The producer thread's work per epoch**: encoding the text to ids (the first epoch only;
   later epochs replay the ids), then subsampling, windows and batches (every epoch), each on
   one thread.
3. **Kernel time per pair**: every configuration's kernel, single-threaded, on the real batches
   of the corpus's first ``--kernel-words`` words (min of ``--repeats`` passes), against one
   single-worker epoch of gensim's ``train`` on the same words (min of the same repeats,
   interleaved). A pair is a (center, context word) slot of the windows, the same expected
   count on both sides.
4. **Synchronisation**: two epochs of the real trainer (``--workers`` threads; the first reads
   and encodes the text, the second replays the ids), with the wall time its training threads
   spent in the kernels (the rest: waiting for batches, or descheduled), and the producer's time,
   waiting for room in the queue included.

Examples
--------
All of it on the default corpus (a few minutes)::

    python benchmarks/profile_cpu.py

Only the kernels, on the first million words::

    python benchmarks/profile_cpu.py --phases kernels --kernel-words 1000000

Two builds of the kernels against each other, interleaved, on the same batches::

    python benchmarks/profile_cpu.py --phases kernels --no-gensim --libraries old.so new.so
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmark import COMMON_SETTINGS, CONFIGS, DEFAULT_CORPUS  # noqa: E402
from torchw2v import trainer as trainer_module  # noqa: E402
from torchw2v.batching import context_windows, subsample, text_order_batches  # noqa: E402
from torchw2v.corpus import EncodedCorpus, WordLimitedCorpus, open_corpus  # noqa: E402

logger = logging.getLogger("torchw2v.profile")

PHASES = ("scan", "producer", "kernels", "sync")


def parse_args(argv=None):
    """Parse the command line.

    >>> parse_args(["--phases", "kernels"]).phases
    ['kernels']
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES))
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--kernel-words", type=int, default=2_000_000,
                        help="corpus words the kernel microbenchmark trains on (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="passes per kernel, the fastest counts")
    parser.add_argument("--no-gensim", action="store_true", help="skip gensim's side of the kernel timings")
    parser.add_argument("--libraries", nargs="+", metavar="SO",
                        help="kernel builds to time against each other, interleaved (default: the installed one)")
    parser.add_argument("--workers", type=int, default=COMMON_SETTINGS["workers"])
    return parser.parse_args(argv)


def settings(name, **extra):
    """The benchmark's settings of configuration ``name`` (one epoch unless given)."""
    kwargs = dict(COMMON_SETTINGS, epochs=1)
    kwargs.update(CONFIGS[name][1])
    kwargs.update(extra)
    return kwargs


def timed(function, *args, **kwargs):
    """``(seconds, result)`` of one call."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def profile_scan(corpus):
    """Reading alone, then each side's ``build_vocab``, on the whole corpus."""
    from gensim.models import Word2Vec

    from torchw2v import TorchWord2Vec

    read, words = timed(lambda: sum(len(sentence) for sentence in corpus))
    ours, _ = timed(TorchWord2Vec(**settings("sg")).build_vocab, corpus)
    theirs, _ = timed(Word2Vec(**settings("sg")).build_vocab, corpus)
    logger.info("scan: %i words; reading and splitting alone %.1f s (%.2f us/word); build_vocab torchw2v %.1f s, "
                "gensim %.1f s", words, read, 1e6 * read / words, ours, theirs)


def built_model(corpus, name, **extra):
    """A TorchWord2Vec with its vocabulary and weights for configuration ``name``."""
    from torchw2v import TorchWord2Vec

    model = TorchWord2Vec(**settings(name, **extra))
    model.build_vocab(corpus)
    return model


def epoch_batches(model, corpus):
    """One epoch's batches as the producer makes them: (centers, contexts) int64 arrays."""
    rng = np.random.default_rng(0)
    encoded = EncodedCorpus(corpus, model.wv.key_to_index, max(model.batch_words, 16 * model.batch_size))
    batches = []
    for chunk in encoded.chunks():
        ids, lengths = subsample(chunk.ids, chunk.sentence_lengths, model.wv.expandos["sample_int"], rng)
        windows = context_windows(ids, lengths, model.window, True, rng)
        batches += [(batch.centers.astype(np.int64), batch.contexts.astype(np.int64))
                    for batch in text_order_batches(windows, model.batch_size)]
    encoded.close()
    return batches


def profile_producer(corpus, model):
    """The producer's stages over one epoch, each on this thread."""
    encoded = EncodedCorpus(corpus, model.wv.key_to_index, max(model.batch_words, 16 * model.batch_size))
    encode, chunks = timed(lambda: list(encoded.chunks()))
    replay, _ = timed(lambda: list(encoded.chunks()))
    rng = np.random.default_rng(0)
    sample_ints = model.wv.expandos["sample_int"]
    times = dict.fromkeys(("subsample", "windows", "batches"), 0.0)
    for chunk in chunks:
        seconds, (ids, lengths) = timed(subsample, chunk.ids, chunk.sentence_lengths, sample_ints, rng)
        times["subsample"] += seconds
        seconds, windows = timed(context_windows, ids, lengths, model.window, True, rng)
        times["windows"] += seconds
        seconds, _ = timed(lambda: [(b.centers.astype(np.int64), b.contexts.astype(np.int64))
                                    for b in text_order_batches(windows, model.batch_size)])
        times["batches"] += seconds
    encoded.close()
    words = sum(chunk.raw_words for chunk in chunks)
    logger.info("producer, per epoch of %i words: first-epoch encoding %.1f s (reading included), replay %.2f s; "
                "subsample %.2f s, windows %.2f s, batches %.2f s", words, encode, replay, times["subsample"],
                times["windows"], times["batches"])


def kernel_seconds(model, batches, repeats, libraries):
    """The fastest of ``repeats`` single-threaded passes over ``batches`` of each library's kernel
    (interleaved, each on its own copy of the model's initial weights)."""
    from torchw2v.native import NativeKernel

    kernels = []
    for library in libraries:
        weights = [model.wv.vectors.copy(), model.syn1neg.copy(), model.syn1.copy()]
        kernels.append(NativeKernel(weights[0], weights[1], model.cum_table, model.negative, syn1=weights[2],
                                    tree=model.huffman, shared_negatives=model.shared_negatives,
                                    lockf=model._lock_factors(), library=library))
    states = [kernel.new_state(1) for kernel in kernels]
    best = [float("inf")] * len(kernels)
    for _ in range(repeats):
        for i, (kernel, state) in enumerate(zip(kernels, states)):
            start = time.perf_counter()
            for centers, contexts in batches:
                kernel.step(centers, contexts, 0.025, sg=bool(model.sg), cbow_mean=True, state=state)
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def gensim_seconds(name, sentences, repeats):
    """The fastest of ``repeats`` single-worker epochs of gensim's ``train`` on ``sentences``."""
    from gensim.models import Word2Vec

    model = Word2Vec(**settings(name, workers=1))
    model.build_vocab(sentences)
    best = float("inf")
    for _ in range(repeats):
        seconds, _ = timed(model.train, sentences, total_examples=model.corpus_count, epochs=1)
        best = min(best, seconds)
    return best


def profile_kernels(corpus, names, words, repeats, with_gensim, library_paths):
    """ns per pair of each configuration's kernel, single-threaded, against gensim's single-worker epoch."""
    from torchw2v import native

    libraries = [None] if not library_paths else [native.load_library(os.fspath(p)) for p in library_paths]
    if None in libraries[1:] or (library_paths and libraries[0] is None):
        raise SystemExit(f"cannot load every one of {library_paths}")
    labels = ["torchw2v"] if not library_paths else [Path(p).name for p in library_paths]
    sentences = list(WordLimitedCorpus(corpus, words))
    for name in names:
        model = built_model(sentences, name)
        batches = epoch_batches(model, sentences)
        centers = sum(len(c) for c, _ in batches)
        pairs = sum(int((x >= 0).sum()) for _, x in batches)
        ours = kernel_seconds(model, batches, repeats, libraries)
        theirs = gensim_seconds(name, sentences, repeats) if with_gensim else float("nan")
        timings = "; ".join(f"{label} {seconds:.2f} s = {1e9 * seconds / pairs:.1f} ns/pair "
                            f"({1e9 * seconds / centers:.0f} ns/center, gensim/this {theirs / seconds:.2f}x)"
                            for label, seconds in zip(labels, ours))
        logger.info("kernel %-7s %i centers, %i pairs: %s; gensim's epoch %.2f s = %.1f ns/pair", name, centers,
                    pairs, timings, theirs, 1e9 * theirs / pairs)


def profile_sync(corpus, names, workers):
    """Two epochs of the real trainer: kernel time per thread, waits for batches, producer time."""
    from torchw2v.native import NativeSteps

    for name in names:
        model = built_model(corpus, name, workers=workers)
        busy = {"step": 0.0, "produce": 0.0, "chunks": 0.0, "put": 0.0}
        lock = threading.Lock()
        step, chunks, produce = NativeSteps.step, EncodedCorpus.chunks, trainer_module.Trainer._produce
        put = trainer_module.Trainer._put

        def timed_step(self, *args):
            seconds, loss = timed(step, self, *args)
            with lock:
                busy["step"] += seconds
            return loss

        def timed_chunks(self):
            iterator = chunks(self)
            while True:
                seconds, chunk = timed(next, iterator, None)
                busy["chunks"] += seconds
                if chunk is None:
                    return
                yield chunk

        def timed_produce(self, *args):
            seconds, _ = timed(produce, self, *args)
            busy["produce"] += seconds

        def timed_put(out, item, stop):
            seconds, done = timed(put, out, item, stop)
            busy["put"] += seconds
            return done

        trainer_class = trainer_module.Trainer
        patched = ((NativeSteps, "step", timed_step), (EncodedCorpus, "chunks", timed_chunks),
                   (trainer_class, "_produce", timed_produce), (trainer_class, "_put", staticmethod(timed_put)))
        originals = [(owner, attribute, owner.__dict__[attribute]) for owner, attribute, _ in patched]
        for owner, attribute, replacement in patched:
            setattr(owner, attribute, replacement)
        try:
            wall, _ = timed(model.train, corpus, total_examples=model.corpus_count, epochs=2)
        finally:
            for owner, attribute, original in originals:
                setattr(owner, attribute, original)
        logger.info("sync %-7s 2 epochs, %i threads: wall %.1f s; in kernels %.1f thread-s (%.0f%% of %i x wall); "
                    "producer %.1f s, of which waiting for room in the queue %.1f s and reading+encoding "
                    "(first epoch) %.1f s", name, workers, wall, busy["step"], 100 * busy["step"] / (workers * wall),
                    workers, busy["produce"], busy["put"], busy["chunks"])


def main(argv=None):
    """Run the chosen phases and log their figures."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logger.setLevel(logging.INFO)
    args = parse_args(argv)
    corpus = open_corpus(args.corpus)
    if "scan" in args.phases:
        profile_scan(corpus)
    if "producer" in args.phases:
        profile_producer(corpus, built_model(corpus, "sg"))
    if "kernels" in args.phases:
        profile_kernels(corpus, args.configs, args.kernel_words, args.repeats, not args.no_gensim, args.libraries)
    if "sync" in args.phases:
        profile_sync(corpus, args.configs, args.workers)


if __name__ == "__main__":
    main()
