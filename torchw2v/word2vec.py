"""``TorchWord2Vec``: a gensim ``Word2Vec`` whose training runs on the native CPU kernels or on torch.

``TorchWord2Vec`` subclasses ``gensim.models.Word2Vec``: ``isinstance(model, Word2Vec)`` holds,
gensim's tools accept it and every method gensim's class has works as gensim's. What it
replaces is the training (the encoded-corpus replay, the native kernels, the batched torch
steps, distributed training, Adam) and, for speed, the vocabulary scan. Its torch-only keywords
(``device``, ``batch_size``, ``dtype``, ...) are declared once in :mod:`torchw2v.config`. torch is
imported only when training needs it: the native CPU kernels train numpy weights without it
(and ``device="auto"`` looks for a GPU driver before it asks torch), which saves torch's ~200 MiB
of resident memory.

>>> from gensim.models import Word2Vec
>>> from gensim.test.utils import common_texts
>>> model = TorchWord2Vec(common_texts, vector_size=16, window=2, min_count=1, sg=1, epochs=3, device="cpu")
>>> isinstance(model, Word2Vec), len(model.wv), model.wv.vector_size
(True, 12, 16)
>>> isinstance(model.wv.most_similar("computer", topn=2), list)
True
>>> model.to_gensim().syn1neg.shape
(12, 16)
"""
import contextlib
import logging
import os
import threading
import warnings
import weakref
from timeit import default_timer

import numpy as np
from gensim.models import Word2Vec
from gensim.models.word2vec import MAX_WORDS_IN_BATCH
from gensim.utils import PICKLE_PROTOCOL

from torchw2v import export, persistence
from torchw2v.config import (
    DEFAULT_ADAM_LR, DEFAULT_DIST_TIMEOUT, DEFAULT_SYNC_WORDS, GENSIM_PARAMETERS, PARAMETERS, TORCH_PARAMETERS,
    TrainingConfig, callbacks_list, check_settings, default_batch_size, device_type, integer, number,
    resolve_cpu_kernel, resolve_cuda_kernel, resolve_device, resolve_dtype,
)
from torchw2v.corpus import EncodedCorpus, ScannedCorpus, check_corpus, iter_sentences
from torchw2v.huffman import assign_to_keyed_vectors, huffman_tree
from torchw2v.native import NativeKernel, NativeSteps
from torchw2v.sampling import noise_cum_table
from torchw2v.trainer import LossCurve, Trainer, TrainingTables
from torchw2v.vocab import prepare_vocab, scan_vocab

logger = logging.getLogger(__name__)

REAL = np.float32

#: Attributes that belong to this process only, never pickled: the distributed process group,
#: during training the reader of the running loss, and in the constructor the scan's recording.
TRANSIENT_ATTRIBUTES = ("dist_context", "_live_loss", "_scanned_corpus")

#: Models with a ``train()`` call running (a second concurrent call is refused).
_TRAINING = weakref.WeakSet()
_TRAINING_LOCK = threading.Lock()


class EmptyVocabularyError(RuntimeError, ValueError):
    """The corpus leaves no word to train: empty, or no word reaches ``min_count``.

    A RuntimeError, as gensim raises for an empty corpus (from ``train()``), and a ValueError.
    """


class TrainingInProgressError(RuntimeError):
    """``train()`` was called on a model that another thread is training."""


class CorpusFileNotFoundError(FileNotFoundError, TypeError):
    """``corpus_file`` is not a file: a FileNotFoundError, and a TypeError as gensim raises."""


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


