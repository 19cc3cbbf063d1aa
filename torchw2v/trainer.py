"""The training loop: data preparation on a background thread, steps on the device.

A producer thread turns corpus chunks into batches (subsampling, windows; numpy) while
one or more training threads run the steps (the compiled kernels and torch ops release the
GIL, so they all run at once). Several training threads update the shared weights without
locks, as gensim's worker threads do (Hogwild); on a GPU one thread feeds the device.

The steps come from a *steps* object, so this loop needs neither torch nor a device of its
own: :class:`torchw2v.native.NativeSteps` (the compiled CPU kernels, sequential SGD per pair
as gensim, on numpy weights; no torch import) or :class:`torchw2v.torch_steps.TorchSteps`
(the batched torch ops of :mod:`torchw2v.objectives`, on any torch device). The learning
rate decays linearly from ``alpha`` to ``min_alpha`` over all epochs of the call, by progress
through the corpus, as gensim's ``_get_next_alpha``. The device is synchronised only when
progress is logged (about once per ``report_delay`` seconds), to check that the weights are
still finite, and at the end of training, to read the loss.
"""
import ctypes
import ctypes.util
import functools
import logging
import queue
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from torchw2v.batching import TextOrderBatches, effective_window, subsample

logger = logging.getLogger(__name__)

_END_OF_EPOCH = object()

#: Weights beyond this magnitude mean training has diverged. Trained word2vec weights stay small:
#: the largest |w| after 20 epochs on gensim's Lee corpus was 1.2-2.6 (skip-gram, CBOW, hierarchical
#: softmax, native and device paths); one epoch at alpha=10 left 1e6.
DIVERGED_MAGNITUDE = 1e3


class TrainingDiverged(FloatingPointError):
    """The weights became NaN or infinite, almost always because ``alpha`` is too high."""


@dataclass
class TrainingTables:
    """Per-word tables the steps read.

    Attributes
    ----------
    sample_ints : numpy.ndarray of uint32
        Subsampling thresholds.
    cum_table : numpy.ndarray of uint32 or None
        Noise table, for negative sampling.
    tree : torchw2v.huffman.PaddedTree or None
        Huffman codes and points, for hierarchical softmax.
    """

    sample_ints: np.ndarray
    cum_table: np.ndarray = None
    tree: object = None


@dataclass
class LossCurve:
    """The training loss recorded through one ``train()`` call (with ``compute_loss``).

    A point is recorded each time a data chunk (native path, about ``chunk_words`` raw words)
    or a span (device path) has been trained: the device's running loss is copied on the device,
    and all points are read back once, at the end of training, so recording never waits for it.

    Attributes
    ----------
    words : numpy.ndarray of int64
        Raw corpus words processed since the start of the call, at each point.
    loss : numpy.ndarray of float64
        Summed training loss since the start of the call, at each point (the last one is
        ``get_latest_training_loss()``).
    epoch_ends : list of int
        ``words`` at the end of each epoch.

    Examples
    --------
    >>> curve = LossCurve(np.array([10, 20, 30]), np.array([5.0, 9.0, 12.0]), [20, 30])
    >>> curve.loss_per_word().tolist()
    [0.5, 0.4, 0.3]
    """

    words: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    loss: np.ndarray = field(default_factory=lambda: np.zeros(0))
    epoch_ends: list = field(default_factory=list)

    def loss_per_word(self):
        """Loss per raw corpus word over each interval between two points (the first from 0)."""
        return np.diff(self.loss, prepend=0.0) / np.maximum(np.diff(self.words, prepend=0), 1)


@dataclass
class TrainingReport:
    """What one ``train()`` call did.

    Attributes
    ----------
    trained_words : int
        Words that survived vocabulary filtering and subsampling (gensim's effective words).
    raw_words : int
        Raw corpus words read, over all epochs.
    loss : float
        Summed training loss (0 unless ``compute_loss``).
    elapsed : float
        Wall seconds.
    last_alpha : float
        The last learning rate used.
    loss_curve : LossCurve
        The loss through training (empty unless ``compute_loss``).
    """

    trained_words: int = 0
    raw_words: int = 0
    loss: float = 0.0
    elapsed: float = 0.0
    last_alpha: float = 0.0
    loss_curve: LossCurve = field(default_factory=LossCurve)


