"""``TorchWord2Vec``: gensim's ``Word2Vec`` interface, trained with PyTorch.

The class takes gensim 4's ``Word2Vec`` arguments with the same names, defaults and
meaning, plus the torch ones (``device``, ``batch_size``, ``dtype``, ``progress_bar``, ``cpu_kernel``)
and those of distributed training (``distributed``, ``sync_words``, ``dist_timeout``).
Its vocabulary lives in a real ``gensim.models.KeyedVectors`` (``model.wv``), so every
gensim tool works on the result. torch is imported only when training needs it: the native
CPU kernels train numpy weights without it (and ``device="auto"`` looks for a GPU driver
before it asks torch), which saves torch's ~200 MiB of resident memory.

>>> from gensim.test.utils import common_texts
>>> model = TorchWord2Vec(common_texts, vector_size=16, window=2, min_count=1, sg=1, epochs=3, device="cpu")
>>> len(model.wv), model.wv.vector_size
(12, 16)
>>> isinstance(model.wv.most_similar("computer", topn=2), list)
True
>>> model.to_gensim().syn1neg.shape
(12, 16)
"""
import contextlib
import logging
import os
import warnings
from timeit import default_timer

import numpy as np
from gensim.models import KeyedVectors
from gensim.models.word2vec import MAX_WORDS_IN_BATCH

from torchw2v import export
from torchw2v.config import (
    DEFAULT_ADAM_LR, DEFAULT_DIST_TIMEOUT, DEFAULT_SYNC_WORDS, OPTIMIZERS, TrainingConfig, check_model_params,
    default_batch_size, device_type, resolve_cpu_kernel, resolve_device, resolve_dtype,
)
from torchw2v.corpus import EncodedCorpus, check_corpus, iter_sentences
from torchw2v.huffman import assign_to_keyed_vectors, huffman_tree
from torchw2v.native import NativeKernel, NativeSteps
from torchw2v.sampling import noise_cum_table
from torchw2v.trainer import LossCurve, Trainer, TrainingTables
from torchw2v.vocab import prepare_vocab, scan_vocab

logger = logging.getLogger(__name__)

REAL = np.float32


def _distributed():
    """:mod:`torchw2v.distributed`, imported when first needed (it imports torch)."""
    from torchw2v import distributed

    return distributed


def _grown(weights, rows):
    """``weights`` resized to ``rows`` rows, new rows zero (in a new array whose pages are only
    touched when trained), or ``weights`` itself when it has that many.

    >>> _grown(np.ones((1, 2), np.float32), 2).tolist()
    [[1.0, 1.0], [0.0, 0.0]]
    """
    if len(weights) == rows:
        return weights
    grown = np.zeros((rows, weights.shape[1]), dtype=weights.dtype)
    kept = min(rows, len(weights))
    grown[:kept] = weights[:kept]
    return grown