class TorchWord2Vec(Word2Vec):
    """gensim's ``Word2Vec``, trained by torchw2v: the native CPU kernels, or batched torch ops on any device.

    A subclass of ``gensim.models.Word2Vec``: it takes gensim's arguments with the same names,
    defaults and meaning, and inherits gensim's methods (``score``, ``predict_output_word``,
    ``reset_from``, ``init_sims``, ``estimate_memory``, lifecycle events...). It replaces the
    training (:meth:`train`), the vocabulary scan (:meth:`scan_vocab`, :meth:`prepare_vocab`,
    faster, with gensim's results) and adds the keyword-only arguments below, declared once in
    :data:`torchw2v.config.TORCH_PARAMETERS`.

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
        Center slots per update (default 2048: per call of the native CPU kernels, and per update
        of the device path on CUDA and MPS; 256 with ``cpu_kernel="torch"`` on CPU, where smaller
        updates stay in cache; on the device path with hierarchical softmax, whose larger updates
        learn less, 64 for skip-gram and 256 for CBOW). The device path makes its batches
        from spans of at least 16384 corpus tokens, trained as consecutive updates of
        ``batch_size`` slots; larger updates learn less per word (see the README).
    dtype : torch.dtype or str, optional
        Training precision: float32 (default) or float64 (trained on the batched torch steps).
    progress_bar : bool, optional
        Show a tqdm bar while training.
    cpu_kernel : {"auto", "native", "torch"}, optional
        How to train on CPU: ``"native"``, the compiled kernels (gensim's sequential SGD per
        pair, fastest); ``"torch"``, the batched torch ops that CUDA and MPS run; ``"auto"``,
        native when the kernels were built at install (they need a C compiler) and the
        dtype is float32, else torch.
    cuda_kernel : {"auto", "triton", "torch"}, optional
        The device path's step on CUDA: ``"triton"``, fused kernels per update
        (:mod:`torchw2v.kernels.triton_step`, float32 SGD; with hierarchical softmax the torch
        step's capped sums, :mod:`torchw2v.kernels.triton_row_sums`); ``"torch"``, the torch ops of
        :mod:`torchw2v.objectives` (the reference, and Adam); ``"auto"``, triton where it is
        installed and supports the settings (which one runs is logged).
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
        Adam's initial learning rate (default 0.002, the reference experiment's for 20-50 epochs).
        In gensim's 5 epochs on a small corpus it moves rows too little: on text8's first 2.1M
        words skip-gram scores WordSim-353 0.274 at 0.002 and 0.517 at 0.01 (gensim's SGD 0.457).
        Not used with ``"sgd"``.

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
    running_training_loss : float
        With ``compute_loss``, the loss of the current ``train()`` call so far (read during
        training, e.g. in a callback, it is the loss up to that moment; with ``distributed``, this
        rank's until the call ends, then the sum over the ranks), or of the latest call.

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
        *, device="auto", batch_size=None, dtype=None, progress_bar=False, cpu_kernel="auto", cuda_kernel="auto",
        shared_negatives=True, optimizer="sgd", optimizer_lr=None, distributed=False, sync_words=DEFAULT_SYNC_WORDS,
        dist_timeout=DEFAULT_DIST_TIMEOUT,
    ):
        arguments = dict(locals())
        settings = check_settings(**{parameter.name: arguments[parameter.name]
                                     for parameter in GENSIM_PARAMETERS + TORCH_PARAMETERS
                                     if parameter.name not in ("sentences", "corpus_file")})
        if hashfxn is not hash:
            warnings.warn("hashfxn has no effect: as in gensim 4, initial vectors are drawn from `seed`",
                          stacklevel=2)
        self._apply_torch_settings(**{parameter.name: settings.pop(parameter.name) for parameter in TORCH_PARAMETERS},
                                   sg=settings["sg"], hs=settings["hs"])
        self.syn1neg = np.zeros((0, settings["vector_size"]), dtype=REAL)
        self.syn1 = np.zeros((0, settings["vector_size"]), dtype=REAL)
        self.huffman = None  # padded Huffman codes and points, with hs
        self.loss_curve = LossCurve()
        # gensim's constructor trains on the corpus its build_vocab scanned: the scan records it as
        # ids (ScannedCorpus), and the first epoch encodes those instead of reading the text again
        self._scanned_corpus = None
        try:
            super().__init__(sentences=sentences, corpus_file=corpus_file, **settings)
        finally:
            scanned = self.__dict__.pop("_scanned_corpus")
            if scanned is not None:
                scanned.close()

    def _apply_torch_settings(self, device, batch_size, dtype, progress_bar, cpu_kernel, cuda_kernel,
                              shared_negatives, optimizer, optimizer_lr, distributed, sync_words, dist_timeout, sg, hs):
        """Resolve and set the torch-only settings (checked by :func:`torchw2v.config.check_settings`);
        the default ``batch_size`` also depends on the objective (``sg``, ``hs``)."""
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype, self.device)
        if optimizer == "adam":
            if cpu_kernel == "native":
                raise ValueError("optimizer='adam' runs on the batched torch steps: use cpu_kernel='auto' or 'torch'")
            cpu_kernel = "torch"
        self.optimizer = optimizer
        self.optimizer_lr = float(optimizer_lr or DEFAULT_ADAM_LR)
        self.cpu_kernel = resolve_cpu_kernel(cpu_kernel, self.device, self.dtype)
        self.cuda_kernel = cuda_kernel
        if cuda_kernel == "triton":  # an explicit choice that cannot run is an error now, not at train()
            resolve_cuda_kernel(cuda_kernel, self.device, self.dtype, optimizer)
        self.batch_size = batch_size or default_batch_size(self.device, self.cpu_kernel, sg, hs)
        self.progress_bar = progress_bar
        self.shared_negatives = shared_negatives
        self.sync_words = sync_words
        self.dist_timeout = dist_timeout
        self.dist_context = None  # a torchw2v.distributed.DistributedContext with distributed=True
        if distributed:
            self.dist_context = _distributed().init_distributed(self.device, dist_timeout)
            self.device = str(self.dist_context.device)

    # ------------------------------------------------------------------ the loss, live during training
    @property
    def running_training_loss(self):
        """The summed loss of the current ``train()`` call so far, or of the latest one (0 unless
        ``compute_loss``). Read during training, it asks the steps for their running total (a
        device read on a GPU, only when read)."""
        live = self.__dict__.get("_live_loss")
        if live is not None:
            return live()
        return self.__dict__.get("_running_training_loss", 0.0)

    @running_training_loss.setter
    def running_training_loss(self, value):
        self.__dict__["_running_training_loss"] = value

    # ------------------------------------------------------------------ pickling (gensim's save, copy, joblib)
    def __getstate__(self):
        state = self.__dict__.copy()
        if "_live_loss" in state:  # saved from a callback during training: the loss so far
            state["_running_training_loss"] = self.running_training_loss
        for name in TRANSIENT_ATTRIBUTES:
            state.pop(name, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.dist_context = None

    # ------------------------------------------------------------------ vocabulary
    def _check_corpus_sanity(self, corpus_iterable=None, corpus_file=None, passes=1):
        """gensim's corpus checks, with compressed ``corpus_file`` allowed (:func:`torchw2v.corpus.check_corpus`)."""
        try:
            check_corpus(corpus_iterable, corpus_file, passes=passes)
        except FileNotFoundError as error:
            raise CorpusFileNotFoundError(str(error)) from None

    def scan_vocab(self, corpus_iterable=None, corpus_file=None, progress_per=10000, workers=None, trim_rule=None):
        """Count the corpus's words into ``raw_vocab`` as gensim's ``scan_vocab`` (faster); with
        ``distributed``, every rank's counts merged.

        Returns
        -------
        (int, int)
            Raw words and sentences in the corpus.

        Examples
        --------
        >>> model = TorchWord2Vec(min_count=1, device="cpu")
        >>> model.scan_vocab([["a", "b"], ["a"]]), dict(model.raw_vocab)
        ((3, 2), {'a': 2, 'b': 1})
        """
        logger.info("collecting all words and their counts")
        progress_per = integer(minimum=1)("progress_per", progress_per)
        trim_rule = PARAMETERS["trim_rule"].checked(trim_rule)
        digest = _distributed().CorpusDigest() if self.dist_context is not None else None
        record = None
        if "_scanned_corpus" in self.__dict__ and not self.max_vocab_size and self.dist_context is None:
            record = self._scanned_corpus = ScannedCorpus(self._chunk_words())  # in the constructor
        scan = scan_vocab(self._sentences(corpus_iterable, corpus_file, digest), max_vocab_size=self.max_vocab_size,
                          trim_rule=trim_rule, progress_per=progress_per, record=record)
        if self.dist_context is not None:
            scan = _distributed().merge_vocab_scans(scan, self.dist_context, digest)
        self.raw_vocab = scan.raw_vocab
        return scan.total_words, scan.corpus_count

    def prepare_vocab(self, update=False, keep_raw_vocab=False, trim_rule=None, min_count=None, sample=None,
                      dry_run=False):
        """Apply ``min_count``, ``max_final_vocab``, ``trim_rule`` and ``sample`` to ``raw_vocab``, as
        gensim's ``prepare_vocab`` (same words, order, counts and thresholds), then build the Huffman
        tree (hs) and the noise table (negative).

        Raises
        ------
        EmptyVocabularyError
            No word is left (a RuntimeError, as gensim's for an empty corpus, and a ValueError).

        Examples
        --------
        >>> model = TorchWord2Vec(min_count=2, device="cpu")
        >>> model.raw_vocab = {"a": 3, "b": 1, "c": 2}
        >>> model.prepare_vocab()["num_retained_words"], model.wv.index_to_key
        (2, ['a', 'c'])
        """
        if update and not len(self.wv):
            raise RuntimeError(
                "build_vocab(update=True) needs an existing vocabulary: build one first with update=False")
        min_count = integer(minimum=0)("min_count", min_count or self.min_count)
        sample = number(minimum=0, optional=True)("sample", sample or self.sample)
        trim_rule = PARAMETERS["trim_rule"].checked(trim_rule)
        report = prepare_vocab(
            self.wv, self.raw_vocab, min_count=min_count, sample=sample, max_final_vocab=self.max_final_vocab,
            trim_rule=trim_rule, sorted_vocab=self.sorted_vocab, null_word=self.null_word, update=update,
            dry_run=dry_run,
        )
        self.effective_min_count = report["effective_min_count"]
        if dry_run:
            return report
        if not update:
            self.min_count, self.sample = min_count, sample
        if not len(self.wv):
            if not self.raw_vocab:
                raise EmptyVocabularyError("the corpus is empty: it has no words to build a vocabulary from")
            raise EmptyVocabularyError(
                f"the vocabulary is empty: no word occurs at least min_count={self.effective_min_count} times "
                f"among the {len(self.raw_vocab)} word types seen; lower min_count (or max_final_vocab/trim_rule)"
            )
        self.add_lifecycle_event("prepare_vocab", msg=(
            f"effective_min_count={self.effective_min_count} retains {report['num_retained_words']} unique words, "
            f"downsampling leaves estimated {report['downsample_total']} word corpus"))
        if self.dist_context is not None:
            _distributed().check_same_vocabulary(self.wv, self.dist_context)
        if not keep_raw_vocab:
            logger.info("deleting the raw counts dictionary of %i items", len(self.raw_vocab))
            self.raw_vocab = {}
        self._prepare_tables()
        return report

    def _sentences(self, corpus_iterable, corpus_file, digest=None):
        """The corpus's sentences, or this rank's shard of them with ``distributed`` (every sentence read
        added to ``digest``, a :class:`torchw2v.distributed.CorpusDigest`)."""
        sentences = iter_sentences(corpus_iterable, corpus_file)
        if self.dist_context is None:
            return sentences
        return _distributed().shard(sentences, self.dist_context.rank, self.dist_context.world_size, digest)

    def _prepare_tables(self):
        """Derived per-word tables: the Huffman tree (hs) and the noise table (negative)."""
        self.huffman = None
        if self.hs:
            self.create_binary_tree()
        self.cum_table = None
        if self.negative:
            self.make_cum_table()

    def create_binary_tree(self):
        """gensim's Huffman tree over the word counts: ``code`` and ``point`` of every word (and the
        padded arrays the training steps read, in ``huffman``)."""
        tree = huffman_tree(self.wv.expandos["count"])
        assign_to_keyed_vectors(tree, self.wv)
        self.huffman = tree.padded()

    def make_cum_table(self, domain=2**31 - 1):
        """gensim's noise table ``cum_table`` (``count ** ns_exponent``), computed with numpy.

        >>> model = TorchWord2Vec(min_count=1, device="cpu")
        >>> model.build_vocab([["a", "a", "b"]])
        >>> model.make_cum_table(domain=100); model.cum_table.tolist()
        [63, 100]
        """
        self.cum_table = noise_cum_table(self.wv.expandos["count"], self.ns_exponent, domain)

    def init_weights(self):
        """Reset the weights to gensim's initial state for the current vocabulary: input vectors from
        ``seed``, output weights zero, only for the objectives in use."""
        logger.info("resetting layer weights")
        self.wv.vectors = np.zeros((0, self.vector_size), dtype=REAL)
        self.wv.resize_vectors(seed=self.seed)  # gensim's initialisation: uniform in [-1, 1) / vector_size
        self.syn1neg = np.zeros((len(self.wv) if self.negative else 0, self.layer1_size), dtype=REAL)
        self.syn1 = np.zeros((len(self.wv) if self.hs else 0, self.layer1_size), dtype=REAL)

    def update_weights(self):
        """Keep the trained weights and add initial ones for the words added to the vocabulary."""
        logger.info("updating layer weights")
        if not len(self.wv.vectors):
            raise RuntimeError(
                "You cannot do an online vocabulary-update of a model which has no prior vocabulary. "
                "First build the vocabulary of your model with a corpus before doing an online update.")
        self.wv.resize_vectors(seed=self.seed)
        self.syn1neg = _grown(self.syn1neg, len(self.wv) if self.negative else 0)
        self.syn1 = _grown(self.syn1, len(self.wv) if self.hs else 0)

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
            Record the loss of this call (see ``get_latest_training_loss``).
        callbacks : iterable of gensim.models.callbacks.CallbackAny2Vec, optional

        Returns
        -------
        (int, int)
            Effective words trained (after subsampling) and raw words read (with
            ``distributed``, summed over the ranks).

        Raises
        ------
        TrainingInProgressError
            Another thread is training this model.
        """
        if kwargs:
            raise TypeError(f"train() got unexpected keyword arguments {sorted(kwargs)}")
        with _TRAINING_LOCK:
            if self in _TRAINING:
                raise TrainingInProgressError(
                    "train() is already running on this model (in another thread or from a callback): wait for it "
                    "to finish, or train a copy")
            _TRAINING.add(self)
        try:
            return self._train(corpus_iterable, corpus_file, total_examples, total_words, epochs, start_alpha,
                               end_alpha, word_count, queue_factor, report_delay, compute_loss, callbacks)
        finally:
            with _TRAINING_LOCK:
                _TRAINING.discard(self)

    def _train(self, corpus_iterable, corpus_file, total_examples, total_words, epochs, start_alpha, end_alpha,
               word_count, queue_factor, report_delay, compute_loss, callbacks):
        total_examples = integer(minimum=1, optional=True)("total_examples", total_examples)
        total_words = integer(minimum=1, optional=True)("total_words", total_words)
        epochs = integer(minimum=1, optional=True)("epochs", epochs)
        start_alpha = number(above=0, optional=True)("start_alpha", start_alpha)
        end_alpha = number(minimum=0, optional=True)("end_alpha", end_alpha)
        queue_factor = integer(minimum=1)("queue_factor", queue_factor)
        report_delay = number(minimum=0)("report_delay", report_delay)
        compute_loss = PARAMETERS["compute_loss"].checked(compute_loss)
        callbacks = callbacks_list("callbacks", callbacks)
        if word_count:
            warnings.warn("word_count has no effect (as in gensim 4)", stacklevel=3)
        self.alpha = start_alpha or self.alpha
        self.min_alpha = end_alpha or self.min_alpha
        if self.min_alpha > self.alpha:
            logger.warning("min_alpha (%g) is above alpha (%g): the learning rate will rise during training",
                           self.min_alpha, self.alpha)
        self.epochs = epochs
        self._check_training_sanity(epochs=epochs, total_examples=total_examples, total_words=total_words)
        self._check_corpus_sanity(corpus_iterable=corpus_iterable, corpus_file=corpus_file, passes=epochs)
        persistence.check_model_state(self, context="train()", for_training=True)
        self._check_derived_tables()
        self.add_lifecycle_event("train", msg=(
            f"training model on {self.device} with {self.workers} workers on {len(self.wv)} vocabulary and "
            f"{self.layer1_size} features, using sg={self.sg} hs={self.hs} sample={self.sample} "
            f"negative={self.negative} window={self.window} shrink_windows={self.shrink_windows}"))
        self.compute_loss = compute_loss
        self.running_training_loss = 0.0
        if self.optimizer == "adam":  # Adam's own rate, decaying by the same factor as alpha would
            start_rate, end_rate = self.optimizer_lr, self.optimizer_lr * self.min_alpha / self.alpha
        else:
            start_rate, end_rate = self.alpha, self.min_alpha
        config = TrainingConfig(
            sg=self.sg, window=self.window, shrink_windows=self.shrink_windows, negative=self.negative,
            hs=bool(self.hs), cbow_mean=bool(self.cbow_mean), alpha=start_rate, min_alpha=end_rate, epochs=epochs,
            batch_size=self.batch_size, chunk_words=self._chunk_words(),
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
        tables = TrainingTables(self.wv.expandos["sample_int"], self.cum_table, self.huffman)
        lockf = self._lock_factors()
        if self._native():
            weights = (self.wv.vectors, self.syn1neg, self.syn1)
            kernel = NativeKernel(self.wv.vectors, self.syn1neg, self.cum_table, self.negative, syn1=self.syn1,
                                  tree=self.huffman, shared_negatives=self.shared_negatives, lockf=lockf)
            steps = NativeSteps(config, kernel)
            store_weights = self._numpy_weights_changed
        else:
            steps = self._torch_steps(config, tables, lockf)
            weights = steps.weights.matrices()
            store_weights = self._store_device_weights(steps.weights)
        synchronizer = digest = None
        if self.dist_context is not None:  # before any weights cross: a wrong shape aborts inside the backend
            _distributed().check_same_settings(self._distributed_settings(config, total_examples, total_words),
                                               self.dist_context)
            digest = _distributed().CorpusDigest()
            synchronizer = self._synchronizer(weights, digest)
        trainer = Trainer(config, steps, tables, total_examples=total_examples, total_words=total_words,
                          threads=self._training_threads(), queue_factor=queue_factor, synchronizer=synchronizer)
        scanned = self.__dict__.get("_scanned_corpus")
        if scanned is not None:  # the constructor's training: the scan has recorded the corpus
            self._scanned_corpus = None
        corpus = EncodedCorpus(self._sentences(corpus_iterable, corpus_file, digest), self.wv.key_to_index,
                               config.chunk_words, scanned=scanned)

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
        self._live_loss = trainer.loss_so_far
        try:
            with self._torch_threads():
                report = trainer.train(corpus, on_epoch_begin, on_epoch_end)
        finally:
            del self._live_loss
            corpus.close()
            store_weights()
        self.total_train_time += default_timer() - start
        self.running_training_loss = report.loss if synchronizer is None else synchronizer.sum_over_ranks(report.loss)
        self.loss_curve = report.loss_curve
        if self.optimizer == "sgd":
            self.min_alpha_yet_reached = report.last_alpha
        self.train_count += 1
        self._clear_post_train()
        for callback in callbacks:
            callback.on_train_end(self)
        return report.trained_words, report.raw_words

    def _chunk_words(self):
        """Raw words per data-preparation chunk (at least 16 batches)."""
        return max(self.batch_words, 16 * self.batch_size)

    def _check_derived_tables(self):
        """Rebuild the noise table and Huffman tree when they do not match the vocabulary (after gensim's
        ``reset_from``, or arrays replaced by hand), so that no kernel draws a word past the vocabulary."""
        words = len(self.wv)
        if self.hs and (self.huffman is None or len(self.huffman.lengths) != words):
            self.create_binary_tree()
        if self.negative and (self.cum_table is None or len(self.cum_table) != words):
            self.make_cum_table()

    def _lock_factors(self):
        """gensim's ``wv.vectors_lockf`` as the kernels take it: one float32 value, or one per word
        (a length other than 1 or the vocabulary's repeats as gensim's ``word % len(lockf)``)."""
        lockf = np.asarray(getattr(self.wv, "vectors_lockf", np.ones(1)), dtype=REAL).ravel()
        if len(lockf) not in (1, len(self.wv)):
            lockf = lockf[np.arange(len(self.wv)) % len(lockf)]
        return np.ascontiguousarray(lockf)

    def _native(self):
        """Whether training runs the native CPU kernels (on the numpy weights, without torch)."""
        return device_type(self.device) == "cpu" and self.cpu_kernel == "native"

    def _training_threads(self):
        """Concurrent training threads: ``workers`` (at most the cores) on CPU, one on an accelerator."""
        if device_type(self.device) != "cpu":
            return 1
        return max(1, min(self.workers, os.cpu_count() or 1))

    def _torch_steps(self, config, tables, lockf):
        """The device path's steps on copies of the weights (with Adam when ``optimizer="adam"``)."""
        import torch

        from torchw2v.torch_steps import TorchSteps, TorchWeights

        weights = TorchWeights.allocate(self.wv.vectors, self.syn1neg, self.syn1, self.device,
                                        dtype=getattr(torch, self.dtype), lockf=lockf)
        optimizer = None
        if self.optimizer == "adam":
            from torchw2v.optimizers import SparseRowAdam

            optimizer = SparseRowAdam(weights.matrices(), lr=config.alpha)
        kernel = resolve_cuda_kernel(self.cuda_kernel, self.device, self.dtype, self.optimizer)
        logger.info("device path on %s: the step runs %s", self.device,
                    "the fused Triton kernel" if kernel == "triton" else "torch ops")
        return TorchSteps(config, weights, tables, optimizer=optimizer, kernel=kernel)

    def _distributed_settings(self, config, total_examples, total_words):
        """What every rank of a distributed run must agree on: the training settings, the vocabulary
        size and the corpus size given to ``train()``."""
        settings = {name: getattr(self, name) for name in (
            "vector_size", "sample", "ns_exponent", "sync_words", "cpu_kernel", "optimizer", "dtype")}
        settings.update({name: getattr(config, name) for name in (
            "sg", "window", "shrink_windows", "negative", "hs", "cbow_mean", "alpha", "min_alpha", "epochs",
            "batch_size")})
        settings.update(vocabulary=len(self.wv), total_examples=total_examples, total_words=total_words)
        return settings

    def _synchronizer(self, weights, corpus_digest):
        """The distributed weight synchronizer of the weights in use (as tensors sharing their memory), which
        compares the ranks' ``corpus_digest`` after the first epoch."""
        import torch

        trained = [torch.from_numpy(w) if isinstance(w, np.ndarray) else w for w in weights if len(w)]
        return _distributed().WeightSynchronizer(trained, self.dist_context, self.sync_words, corpus_digest)

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

    # ------------------------------------------------------------------ export
    def to_gensim(self):
        """A plain ``gensim.models.Word2Vec`` with this model's vocabulary and weights, ready to train on,
        that loads without torchw2v (see :func:`torchw2v.export.to_gensim`)."""
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

    # ------------------------------------------------------------------ persistence
    def save(self, fname_or_handle, separately=None, sep_limit=10 * 1024**2, ignore=frozenset(),
             pickle_protocol=PICKLE_PROTOCOL):
        """Save the model in gensim's format (a pickle, large arrays in ``.npy`` files beside it), as
        gensim's ``save`` with the same arguments. ``gensim.models.Word2Vec.load`` reads it (where
        torchw2v is installed), and so does :meth:`load`.

        The file is written to a temporary name in the same folder and renamed over ``fname`` when
        complete, so a save that fails keeps the previous file. With ``distributed``, only rank 0
        writes. For a file that loads without running code, see :meth:`save_weights_only`.
        """
        if self._other_rank("writes", fname_or_handle):
            return
        persistence.save_atomically(self, fname_or_handle, super().save, separately=separately,
                                    sep_limit=sep_limit, ignore=ignore, pickle_protocol=pickle_protocol)

    def _save_specials(self, fname, separately, sep_limit, ignore, pickle_protocol, compress, subname):
        """gensim's: the derived tables (noise table, padded Huffman tree) are not stored."""
        ignore = set(ignore).union(["huffman"])
        return super()._save_specials(fname, separately, sep_limit, ignore, pickle_protocol, compress, subname)

    @classmethod
    def load(cls, fname, mmap=None, *, device=None, rethrow=False):
        """Load a model saved by :meth:`save`, by gensim's ``Word2Vec.save`` (gensim 4, or an older
        version gensim 4 reads) or by :meth:`save_weights_only`, ready to train.

        **Loading gensim's format unpickles the file, which runs any code it contains**, as
        ``gensim.models.Word2Vec.load`` does: load only files you trust. A file written by
        :meth:`save_weights_only` is recognised and read without unpickling; for a file from an
        untrusted source, use :meth:`load_weights_only`, which reads nothing else.

        Parameters
        ----------
        fname : str or os.PathLike
        mmap : {None, "r", "r+", "c"}, optional
            Memory-map the arrays stored in separate files (gensim's ``mmap``; ``"r"`` is read-only:
            such a model can be queried, not trained).
        device : str, optional
            The training device; default: the saved one when available here, else ``"auto"``.
        rethrow : bool, optional
            gensim's argument: re-raise a load error without logging gensim's hint.

        Raises
        ------
        torchw2v.persistence.ModelFileError
            (a ValueError) The file is damaged or not a word2vec model; the message names it.

        Examples
        --------
        >>> import tempfile, os
        >>> from gensim.test.utils import common_texts
        >>> m = TorchWord2Vec(common_texts, min_count=1, epochs=1, device="cpu")
        >>> path = os.path.join(tempfile.mkdtemp(), "m.model")
        >>> m.save(path)
        >>> TorchWord2Vec.load(path, device="cpu").wv.index_to_key == m.wv.index_to_key
        True
        """
        return persistence.load(cls, fname, mmap=mmap, device=device, rethrow=rethrow)

    def _load_specials(self, fname, mmap, compress, subname):
        """gensim's, then the checks and derived tables of a loaded model (also when
        ``gensim.models.Word2Vec.load`` reads the file)."""
        super()._load_specials(fname, mmap, compress, subname)
        persistence.restore_loaded(self, fname)

    def save_weights_only(self, fname):
        """Save the settings, vocabulary and weights in torchw2v's format that loads without running
        code (no pickled objects; see :mod:`torchw2v.persistence`), atomically.

        >>> import tempfile, os
        >>> from gensim.test.utils import common_texts
        >>> m = TorchWord2Vec(common_texts, min_count=1, epochs=1, device="cpu")
        >>> path = os.path.join(tempfile.mkdtemp(), "m.tw2v")
        >>> m.save_weights_only(path)
        >>> bool((TorchWord2Vec.load_weights_only(path, device="cpu").wv.vectors == m.wv.vectors).all())
        True
        """
        if self._other_rank("writes", fname):
            return
        persistence.save_weights_only(self, fname)

    @classmethod
    def load_weights_only(cls, fname, device=None):
        """Load a file written by :meth:`save_weights_only`, never running code from it: safe for files
        from untrusted sources. Every array and setting is checked; a bad file raises
        :class:`torchw2v.persistence.ModelFileError` naming what is wrong."""
        return persistence.load_weights_only(cls, fname, device=device)

    def _other_rank(self, action, target):
        """Whether this is a distributed rank other than 0 (which does not write files)."""
        if self.dist_context is not None and not self.dist_context.is_main:
            logger.debug("rank %i does not write %s: rank 0 %s", self.dist_context.rank, target, action)
            return True
        return False