@dataclass
class _PreparedBatch:
    centers: object  # as the steps' ``prepare`` gives them
    contexts: object
    alpha: float


@dataclass
class _ChunkDone:
    raw_words: int
    sentences: int
    effective_words: int


#: glibc's ``mallopt`` parameter number for the mmap threshold.
_M_MMAP_THRESHOLD = -3


@functools.lru_cache(maxsize=None)
def fix_malloc_mmap_threshold(threshold=1024 * 1024):
    """Keep glibc from recycling the batch arrays of one chunk into a fragmented heap.

    glibc raises its mmap threshold each time a large block is freed, after which the
    megabyte-sized numpy arrays of every chunk come from the heap, and freed ones are
    rarely given back: resident memory grows by a hundred MiB or more over an epoch.
    Fixing the threshold (as ``MALLOC_MMAP_THRESHOLD_`` would) returns them at once. Done
    once per process, on glibc only; elsewhere a no-op. Returns whether it was applied.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, threshold))
    except (OSError, AttributeError):
        return False


def learning_rate(alpha, min_alpha, progress):
    """gensim's linear decay: ``alpha`` at progress 0 to ``min_alpha`` at 1 (and no lower).

    >>> learning_rate(0.025, 0.0001, 0.5)
    0.01255
    """
    return max(min_alpha, alpha - (alpha - min_alpha) * progress)


class Trainer:
    """Runs epochs of training with given steps.

    Parameters
    ----------
    config : torchw2v.config.TrainingConfig
    steps : torchw2v.native.NativeSteps or torchw2v.torch_steps.TorchSteps
        Trains the weights. The device path's :class:`~torchw2v.torch_steps.TorchSteps` makes its
        own batches: ``epoch(corpus)`` (the host's view of each span), ``run(alpha)`` (launches a
        span's step), ``loss`` and ``effective_words`` (device tensors). The native steps take the
        producer thread's batches (windows in text order): ``new_state(seed)`` (a training
        thread's random state), ``prepare(centers, contexts)`` (a batch's numpy arrays in the form
        ``step`` takes, on the producer thread), ``step(centers, contexts, alpha, state)`` (trains
        a batch, returns its loss), ``zero_loss()`` and ``losses_to_numpy(values)`` (the running
        loss's start, and recorded values read back), and ``largest_magnitude()`` (of the
        weights, NaN if one is NaN).
    tables : TrainingTables
    total_examples, total_words : int, optional
        Sentences or raw words per epoch, for the learning rate and progress (one is needed).
    threads : int, optional
        Training threads updating the weights concurrently, lock-free (Hogwild, as gensim's
        workers). Only ``threads=1`` is reproducible.
    queue_factor : int, optional
        Batches prepared ahead, per training thread.
    synchronizer : torchw2v.distributed.WeightSynchronizer, optional
        Keeps the weights consistent with other processes training on other shards of the
        corpus. The trainer calls its ``global_counts(raw_words, sentences)`` to turn this
        process's counts into the whole job's, for the learning rate and progress (then
        ``total_examples``/``total_words`` are the whole corpus's), ``chunk_done(raw_words,
        sentences, effective_words)`` after each chunk is trained (it may synchronise the
        weights there, while other training threads keep running), and ``finish_epoch()``
        after the epoch's threads have joined, which returns the epoch's counts summed over
        the processes (reported and checked instead of this process's).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from torchw2v.config import TrainingConfig
    >>> from torchw2v.corpus import EncodedCorpus
    >>> from torchw2v.sampling import noise_cum_table
    >>> from torchw2v.torch_steps import TorchSteps, TorchWeights
    >>> counts = np.array([3, 2, 1])
    >>> tables = TrainingTables(np.full(3, 2**32 - 1, np.uint32), noise_cum_table(counts, 0.75))
    >>> config = TrainingConfig(sg=1, epochs=2)
    >>> weights = TorchWeights.allocate(np.random.rand(3, 4), np.zeros((3, 4)), None, "cpu")
    >>> steps = TorchSteps(config, weights, tables)
    >>> trainer = Trainer(config, steps, tables, total_words=6)
    >>> corpus = EncodedCorpus([["a", "b", "a", "c", "a", "b"]], {"a": 0, "b": 1, "c": 2}, 100)
    >>> trainer.train(corpus).raw_words
    12
    """

    def __init__(self, config, steps, tables, total_examples=None, total_words=None, threads=1,
                 queue_factor=2, synchronizer=None):
        if not total_examples and not total_words:
            raise ValueError(
                "train() needs total_examples or total_words (the corpus size) for the learning-rate schedule; "
                "after build_vocab on the same corpus use total_examples=model.corpus_count")
        self.config = config
        self.steps = steps
        self.tables = tables
        self.total_examples = total_examples
        self.total_words = total_words
        self.synchronizer = synchronizer
        if effective_window(config.window) < config.window:
            logger.info("window=%i: no window reaches past a sentence piece of at most %i tokens, so context words "
                        "are at most %i positions from their center", config.window,
                        effective_window(config.window) + 1, effective_window(config.window))
        self.on_device = hasattr(steps, "epoch")  # the device path: batches made on the device
        if not self.on_device:
            self.thread_states = [steps.new_state(config.seed + i) for i in range(threads)]
            self._running_loss = steps.zero_loss()  # replaced, never changed in place: recorded values stay
        self.queue_size = max(2, queue_factor * threads)
        self.rng = np.random.default_rng(config.seed)
        self._loss_lock = threading.Lock()
        self._loss_points = []  # (raw words since the start, running loss then)
        self._words_before_epoch = 0

    def _progress(self, epoch, raw_words, sentences):
        """Fraction of the whole call done after ``raw_words``/``sentences`` of ``epoch``."""
        if self.synchronizer is not None:
            raw_words, sentences = self.synchronizer.global_counts(raw_words, sentences)
        if self.total_examples:
            within = sentences / self.total_examples
        else:
            within = raw_words / self.total_words
        return (epoch + min(within, 1.0)) / self.config.epochs

    def _produce(self, corpus, epoch, out, stop):
        """Producer thread body: put batches and chunk tallies of one epoch on ``out``."""
        config = self.config
        raw_words = sentences = 0
        try:
            for chunk in corpus.chunks():
                start = self._progress(epoch, raw_words, sentences)
                end = self._progress(epoch, raw_words + chunk.raw_words, sentences + chunk.sentences)
                ids, lengths = subsample(chunk.ids, chunk.sentence_lengths, self.tables.sample_ints, self.rng)
                batches = TextOrderBatches(ids, lengths, config.window, config.shrink_windows, config.batch_size,
                                           self.rng)
                for i, batch in enumerate(batches):
                    # the rate decays batch by batch through the chunk
                    alpha = learning_rate(config.alpha, config.min_alpha, start + (end - start) * i / len(batches))
                    centers, contexts = self.steps.prepare(batch.centers, batch.contexts)
                    if not self._put(out, _PreparedBatch(centers, contexts, alpha), stop):
                        return
                raw_words += chunk.raw_words
                sentences += chunk.sentences
                if not self._put(out, _ChunkDone(chunk.raw_words, chunk.sentences, len(ids)), stop):
                    return
            self._put(out, _END_OF_EPOCH, stop)
        except BaseException as error:  # handed to the training thread, which re-raises it
            self._put(out, error, stop)

    @staticmethod
    def _put(out, item, stop):
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _step(self, batch, state):
        """One batch, with the training thread's random ``state``."""
        loss = self.steps.step(batch.centers, batch.contexts, batch.alpha, state)
        if self.config.compute_loss:
            with self._loss_lock:
                self._running_loss = self._running_loss + loss

    def loss_so_far(self):
        """The summed loss since the start of the call (0 unless ``compute_loss``); synchronises the device."""
        return float(self.steps.loss if self.on_device else self._running_loss)

    def check_finite(self, epoch, alpha):
        """Raise :class:`TrainingDiverged` if a weight is NaN, infinite or absurdly large.

        Synchronises the device. A magnitude over :data:`DIVERGED_MAGNITUDE` counts too: the
        native kernels skip saturated pairs, so a far too high rate leaves huge finite weights,
        not NaN.
        """
        largest = self.steps.largest_magnitude()
        if not largest <= DIVERGED_MAGNITUDE:
            raise TrainingDiverged(
                f"training diverged in epoch {epoch}: the weights became NaN, infinite or huge (|w| = "
                f"{largest:g}) at learning rate alpha={alpha:g}. Lower alpha (gensim's default is 0.025) "
                "and train a fresh model; this model's vectors are not usable."
            )

    def train(self, corpus, on_epoch_begin=None, on_epoch_end=None):
        """Train ``config.epochs`` epochs over ``corpus`` (a :class:`torchw2v.corpus.EncodedCorpus`).

        Parameters
        ----------
        corpus : torchw2v.corpus.EncodedCorpus
        on_epoch_begin, on_epoch_end : callable, optional
            Called with the epoch number (callbacks of the model facade).

        Returns
        -------
        TrainingReport
        """
        report = TrainingReport(last_alpha=self.config.alpha)
        fix_malloc_mmap_threshold()
        start = time.perf_counter()
        bar = self._progress_bar()
        try:
            for epoch in range(self.config.epochs):
                if on_epoch_begin is not None:
                    on_epoch_begin(epoch)
                if self.on_device:
                    self._train_epoch_on_device(corpus, epoch, report, bar)
                else:
                    self._train_epoch(corpus, epoch, report, bar)
                if on_epoch_end is not None:
                    on_epoch_end(epoch)
        finally:
            if bar is not None:
                bar.close()
        report.elapsed = time.perf_counter() - start
        report.loss = self.loss_so_far()
        if self._loss_points:
            words, losses = zip(*self._loss_points)
            report.loss_curve.words = np.array(words, dtype=np.int64)
            report.loss_curve.loss = self.steps.losses_to_numpy(losses)
        logger.info(
            "training on %i raw words (%i effective words) took %.1fs, %.0f effective words/s",
            report.raw_words, report.trained_words, report.elapsed, report.trained_words / max(report.elapsed, 1e-9),
        )
        return report

    def _progress_bar(self):
        if not self.config.progress_bar:
            return None
        from tqdm.auto import tqdm

        if self.total_words:
            return tqdm(total=self.total_words * self.config.epochs, unit="word", unit_scale=True, desc="training")
        return tqdm(total=self.total_examples * self.config.epochs, unit="sentence", unit_scale=True,
                    desc="training")

    def _train_epoch(self, corpus, epoch, report, bar):
        batches = queue.Queue(maxsize=self.queue_size)
        stop = threading.Event()
        tally = _EpochTally(epoch_start=time.perf_counter(), alpha=self.config.alpha)
        producer = threading.Thread(target=self._produce, args=(corpus, epoch, batches, stop),
                                    name=f"torchw2v-batches-{epoch}", daemon=True)
        helpers = [threading.Thread(target=self._work, args=(epoch, batches, stop, tally, bar, state),
                                    name=f"torchw2v-train-{epoch}-{i}", daemon=True)
                   for i, state in enumerate(self.thread_states[1:], start=1)]
        producer.start()
        for thread in helpers:
            thread.start()
        try:
            self._work(epoch, batches, stop, tally, bar, self.thread_states[0])
        finally:
            for thread in helpers:
                thread.join()
            stop.set()
            producer.join()
        if tally.error is not None:
            raise tally.error
        self._finish_epoch(epoch, tally, report)

    def _finish_epoch(self, epoch, tally, report):
        """Check, log and add up an epoch's tally (summed over the ranks with a synchronizer)."""
        if self.synchronizer is not None:
            tally.raw_words, tally.sentences, tally.effective_words = self.synchronizer.finish_epoch()
        self.check_finite(epoch, tally.alpha)
        elapsed = time.perf_counter() - tally.epoch_start
        logger.info(
            "EPOCH %i: training on %i raw words (%i effective words) took %.1fs, %.0f effective words/s",
            epoch, tally.raw_words, tally.effective_words, elapsed, tally.effective_words / max(elapsed, 1e-9),
        )
        if self.total_examples and tally.sentences != self.total_examples:
            logger.warning("EPOCH %i: supplied example count (%i) did not equal expected count (%i)",
                           epoch, tally.sentences, self.total_examples)
        elif not self.total_examples and tally.raw_words != self.total_words:
            logger.warning("EPOCH %i: supplied raw word count (%i) did not equal expected count (%i)",
                           epoch, tally.raw_words, self.total_words)
        report.raw_words += tally.raw_words
        report.trained_words += tally.effective_words
        report.last_alpha = tally.alpha
        report.loss_curve.epoch_ends.append(report.raw_words)
        self._words_before_epoch = report.raw_words

    def _train_epoch_on_device(self, corpus, epoch, report, bar):
        """One epoch of the device path: per span, the host sets the rate and launches the step.

        The host reads the device only for the progress check (about once per ``report_delay``
        seconds: the divergence check and the effective words so far) and at the end of the epoch.
        """
        steps = self.steps
        tally = _EpochTally(epoch_start=time.perf_counter(), alpha=self.config.alpha)
        effective_before = int(steps.effective_words)
        raw_words = sentences = 0
        for span in steps.epoch(corpus):
            progress = self._progress(epoch, raw_words, sentences)
            tally.alpha = learning_rate(self.config.alpha, self.config.min_alpha, progress)
            steps.run(tally.alpha)
            raw_words, sentences = span.raw_words_done, span.sentences_done
            if self.synchronizer is not None:
                self.synchronizer.chunk_done(span.raw_words, span.sentences, 0)
            if self.config.compute_loss:  # a point per span: a device copy, not a read
                self._loss_points.append((self._words_before_epoch + raw_words, steps.loss.clone()))
            if bar is not None:
                bar.update(round(self._progress(epoch, raw_words, sentences) * bar.total) - bar.n)
            now = time.perf_counter()
            if now - tally.last_report >= self.config.report_delay:
                tally.last_report = now
                self._report_progress(epoch, raw_words, sentences, int(steps.effective_words) - effective_before,
                                      now - tally.epoch_start, tally.alpha)
        tally.raw_words, tally.sentences = raw_words, sentences
        tally.effective_words = int(steps.effective_words) - effective_before
        if self.synchronizer is not None:
            self.synchronizer.chunk_done(0, 0, tally.effective_words)
        self._finish_epoch(epoch, tally, report)

    def _work(self, epoch, batches, stop, tally, bar, state):
        """A training thread: run steps on queued batches until the epoch ends or fails."""
        try:
            while not stop.is_set():
                try:
                    item = batches.get(timeout=0.1)
                except queue.Empty:
                    continue
                if item is _END_OF_EPOCH:
                    batches.put(item)  # let the other training threads see it too
                    return
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, _PreparedBatch):
                    self._step(item, state)
                    tally.alpha = item.alpha
                else:
                    self._count(epoch, item, tally, bar)
        except BaseException as error:
            with tally.lock:
                tally.error = tally.error or error
            stop.set()

    def _count(self, epoch, chunk, tally, bar):
        """Add a finished chunk to the epoch's tally; log progress every ``report_delay`` seconds."""
        with tally.lock:
            tally.raw_words += chunk.raw_words
            tally.sentences += chunk.sentences
            tally.effective_words += chunk.effective_words
            if self.synchronizer is not None:
                self.synchronizer.chunk_done(chunk.raw_words, chunk.sentences, chunk.effective_words)
            if bar is not None:  # by the (global, with a synchronizer) progress of the call
                bar.update(round(self._progress(epoch, tally.raw_words, tally.sentences) * bar.total) - bar.n)
            if self.config.compute_loss:
                with self._loss_lock:  # a reference, not a read: no wait for the device
                    self._loss_points.append((self._words_before_epoch + tally.raw_words, self._running_loss))
            now = time.perf_counter()
            if now - tally.last_report < self.config.report_delay:
                return
            tally.last_report = now
            self._report_progress(epoch, tally.raw_words, tally.sentences, tally.effective_words,
                                  now - tally.epoch_start, tally.alpha)

    def _report_progress(self, epoch, raw_words, sentences, effective_words, elapsed, alpha):
        """The progress check: the divergence check (a device read), then gensim's progress log line."""
        self.check_finite(epoch, alpha)
        logger.info(
            "EPOCH %i - PROGRESS: at %.2f%% %s, %.0f words/s, alpha %.6f",
            epoch, 100.0 * self._progress(0, raw_words, sentences) * self.config.epochs,
            "examples" if self.total_examples else "words", effective_words / elapsed, alpha,
        )


@dataclass
class _EpochTally:
    """Counters of one epoch, shared by its training threads (under ``lock``)."""

    epoch_start: float
    alpha: float
    raw_words: int = 0
    sentences: int = 0
    effective_words: int = 0
    last_report: float = 0.0
    error: BaseException = None
    lock: threading.Lock = field(default_factory=threading.Lock)