class TorchWord2Vec:
    """Word2vec (skip-gram or CBOW with negative sampling) trained on a torch device.

    Parameters
    ----------
    sentences : iterable of list of str, optional
        The corpus: token lists, or a streaming reader such as gensim's ``LineSentence``,
        ``Text8Corpus`` or ``PathLineSentences``. It must be restartable (iterated once for
        the vocabulary and once per epoch). If neither ``sentences`` nor ``corpus_file`` is
        given the model is left untrained: call :meth:`build_vocab` and :meth:`train`.
    corpus_file : str, optional
        Path to a corpus in ``LineSentence`` format (plain, ``.gz`` or ``.bz2``).
    vector_size : int, optional
        Dimensionality of the word vectors.
    alpha : float, optional
        Initial learning rate.
    window : int, optional
        Maximum distance between the current and predicted word within a sentence.
    min_count : int, optional
        Ignore words with total frequency lower than this.
    max_vocab_size : int, optional
        Limit RAM while counting by pruning the rarest words (gensim's rule).
    sample : float, optional
        Threshold for downsampling frequent words (0 disables it).
    seed : int, optional
        Seed of the initial vectors, the data randomness and the noise draws. On CPU with
        ``workers=1`` the same seed gives the same model.
    workers : int, optional
        Training threads on CPU (capped at the machine's cores), updating the weights
        lock-free as gensim's workers; data preparation runs on one more thread. Only
        ``workers=1`` is exactly reproducible, as in gensim.
    min_alpha : float, optional
        The learning rate decays linearly to this over all epochs.
    sg : {0, 1}, optional
        1 for skip-gram, otherwise CBOW.
    hs : {0, 1}, optional
        1: train with hierarchical softmax over gensim's Huffman tree (``syn1``), alone
        (``negative=0``) or summed with negative sampling.
    negative : int, optional
        Noise words per center word (usually 5-20).
    ns_exponent : float, optional
        Exponent of the noise distribution ``count ** ns_exponent`` (negative allowed).
    cbow_mean : {0, 1}, optional
        CBOW: 1 averages the context vectors, 0 sums them.
    hashfxn : callable, optional
        Kept for gensim's signature; gensim 4 does not use it either (the initial vectors
        come from ``seed``), so a non-default value warns.
    epochs : int, optional
        Passes over the corpus.
    null_word : {0, 1}, optional
        Add gensim's ``'\\0'`` padding word to the vocabulary.
    trim_rule : callable, optional
        gensim's vocabulary trimming rule ``(word, count, min_count) -> RULE_*``.
    sorted_vocab : {0, 1}, optional
        Sort the vocabulary by descending frequency.
    batch_words : int, optional
        Minimum raw words per data-preparation chunk (gensim's job size).
    compute_loss : bool, optional
        Record the training loss (see :meth:`get_latest_training_loss`).
    callbacks : iterable of gensim.models.callbacks.CallbackAny2Vec, optional
        Called at the start and end of training and of each epoch.
    comment : str, optional
        A comment kept with the model.
    max_final_vocab : int, optional
        Raise ``min_count`` so that about this many words remain.
    shrink_windows : bool, optional
        Draw each center's effective window uniformly from ``1..window``.
    device : str or torch.device, optional
        ``"auto"`` (cuda, then mps, then cpu), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
        ``"auto"`` only imports torch to ask for a GPU when a GPU driver is installed (NVIDIA,
        ROCm, WSL2) or on Apple silicon.
    batch_size : int, optional
        Center words per training step (default: 2048 with the native CPU kernels, 256 with
        torch ops on CPU, 16384 on CUDA, 8192 on MPS).
    dtype : torch.dtype or str, optional
        Training precision: float32 (default) or float64 (trained on the batched torch steps).
    progress_bar : bool, optional
        Show a tqdm bar while training.
    cpu_kernel : {"auto", "native", "torch"}, optional
        How to train on CPU: ``"native"``, the compiled kernels (gensim's sequential SGD per
        pair, fastest); ``"torch"``, the batched torch ops that CUDA and MPS run; ``"auto"``,
        native when the kernels were built at install (they need a C compiler) and the
        dtype is float32, else torch.
    shared_negatives : bool, optional
        Skip-gram with the native CPU kernels: draw each center's ``negative`` noise words once
        and share them among its context words (Ji et al. 2016), as the batched torch path
        always does; about 1.5x faster (the noise rows stay in cache through the window) at the
        same quality (see the README's benchmarks). False: fresh noise words for every pair,
        as gensim.
    optimizer : {"sgd", "adam"}, optional
        ``"sgd"``: gensim's SGD, the rate decaying linearly from ``alpha`` to ``min_alpha``.
        ``"adam"``: Adam on the rows each batch touches (:class:`torchw2v.optimizers.SparseRowAdam`),
        on the batched torch path, at ``optimizer_lr`` decaying linearly by the same factor
        (to ``optimizer_lr * min_alpha / alpha``); its moments are not saved with the model.
    optimizer_lr : float, optional
        Adam's initial learning rate (default 0.002). Not used with ``"sgd"``.

    distributed : bool, optional
        Train with several processes launched by ``torchrun`` (one per GPU, or several CPU
        processes), through ``torch.distributed``: NCCL on CUDA, Gloo on CPU. Each rank counts
        and trains on its shard (sentence ``i`` goes to rank ``i % world_size``), the
        vocabulary is merged to the whole corpus's, and the weights are synchronised every
        ``sync_words`` words; every rank ends with the same model, only rank 0 logs progress
        and writes in :meth:`save`. See :mod:`torchw2v.distributed`.
    sync_words : int, optional
        With ``distributed``: raw words of its own shard each rank trains between two
        synchronisations of the weights (fewer: closer to a single process, more traffic; the
        default was measured to match a single process's quality, see
        :data:`torchw2v.config.DEFAULT_SYNC_WORDS`).
    dist_timeout : float, optional
        With ``distributed``: seconds a rank waits for the others at a collective call before
        it stops with :class:`torchw2v.distributed.DistributedTrainingError` (with Gloo, a
        rank that died stops the others at once).

    Attributes
    ----------
    device : str
        The training device's name (``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"``), as torch takes it.
    dtype : str
        The training precision's name, ``"float32"`` or ``"float64"``.
    wv : gensim.models.KeyedVectors
        The word (input) vectors; :meth:`keyed_vectors` gives the input+output average.
    loss_curve : torchw2v.trainer.LossCurve
        The loss through the latest ``train()`` call with ``compute_loss`` (empty otherwise).

    Examples
    --------
    >>> from gensim.test.utils import common_texts
    >>> model = TorchWord2Vec(vector_size=8, min_count=1, device="cpu")
    >>> model.build_vocab(common_texts)
    >>> model.train(common_texts, total_examples=model.corpus_count, epochs=1)[1]
    29
    """

    def __init__(
        self, sentences=None, corpus_file=None, vector_size=100, alpha=0.025, window=5, min_count=5,
        max_vocab_size=None, sample=1e-3, seed=1, workers=3, min_alpha=0.0001,
        sg=0, hs=0, negative=5, ns_exponent=0.75, cbow_mean=1, hashfxn=hash, epochs=5, null_word=0,
        trim_rule=None, sorted_vocab=1, batch_words=MAX_WORDS_IN_BATCH, compute_loss=False, callbacks=(),
        comment=None, max_final_vocab=None, shrink_windows=True,
        *, device="auto", batch_size=None, dtype=None, progress_bar=False, cpu_kernel="auto", shared_negatives=True,
        optimizer="sgd", optimizer_lr=None, distributed=False, sync_words=DEFAULT_SYNC_WORDS,
        dist_timeout=DEFAULT_DIST_TIMEOUT,
    ):
        check_model_params(vector_size, window, min_count, epochs, negative, hs, sample, alpha, min_alpha,
                           workers, max_vocab_size, max_final_vocab, batch_words)
        if hashfxn is not hash:
            warnings.warn("hashfxn has no effect: as in gensim 4, initial vectors are drawn from `seed`",
                          stacklevel=2)
        self.vector_size = int(vector_size)
        self.layer1_size = self.vector_size
        self.alpha = float(alpha)
        self.min_alpha = float(min_alpha)
        self.min_alpha_yet_reached = float(alpha)
        self.window = int(window)
        self.min_count = min_count
        self.effective_min_count = min_count
        self.max_vocab_size = max_vocab_size
        self.max_final_vocab = max_final_vocab
        self.sample = sample
        self.seed = seed
        self.workers = int(workers)
        self.sg = int(sg)
        self.hs = int(hs)
        self.negative = int(negative)
        self.ns_exponent = ns_exponent
        self.cbow_mean = int(cbow_mean)
        self.hashfxn = hashfxn
        self.epochs = int(epochs)
        self.null_word = null_word
        self.sorted_vocab = sorted_vocab
        self.batch_words = batch_words
        self.compute_loss = bool(compute_loss)
        self.comment = comment
        self.shrink_windows = bool(shrink_windows)
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype, self.device)
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                       or batch_size <= 0):
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
        if optimizer_lr is not None and not (isinstance(optimizer_lr, (int, float)) and optimizer_lr > 0):
            raise ValueError(f"optimizer_lr must be a number > 0, got {optimizer_lr!r}")
        self.optimizer = optimizer
        self.optimizer_lr = float(optimizer_lr or DEFAULT_ADAM_LR)
        if optimizer == "adam":
            if cpu_kernel == "native":
                raise ValueError("optimizer='adam' runs on the batched torch steps: use cpu_kernel='auto' or 'torch'")
            cpu_kernel = "torch"
        self.cpu_kernel = resolve_cpu_kernel(cpu_kernel, self.device, self.dtype)
        self.batch_size = batch_size or default_batch_size(self.device, self.cpu_kernel)
        self.progress_bar = bool(progress_bar)
        self.shared_negatives = bool(shared_negatives)
        if isinstance(sync_words, bool) or not isinstance(sync_words, int) or sync_words <= 0:
            raise ValueError(f"sync_words must be a positive integer, got {sync_words!r}")
        if isinstance(dist_timeout, bool) or not isinstance(dist_timeout, (int, float)) or not dist_timeout > 0:
            raise ValueError(f"dist_timeout must be a positive number of seconds, got {dist_timeout!r}")
        self.sync_words = sync_words
        self.dist_context = None  # a torchw2v.distributed.DistributedContext with distributed=True
        if distributed:
            self.dist_context = _distributed().init_distributed(self.device, dist_timeout)
            self.device = str(self.dist_context.device)

        self.wv = KeyedVectors(self.vector_size)
        self.wv.vectors_lockf = np.ones(1, dtype=REAL)
        self.syn1neg = np.zeros((0, self.layer1_size), dtype=REAL)
        self.syn1 = np.zeros((0, self.layer1_size), dtype=REAL)
        self.cum_table = None
        self.huffman = None  # padded Huffman codes and points, with hs
        self.raw_vocab = None
        self.corpus_count = 0
        self.corpus_total_words = 0
        self.train_count = 0
        self.total_train_time = 0.0
        self.running_training_loss = 0.0
        self.loss_curve = LossCurve()

        if sentences is not None or corpus_file is not None:
            check_corpus(sentences, corpus_file, passes=self.epochs + 1)
            self.build_vocab(sentences, corpus_file=corpus_file, trim_rule=trim_rule)
            self.train(
                sentences, corpus_file=corpus_file, total_examples=self.corpus_count,
                total_words=self.corpus_total_words, epochs=self.epochs, start_alpha=self.alpha,
                end_alpha=self.min_alpha, compute_loss=self.compute_loss, callbacks=callbacks,
            )
        else:
            if trim_rule is not None:
                logger.warning("trim_rule is only used by build_vocab(); pass it there, it is ignored here")
            if callbacks:
                logger.warning("callbacks are only used by train(); pass them there, they are ignored here")

    # ------------------------------------------------------------------ vocabulary
    def build_vocab(self, corpus_iterable=None, corpus_file=None, update=False, progress_per=10000,
                    keep_raw_vocab=False, trim_rule=None, **kwargs):
        """Build the vocabulary from a corpus (one pass; a one-shot generator is fine).

        Parameters
        ----------
        corpus_iterable : iterable of list of str, optional
        corpus_file : str, optional
        update : bool, optional
            Add the new words to the existing vocabulary (and grow the weights).
        progress_per : int, optional
            Log progress every this many sentences.
        keep_raw_vocab : bool, optional
            Keep the raw counts in ``raw_vocab``.
        trim_rule : callable, optional
        **kwargs
            ``min_count``, ``sample`` or ``dry_run`` overrides, as gensim's ``prepare_vocab``.

        Examples
        --------
        >>> model = TorchWord2Vec(min_count=1, device="cpu")
        >>> model.build_vocab([["a", "b"], ["a"]])
        >>> model.wv.index_to_key, model.corpus_count, model.corpus_total_words
        (['a', 'b'], 2, 3)
        """
        check_corpus(corpus_iterable, corpus_file, passes=1)
        scan = scan_vocab(self._sentences(corpus_iterable, corpus_file), max_vocab_size=self.max_vocab_size,
                          trim_rule=trim_rule, progress_per=progress_per)
        if self.dist_context is not None:
            scan = _distributed().merge_vocab_scans(scan, self.dist_context)
        if scan.total_words == 0:
            raise ValueError("the corpus is empty: it has no words to build a vocabulary from")
        self.corpus_count = scan.corpus_count
        self.corpus_total_words = scan.total_words
        self.raw_vocab = scan.raw_vocab
        del scan  # the raw counts go once prepared (unless keep_raw_vocab), before the weights come
        self._prepare(update=update, keep_raw_vocab=keep_raw_vocab, trim_rule=trim_rule, **kwargs)

    def build_vocab_from_freq(self, word_freq, keep_raw_vocab=False, corpus_count=None, trim_rule=None,
                              update=False):
        """Build the vocabulary from a ``{word: count}`` mapping instead of a corpus.

        >>> model = TorchWord2Vec(min_count=2, device="cpu")
        >>> model.build_vocab_from_freq({"a": 3, "b": 1, "c": 2})
        >>> model.wv.index_to_key
        ['a', 'c']
        """
        logger.info("collected %i word types, with total frequency of %i", len(word_freq), sum(word_freq.values()))
        self.corpus_count = corpus_count or 0
        self.raw_vocab = word_freq
        self._prepare(update=update, keep_raw_vocab=keep_raw_vocab, trim_rule=trim_rule)

    def _prepare(self, update, keep_raw_vocab, trim_rule, min_count=None, sample=None, dry_run=False):
        if update and not len(self.wv):
            raise RuntimeError(
                "build_vocab(update=True) needs an existing vocabulary: build one first with update=False")
        min_count = min_count or self.min_count
        sample = sample or self.sample
        report = prepare_vocab(
            self.wv, self.raw_vocab, min_count=min_count, sample=sample, max_final_vocab=self.max_final_vocab,
            trim_rule=trim_rule, sorted_vocab=self.sorted_vocab, null_word=self.null_word, update=update,
            dry_run=dry_run,
        )
        if dry_run:
            return report
        self.effective_min_count = report["effective_min_count"]
        if not update:
            self.min_count, self.sample = min_count, sample
        if not len(self.wv):
            raise ValueError(
                f"the vocabulary is empty: no word occurs at least min_count={self.effective_min_count} times "
                f"among the {len(self.raw_vocab)} word types seen; lower min_count (or max_final_vocab/trim_rule)"
            )
        if self.dist_context is not None:
            _distributed().check_same_vocabulary(self.wv, self.dist_context)
        if not keep_raw_vocab:
            self.raw_vocab = {}
        self._prepare_tables()
        self.estimate_memory()
        self._prepare_weights(update)
        return report

    def _sentences(self, corpus_iterable, corpus_file):
        """The corpus's sentences, or this rank's shard of them with ``distributed``."""
        sentences = iter_sentences(corpus_iterable, corpus_file)
        if self.dist_context is None:
            return sentences
        return _distributed().shard(sentences, self.dist_context.rank, self.dist_context.world_size)

    def _prepare_tables(self):
        """Derived per-word tables: the noise table (negative) and the Huffman tree (hs)."""
        counts = self.wv.expandos["count"]
        self.cum_table = noise_cum_table(counts, self.ns_exponent) if self.negative else None
        self.huffman = None
        if self.hs:
            tree = huffman_tree(counts)
            assign_to_keyed_vectors(tree, self.wv)
            self.huffman = tree.padded()

    def _prepare_weights(self, update):
        if not update:
            logger.info("resetting layer weights")
            self.wv.vectors = np.zeros((0, self.vector_size), dtype=REAL)
            self.syn1neg = np.zeros((0, self.layer1_size), dtype=REAL)
            self.syn1 = np.zeros((0, self.layer1_size), dtype=REAL)
        self.wv.resize_vectors(seed=self.seed)  # gensim's initialisation: uniform in [-1, 1) / vector_size
        self.wv.vectors_lockf = np.ones(1, dtype=REAL)
        # as gensim, output weights only for the objectives in use
        self.syn1neg = _grown(self.syn1neg, len(self.wv) if self.negative else 0)
        self.syn1 = _grown(self.syn1, len(self.wv) if self.hs else 0)

    def estimate_memory(self, vocab_size=None, report=None):
        """Bytes the model's tables take, with gensim's estimate for the vocabulary itself.

        >>> TorchWord2Vec(vector_size=10, device="cpu").estimate_memory(vocab_size=100)["total"]
        58000
        """
        vocab_size = vocab_size or len(self.wv)
        report = report or {}
        itemsize = np.dtype(REAL).itemsize
        report["vocab"] = vocab_size * (700 if self.hs else 500)
        report["vectors"] = vocab_size * self.vector_size * itemsize
        if self.hs:
            report["syn1"] = vocab_size * self.layer1_size * itemsize
        if self.negative:
            report["syn1neg"] = vocab_size * self.layer1_size * itemsize
        report["total"] = sum(report.values())
        logger.info("estimated required memory for %i words and %i dimensions: %i bytes",
                    vocab_size, self.vector_size, report["total"])
        return report

    # ------------------------------------------------------------------ training
    def train(self, corpus_iterable=None, corpus_file=None, total_examples=None, total_words=None, epochs=None,
              start_alpha=None, end_alpha=None, word_count=0, queue_factor=2, report_delay=1.0,
              compute_loss=False, callbacks=(), **kwargs):
        """Train the weights on a corpus, as gensim's ``Word2Vec.train``.

        Parameters
        ----------
        corpus_iterable : iterable of list of str, optional
        corpus_file : str, optional
        total_examples : int, optional
            Sentences in the corpus (``model.corpus_count`` after ``build_vocab`` on it); with
            ``distributed``, the whole corpus's, not the shard's.
        total_words : int, optional
            Raw words in the corpus. One of ``total_examples``/``total_words`` is required.
        epochs : int
            Passes over the corpus (required, as in gensim).
        start_alpha, end_alpha : float, optional
            Learning-rate bounds of this call (default ``alpha``/``min_alpha``).
        word_count : int, optional
            Unused, as in gensim 4 (a nonzero value warns).
        queue_factor : int, optional
            Batches buffered ahead of the training steps, per worker.
        report_delay : float, optional
            Seconds between progress log lines.
        compute_loss : bool, optional
            Record the loss of this call (see :meth:`get_latest_training_loss`).
        callbacks : iterable of gensim.models.callbacks.CallbackAny2Vec, optional

        Returns
        -------
        (int, int)
            Effective words trained (after subsampling) and raw words read (with
            ``distributed``, summed over the ranks).
        """
        if kwargs:
            raise TypeError(f"train() got unexpected keyword arguments {sorted(kwargs)}")
        if word_count:
            warnings.warn("word_count has no effect (as in gensim 4)", stacklevel=2)
        if not len(self.wv):
            raise RuntimeError("you must first build the vocabulary (build_vocab) before training the model")
        if epochs is None or isinstance(epochs, bool) or not isinstance(epochs, int) or epochs <= 0:
            raise ValueError(f"train() needs an explicit positive epochs count (usually model.epochs), got {epochs!r}")
        check_corpus(corpus_iterable, corpus_file, passes=epochs)
        self.alpha = start_alpha or self.alpha
        self.min_alpha = end_alpha or self.min_alpha
        self.epochs = epochs
        self.compute_loss = bool(compute_loss)
        if self.alpha > self.min_alpha_yet_reached:
            logger.warning("Effective 'alpha' higher than previous training cycles")
        if self.optimizer == "adam":  # Adam's own rate, decaying by the same factor as alpha would
            start_rate, end_rate = self.optimizer_lr, self.optimizer_lr * self.min_alpha / self.alpha
        else:
            start_rate, end_rate = self.alpha, self.min_alpha
        config = TrainingConfig(
            sg=self.sg, window=self.window, shrink_windows=self.shrink_windows, negative=self.negative,
            hs=bool(self.hs), cbow_mean=bool(self.cbow_mean), alpha=start_rate, min_alpha=end_rate, epochs=epochs,
            batch_size=self.batch_size, chunk_words=max(self.batch_words, 16 * self.batch_size),
            compute_loss=self.compute_loss, seed=self.seed + self.train_count, report_delay=report_delay,
            progress_bar=self.progress_bar and (self.dist_context is None or self.dist_context.is_main),
        )
        logger.info(
            "training model on %s with %i vocabulary and %i features, using sg=%s hs=%s sample=%s negative=%s "
            "window=%s shrink_windows=%s batch_size=%i optimizer=%s%s",
            self.device, len(self.wv), self.layer1_size, self.sg, self.hs, self.sample, self.negative,
            self.window, self.shrink_windows, self.batch_size, self.optimizer,
            f" cpu_kernel={self.cpu_kernel}" if device_type(self.device) == "cpu" else "",
        )
        callbacks = list(callbacks)
        tables = TrainingTables(self.wv.expandos["sample_int"], self.cum_table, self.huffman)
        if self._native():
            weights = (self.wv.vectors, self.syn1neg, self.syn1)
            kernel = NativeKernel(self.wv.vectors, self.syn1neg, self.cum_table, self.negative, syn1=self.syn1,
                                  tree=self.huffman, shared_negatives=self.shared_negatives)
            steps = NativeSteps(config, kernel)
            store_weights = self._numpy_weights_changed
        else:
            steps = self._torch_steps(config, tables)
            weights = steps.weights.matrices()
            store_weights = self._store_device_weights(steps.weights)
        synchronizer = None
        if self.dist_context is not None:
            synchronizer = self._synchronizer(weights)
        trainer = Trainer(config, steps, tables, total_examples=total_examples, total_words=total_words,
                          threads=self._training_threads(), queue_factor=queue_factor, synchronizer=synchronizer)
        corpus = EncodedCorpus(self._sentences(corpus_iterable, corpus_file), self.wv.key_to_index,
                               config.chunk_words)

        def on_epoch_begin(epoch):
            for callback in callbacks:
                callback.on_epoch_begin(self)

        def on_epoch_end(epoch):
            if callbacks:
                store_weights()
            for callback in callbacks:
                callback.on_epoch_end(self)

        for callback in callbacks:
            callback.on_train_begin(self)
        start = default_timer()
        try:
            with self._torch_threads():
                report = trainer.train(corpus, on_epoch_begin, on_epoch_end)
        finally:
            corpus.close()
            store_weights()
        self.total_train_time += default_timer() - start
        self.running_training_loss = report.loss if synchronizer is None else synchronizer.sum_over_ranks(report.loss)
        self.loss_curve = report.loss_curve
        if self.optimizer == "sgd":
            self.min_alpha_yet_reached = report.last_alpha
        self.train_count += 1
        for callback in callbacks:
            callback.on_train_end(self)
        return report.trained_words, report.raw_words

    def _native(self):
        """Whether training runs the native CPU kernels (on the numpy weights, without torch)."""
        return device_type(self.device) == "cpu" and self.cpu_kernel == "native"

    def _training_threads(self):
        """Concurrent training threads: ``workers`` (at most the cores) on CPU, one on an accelerator."""
        if device_type(self.device) != "cpu":
            return 1
        return max(1, min(self.workers, os.cpu_count() or 1))

    def _torch_steps(self, config, tables):
        """The device path's steps on copies of the weights (with Adam when ``optimizer="adam"``)."""
        import torch

        from torchw2v.torch_steps import TorchSteps, TorchWeights

        weights = TorchWeights.allocate(self.wv.vectors, self.syn1neg, self.syn1, self.device,
                                        dtype=getattr(torch, self.dtype), lockf=self.wv.vectors_lockf)
        optimizer = None
        if self.optimizer == "adam":
            from torchw2v.optimizers import SparseRowAdam

            optimizer = SparseRowAdam(weights.matrices(), lr=config.alpha)
        return TorchSteps(config, weights, tables, optimizer=optimizer)

    def _synchronizer(self, weights):
        """The distributed weight synchronizer of the weights in use (as tensors sharing their memory)."""
        import torch

        trained = [torch.from_numpy(w) if isinstance(w, np.ndarray) else w for w in weights if len(w)]
        return _distributed().WeightSynchronizer(trained, self.dist_context, self.sync_words)

    @contextlib.contextmanager
    def _torch_threads(self):
        """With the torch steps on CPU, one torch thread per training thread (parallelism comes from them)."""
        if self._native() or device_type(self.device) != "cpu":
            yield
            return
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)

    def _numpy_weights_changed(self):
        """After the native kernels changed ``wv.vectors`` in place: drop the stale norms."""
        self.wv.norms = None

    def _store_device_weights(self, weights):
        """A function that copies the device weights back into ``wv.vectors``/``syn1neg``/``syn1``."""
        def store():
            weights.store(self.wv.vectors, self.syn1neg, self.syn1)
            self.wv.norms = None
        return store

    def get_latest_training_loss(self):
        """The summed loss of the latest ``train()`` call (0 unless ``compute_loss``).

        >>> from gensim.test.utils import common_texts
        >>> m = TorchWord2Vec(common_texts, min_count=1, compute_loss=True, epochs=1, device="cpu")
        >>> m.get_latest_training_loss() > 0
        True
        """
        return self.running_training_loss

    # ------------------------------------------------------------------ using the model
    def predict_output_word(self, context_words_list, topn=10):
        """The most probable center words given context words, as gensim's method.

        Returns ``None`` (with a warning) when no context word is in the vocabulary.

        >>> from gensim.test.utils import common_texts
        >>> m = TorchWord2Vec(common_texts, min_count=1, epochs=1, device="cpu")
        >>> len(m.predict_output_word(["system", "graph"], topn=3))
        3
        """
        if not self.negative:
            raise RuntimeError(
                "predict_output_word needs negative sampling (negative > 0), as in gensim: an hs-only model "
                "has no output vector per word")
        indices = [self.wv.get_index(word) for word in context_words_list if word in self.wv]
        if not indices:
            logger.warning("none of the words in context_words_list are in the vocabulary")
            return None
        hidden = np.sum(self.wv.vectors[indices], axis=0)
        if self.cbow_mean:
            hidden /= len(indices)
        scores = self.syn1neg @ hidden
        probabilities = np.exp(scores - scores.max())
        probabilities /= probabilities.sum()
        top = np.argsort(-probabilities, kind="stable")[:topn]
        return [(self.wv.index_to_key[i], float(probabilities[i])) for i in top]

    def to_gensim(self):
        """A ``gensim.models.Word2Vec`` with this model's vocabulary and weights, ready to train on.

        See :func:`torchw2v.export.to_gensim`.
        """
        return export.to_gensim(self)

    def keyed_vectors(self, kind="input"):
        """Word vectors: ``"input"`` (a copy of ``wv``), the ``"average"`` of input and output
        vectors, or their ``"concat"`` (see :func:`torchw2v.export.keyed_vectors`).

        >>> from gensim.test.utils import common_texts
        >>> m = TorchWord2Vec(common_texts, vector_size=8, min_count=1, epochs=1, device="cpu")
        >>> m.keyed_vectors("average").most_similar("computer", topn=1)[0][0] in m.wv
        True
        """
        return export.keyed_vectors(self, kind)

    def save(self, fname):
        """Save everything needed to use and resume training (see :mod:`torchw2v.persistence`).

        With ``distributed``, only rank 0 writes (every rank holds the same model); the file
        loads as an ordinary model, without ``torch.distributed``.
        """
        from torchw2v import persistence

        if self.dist_context is not None and not self.dist_context.is_main:
            logger.debug("rank %i does not write %s: rank 0 does", self.dist_context.rank, fname)
            return
        persistence.save(self, fname)

    @classmethod
    def load(cls, fname, device="auto"):
        """Load a model saved by :meth:`save`, onto ``device``.

        >>> import tempfile, os
        >>> from gensim.test.utils import common_texts
        >>> m = TorchWord2Vec(common_texts, min_count=1, epochs=1, device="cpu")
        >>> path = os.path.join(tempfile.mkdtemp(), "m.tw2v")
        >>> m.save(path)
        >>> TorchWord2Vec.load(path, device="cpu").wv.index_to_key == m.wv.index_to_key
        True
        """
        from torchw2v import persistence

        return persistence.load(cls, fname, device=device)

    def __str__(self):
        return (f"{type(self).__name__}<vocab={len(self.wv)}, vector_size={self.vector_size}, "
                f"alpha={self.alpha}, device={self.device}>")

    __repr__ = __str__
