"""Training on several processes with PyTorch's own ``torch.distributed``, launched by ``torchrun``.

One process per device: NCCL between GPUs, Gloo between CPU processes. ``TorchWord2Vec(...,
distributed=True)`` uses everything here; nothing else in torchw2v calls ``torch.distributed``.

The scheme, step by step:

- **Process group** (:func:`init_distributed`): the group ``torchrun`` describes in the
  environment (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``, ``LOCAL_RANK``), or
  the one the script already initialised. A CUDA device without an index becomes
  ``cuda:LOCAL_RANK``. Every collective call waits at most ``timeout`` seconds.
- **Sharding** (:func:`shard`): sentence ``i`` of the corpus goes to rank ``i % world_size``.
  Every rank reads the whole corpus and keeps its own sentences, so the corpus needs no
  preparation, and a shard may be empty (fewer sentences than ranks).
- **Vocabulary** (:func:`merge_vocab_scans`, :func:`check_same_vocabulary`): each rank counts
  its shard; the raw counts are gathered and merged in rank order on every rank, so gensim's
  ``prepare_vocab`` rules give the same vocabulary everywhere (checked by a digest). The counts,
  ``corpus_count`` and ``corpus_total_words`` are the whole corpus's. Ties between words of
  equal count may be ordered differently from a single-process scan; with ``max_vocab_size``,
  each shard is pruned on its own.
- **Weights** (:class:`WeightSynchronizer`): every ``sync_words`` raw words of its shard, each
  rank sends what it learned since the previous synchronisation and receives the others':
  ``W = W_last + sum over ranks of (W_rank - W_last)``, one ``all_reduce`` per weight matrix.
  Summing keeps each rank's full update, as lock-free (Hogwild) threads of one process do, only
  delayed; averaging would divide each rank's learning by the number of ranks (measured on the
  Lee corpus with 2 ranks: the similarities of frequent words correlate with a single process's
  at 0.96-0.97 when summing, as two single-process seeds do, and at 0.65 when averaging). The
  delay is what costs quality: keep ``sync_words`` small enough (see :data:`torchw2v.config.DEFAULT_SYNC_WORDS`).
  The epoch ends with a last synchronisation after which all ranks hold bit-identical weights.
- **Learning rate**: it follows the global progress, the raw words all ranks have trained
  (known at each synchronisation) over the corpus's words; between synchronisations a rank
  extrapolates with its own count times the number of ranks.
- **Agreement**: before training, the ranks compare their settings and corpus sizes
  (:func:`check_same_settings`); each rank digests the whole corpus as it reads it
  (:class:`CorpusDigest`: sentences, raw words, a hash of every token in order), and the digests
  are compared after the vocabulary scan and after the first epoch of ``train()``
  (:func:`check_same_corpus`), so that ranks reading different corpora stop instead of training
  on a mix.
- **Faults**: a collective that fails (a peer process died) or exceeds the timeout (a peer
  hangs) raises :class:`DistributedTrainingError` naming the rank, the step and the timeout,
  and the ranks that died or hang: each rank publishes a heartbeat and its last collective
  call in the process group's store (:class:`RankMonitor`), which the failing rank reads.

>>> get_world_size_and_rank()
(1, 0)
>>> list(shard([["a"], ["b"], ["c"]], rank=1, world_size=2))
[['b']]
"""
import atexit
import datetime
import hashlib
import itertools
import logging
import os
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.distributed as dist

from torchw2v.config import DEFAULT_DIST_TIMEOUT as DEFAULT_TIMEOUT  # defaults of dist_timeout, sync_words
from torchw2v.config import DEFAULT_SYNC_WORDS
from torchw2v.vocab import VocabScan

logger = logging.getLogger(__name__)

#: Environment variables ``torchrun`` sets that the ``env://`` rendezvous needs.
TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


#: Seconds between two heartbeats of a rank in the store (see :class:`RankMonitor`).
HEARTBEAT_SECONDS = 0.5

#: Seconds a failing rank watches the others' heartbeats to tell which ranks stopped.
HEARTBEAT_WATCH_SECONDS = 2.5 * HEARTBEAT_SECONDS

#: Seconds the training thread waits for the store (a call's record, the diagnosis's reads).
STORE_SECONDS = 2.0


class DistributedTrainingError(RuntimeError):
    """A collective call failed or timed out (another rank died, raised an error or hangs), or the
    ranks disagree on their settings or corpus."""


@dataclass(frozen=True)
class DistributedContext:
    """This process's place in the process group.

    Attributes
    ----------
    rank, world_size : int
    device : torch.device
        The training device of this rank (its collectives run on it).
    timeout : float
        Seconds a collective call may wait for the other ranks.

    Examples
    --------
    >>> DistributedContext(0, 2, torch.device("cpu"), 60.0).is_main
    True
    """

    rank: int
    world_size: int
    device: torch.device
    timeout: float
    monitor: "RankMonitor" = field(default=None, compare=False, repr=False)

    @property
    def is_main(self):
        """Whether this is rank 0, the one that logs progress and writes files."""
        return self.rank == 0


def get_world_size_and_rank():
    """``(world_size, rank)`` of the initialised process group, ``(1, 0)`` without one.

    Handy for a script that writes its own files on rank 0 only.

    >>> get_world_size_and_rank()
    (1, 0)
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size(), dist.get_rank()
    return 1, 0


class RankMonitor:
    """Each rank's heartbeat and last collective call, in the process group's store: names the ranks
    that died or hang when a collective call fails.

    A daemon thread counts this rank's heartbeats under ``torchw2v/beat<RANK>`` every
    :data:`HEARTBEAT_SECONDS`; the training thread writes the number and name of each collective
    call it enters under ``torchw2v/call<RANK>`` (:meth:`entering`, one store write per call;
    each thread has its own connection to the store, opened at the start). When a call fails,
    :meth:`diagnose` reads every rank's entries twice, :data:`HEARTBEAT_WATCH_SECONDS` apart: a
    rank whose heartbeat did not move died (or is frozen); one that beats but has not reached the
    failing call hangs (or is busy elsewhere). The store lives in rank 0's process (or torchrun's
    agent): when it does not answer, that is what the diagnosis says.

    Parameters
    ----------
    rank, world_size : int
    store : torch.distributed.Store
        The process group's store (it must support ``clone``).

    Attributes
    ----------
    store : torch.distributed.Store
        The store it reports to.
    calls : int
        Collective calls this rank entered.
    """

    def __init__(self, rank, world_size, store):
        self.rank, self.world_size = rank, world_size
        self.store = store
        self.calls = 0
        # the training thread's connection, opened now: a store that died later answers it at once
        self._main_store = store.clone()
        self._main_store.set_timeout(datetime.timedelta(seconds=STORE_SECONDS))
        self._main_store.set(f"torchw2v/call{rank}", "0 no collective call yet")
        beat_store = store.clone()
        beat_store.set(f"torchw2v/beat{rank}", "0")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(beat_store,), name="torchw2v-heartbeat",
                                        daemon=True)
        self._thread.start()

    def _beat(self, store):
        beat = 0
        while not self._stop.wait(HEARTBEAT_SECONDS):
            beat += 1
            try:
                store.set(f"torchw2v/beat{self.rank}", str(beat))
            except Exception:  # the store is gone (rank 0 exited): nobody is left to read the heartbeat
                return

    def entering(self, what):
        """Record in the store that this rank enters its next collective call, ``what``."""
        self.calls += 1
        try:
            self._main_store.set(f"torchw2v/call{self.rank}", f"{self.calls} {what}")
        except Exception:  # the store is gone: the call itself fails, and its diagnosis says so
            pass

    def stop(self):
        """Stop the heartbeat (before the process group is destroyed)."""
        self._stop.set()
        self._thread.join()

    def _entries(self, store):
        """Per other rank that reported: (heartbeats, its last call's number, its name)."""
        entries = {}
        for rank in range(self.world_size):
            keys = [f"torchw2v/beat{rank}", f"torchw2v/call{rank}"]
            if rank != self.rank and store.check(keys):
                beat, call = (store.get(key).decode("utf-8") for key in keys)
                number, what = call.split(" ", 1)
                entries[rank] = (int(beat), int(number), what)
        return entries

    def diagnose(self):
        """Which other ranks stopped, or have not reached this rank's current call (a sentence; "" if none).

        Takes :data:`HEARTBEAT_WATCH_SECONDS`.
        """
        try:
            first = self._entries(self._main_store)
            time.sleep(HEARTBEAT_WATCH_SECONDS)
            second = self._entries(self._main_store)
        except Exception as error:  # DistStoreError, connection errors
            return (f"the process group's store does not answer ({str(error).strip()[:200]}): rank 0 (or "
                    "torchrun's agent, which may hold the store) has stopped")
        findings = []
        for rank in range(self.world_size):
            if rank == self.rank:
                continue
            if rank not in second:
                findings.append(f"rank {rank} never reported to the store")
                continue
            beat, number, what = second[rank]
            if rank in first and first[rank][0] == beat:
                findings.append(f"rank {rank} died or is frozen (no heartbeat for {HEARTBEAT_WATCH_SECONDS:g}s; "
                                f"its last collective call: #{number}, {what})")
            elif number < self.calls:
                findings.append(f"rank {rank} is alive but has not reached this call #{self.calls} (its last: "
                                f"#{number}, {what}): it hangs or is busy elsewhere")
        return "; ".join(findings)


_MONITOR = None  # this process's RankMonitor, for the current default process group


def _start_monitor(rank, world_size):
    """This process's :class:`RankMonitor` (started once per process group), or None without a usable store."""
    global _MONITOR
    try:
        store = dist.distributed_c10d._get_default_store()
    except (AttributeError, RuntimeError, ValueError):  # a torch without it, or a group without a store
        return None
    if _MONITOR is None or _MONITOR.store is not store:
        try:
            _MONITOR = RankMonitor(rank, world_size, store)
        except (RuntimeError, NotImplementedError) as error:  # a store that cannot be cloned
            logger.warning("no heartbeat in the process group's store (%s): a failing rank will not be named", error)
            return None
    return _MONITOR


@contextmanager
def _collective(rank, world_size, timeout, what, monitor=None):
    """Turn a ``torch.distributed`` failure during ``what`` into a :class:`DistributedTrainingError`
    that names the ranks that died or hang (with a :class:`RankMonitor`)."""
    if monitor is not None:
        monitor.entering(what)
    try:
        yield
    except DistributedTrainingError:
        raise
    except RuntimeError as error:  # torch.distributed's DistError and its subclasses included
        diagnosis = monitor.diagnose() if monitor is not None else ""
        if not diagnosis:
            diagnosis = "another rank probably died, raised an error or did not answer"
        raise DistributedTrainingError(
            f"rank {rank} of {world_size}: {what} failed, waiting at most dist_timeout={timeout:g}s: {diagnosis} "
            f"(see the logs of the ranks named). Cause: {str(error).strip()[:500]}"
        ) from error


def _guarded(context, what):
    """:func:`_collective` for a :class:`DistributedContext`."""
    return _collective(context.rank, context.world_size, context.timeout, what, context.monitor)


def init_distributed(device, timeout=DEFAULT_TIMEOUT):
    """Join (or create) the process group and pick this rank's device.

    Parameters
    ----------
    device : torch.device or str
        The resolved training device: CPU (Gloo) or CUDA (NCCL). A CUDA device without an
        index becomes ``cuda:LOCAL_RANK``.
    timeout : float, optional
        Seconds any collective call (the rendezvous included) may wait for the other ranks.

    Returns
    -------
    DistributedContext

    Raises
    ------
    ValueError
        ``device`` is MPS, or a CPU device in an NCCL group.
    DistributedTrainingError
        No process group is initialised and the ``torchrun`` environment variables are missing,
        or the rendezvous failed or timed out.

    Notes
    -----
    The group is created with backend ``nccl`` for CUDA and ``gloo`` for CPU, from the
    environment (``env://``). For NCCL, ``TORCH_NCCL_BLOCKING_WAIT=1`` is set unless already
    set, so that a timed-out collective raises in the training thread instead of aborting the
    process. A group created here is destroyed at exit (unless the script destroyed it). On
    ranks other than 0, the ``torchw2v`` and ``gensim`` loggers are raised to WARNING: only rank 0
    logs progress.
    """
    device = torch.device(device)
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"distributed=True trains on CUDA devices (NCCL) or on CPU (Gloo), not on {device.type}")
    if not dist.is_available():
        raise DistributedTrainingError("distributed=True but this torch build has no torch.distributed")
    if dist.is_initialized():
        rank, world_size = dist.get_rank(), dist.get_world_size()
        if device.type == "cpu" and dist.get_backend() == "nccl":
            raise ValueError("the initialised process group uses NCCL, which reduces CUDA tensors only: use "
                             "device='cuda' or initialise a Gloo group for CPU training")
    else:
        missing = [name for name in TORCHRUN_VARIABLES if name not in os.environ]
        if missing:
            raise DistributedTrainingError(
                "distributed=True needs a torch.distributed process group, but none is initialised and the "
                f"environment variables {', '.join(missing)} are not set: launch the script with "
                "`torchrun --nproc_per_node=N script.py` (which sets them), or call "
                "torch.distributed.init_process_group() before creating the model")
        rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    if device.type == "cuda":
        if device.index is None:
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", rank % torch.cuda.device_count())))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if backend == "nccl":
            os.environ.setdefault("TORCH_NCCL_BLOCKING_WAIT", "1")
        with _collective(rank, world_size, timeout, "joining the process group"):
            dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout))
        atexit.register(_destroy_process_group)
    if rank != 0:
        for name in ("torchw2v", "gensim"):  # TorchWord2Vec is a gensim Word2Vec: gensim's methods log too
            package_logger = logging.getLogger(name)
            if package_logger.getEffectiveLevel() < logging.WARNING:
                package_logger.setLevel(logging.WARNING)
    logger.info("distributed training: %i processes, %s backend, this is rank %i on %s",
                world_size, dist.get_backend(), rank, device)
    return DistributedContext(rank, world_size, device, float(timeout), _start_monitor(rank, world_size))


def _destroy_process_group():
    """Tear down the group created by :func:`init_distributed` before the interpreter exits.

    Left to the interpreter's shutdown, its communication threads are sometimes destroyed
    while still running, which aborts the process (``terminate called without an active
    exception``) after training succeeded.
    """
    global _MONITOR
    if _MONITOR is not None:
        _MONITOR.stop()
        _MONITOR = None
    if dist.is_initialized():
        dist.destroy_process_group()


class CorpusDigest:
    """What a rank read of the corpus: sentences, raw words, and a BLAKE2b hash of every token in order.

    >>> first, second = CorpusDigest(), CorpusDigest()
    >>> for sentence in [["a", "b"], ["c"]]:
    ...     first.add(sentence)
    >>> for sentence in [["a"], ["b", "c"]]:
    ...     second.add(sentence)
    >>> first.summary()[:2], first.summary() == second.summary()
    ((2, 3), False)
    """

    def __init__(self):
        self.sentences = self.words = 0
        self._hash = hashlib.blake2b(digest_size=16)

    def add(self, sentence):
        """Count and hash one sentence (a list of tokens)."""
        self.sentences += 1
        self.words += len(sentence)
        self._hash.update("\x1f".join(map(str, sentence)).encode("utf-8", "surrogatepass") + b"\x1e")

    def summary(self):
        """``(sentences, raw words, hex digest)``."""
        return self.sentences, self.words, self._hash.hexdigest()


def shard(sentences, rank, world_size, digest=None):
    """The sentences of one rank: sentence ``i`` goes to rank ``i % world_size``.

    Every sentence read, this rank's or not, is added to ``digest`` (a :class:`CorpusDigest`).

    >>> list(shard([["a"], ["b"], ["c"]], rank=0, world_size=2))
    [['a'], ['c']]
    """
    if digest is None:
        return itertools.islice(sentences, rank, None, world_size)
    return _digested_shard(sentences, rank, world_size, digest)


def _digested_shard(sentences, rank, world_size, digest):
    for i, sentence in enumerate(sentences):
        digest.add(sentence)
        if i % world_size == rank:
            yield sentence


def check_same_corpus(digest, context, when, trained=False):
    """Raise :class:`DistributedTrainingError` naming the ranks whose :class:`CorpusDigest` differs from rank 0's.

    A collective call: every rank calls it, ``when`` it has read the whole corpus (``"build_vocab"``, ...);
    ``trained`` says that the weights were trained on what it read.
    """
    summaries = [None] * context.world_size
    with _guarded(context, f"comparing the corpora read by {when}"):
        dist.all_gather_object(summaries, digest.summary())
    differing = [rank for rank, summary in enumerate(summaries) if summary != summaries[0]]
    if differing:
        described = "; ".join(f"rank {rank}: {summaries[rank][0]} sentences, {summaries[rank][1]} words, digest "
                              f"{summaries[rank][2][:12]}" for rank in [0] + differing)
        raise DistributedTrainingError(
            f"rank {context.rank} of {context.world_size}: ranks {differing} read a different corpus from rank 0's "
            f"in {when} ({described}): every rank reads the whole corpus and keeps its own sentences, so each "
            "must be given the same one (on every node, the same copy of the file)" +
            ("; the weights trained meanwhile mixed the corpora: train a fresh model" if trained else ""))


def merge_vocab_scans(scan, context, digest=None):
    """Merge every rank's :class:`torchw2v.vocab.VocabScan` into the whole corpus's, on every rank.

    Counts are added in rank order, so every rank gets the same dictionary in the same order.
    With ``digest`` (the :class:`CorpusDigest` of the scan's reading), the ranks first check
    that they read the same corpus.
    """
    if digest is not None:
        check_same_corpus(digest, context, "build_vocab")
    gathered = [None] * context.world_size
    with _guarded(context, "gathering the vocabulary counts"):
        dist.all_gather_object(gathered, (dict(scan.raw_vocab), scan.total_words, scan.corpus_count))
    merged = defaultdict(int)
    for raw_vocab, _, _ in gathered:
        for word, count in raw_vocab.items():
            merged[word] += count
    total_words = sum(total for _, total, _ in gathered)
    corpus_count = sum(count for _, _, count in gathered)
    logger.info("merged the counts of %i ranks: %i word types, %i raw words, %i sentences",
                context.world_size, len(merged), total_words, corpus_count)
    return VocabScan(raw_vocab=merged, total_words=total_words, corpus_count=corpus_count)


def vocabulary_digest(wv):
    """A SHA-256 hex digest of a KeyedVectors' words (in order) and their counts.

    >>> from gensim.models import KeyedVectors
    >>> wv = KeyedVectors(2)
    >>> wv.index_to_key = ["a"]
    >>> len(vocabulary_digest(wv))
    64
    """
    digest = hashlib.sha256()
    for word in wv.index_to_key:
        digest.update(str(word).encode("utf-8", "surrogatepass") + b"\0")
    if "count" in wv.expandos:
        digest.update(wv.expandos["count"].astype("<i8").tobytes())
    return digest.hexdigest()


def check_same_vocabulary(wv, context):
    """Raise :class:`DistributedTrainingError` unless every rank holds the same vocabulary."""
    digests = [None] * context.world_size
    with _guarded(context, "comparing the vocabularies"):
        dist.all_gather_object(digests, vocabulary_digest(wv))
    differing = [rank for rank, digest in enumerate(digests) if digest != digests[0]]
    if differing:
        raise DistributedTrainingError(
            f"rank {context.rank} of {context.world_size}: ranks {differing} built a different vocabulary from "
            "rank 0's: give every rank the same corpus and the same settings (min_count, max_final_vocab, "
            "trim_rule, sample, sorted_vocab, null_word)")


def check_same_settings(settings, context):
    """Raise :class:`DistributedTrainingError` naming each setting the ranks disagree on, and the ranks.

    Parameters
    ----------
    settings : dict
        This rank's training settings and corpus size (plain values); every rank must pass the same
        keys. A collective call: every rank calls it before training.
    context : DistributedContext
    """
    everyone = [None] * context.world_size
    with _guarded(context, "comparing the training settings"):
        dist.all_gather_object(everyone, dict(settings))
    differences = []
    for name in sorted(settings):
        values = [ranks_settings.get(name) for ranks_settings in everyone]
        ranks = [rank for rank, value in enumerate(values) if value != values[0]]
        if ranks:
            differences.append(f"{name} (rank 0: {values[0]!r}; " +
                               ", ".join(f"rank {rank}: {values[rank]!r}" for rank in ranks) + ")")
    if differences:
        raise DistributedTrainingError(
            f"rank {context.rank} of {context.world_size}: the ranks were given different settings: "
            f"{'; '.join(differences)}. Give every rank the same arguments and corpus")


class WeightSynchronizer:
    """Keeps the weights of all ranks consistent during training (the trainer's ``synchronizer``).

    Every ``sync_words`` raw words of its own shard, and at the end of each epoch, a rank joins a
    synchronisation round: an ``all_reduce`` of its status (finished with the epoch or not, and
    its counts), then one ``all_reduce`` per weight matrix of its change since the previous round.
    Each rank then applies the others' changes: ``W += sum(changes) - own change`` (so updates
    that concurrent training threads made meanwhile are kept for the next round), and
    ``W_last += sum(changes)``. Rounds are matched by order, whatever the shard sizes: a rank
    that finished its epoch keeps joining rounds until every rank has; then each rank's weights
    become ``W_last`` and rank 0's are broadcast, so every rank starts the next epoch (and ends
    training) with bit-identical weights.

    Parameters
    ----------
    weights : sequence of torch.Tensor
        The weight matrices trained (input vectors, and the output weights in use), on
        ``context.device``, updated in place.
    context : DistributedContext
    sync_words : int, optional
        Raw words of its own shard each rank trains between two rounds (rounds happen at chunk
        boundaries, so the actual interval is a multiple of the chunk size).
    corpus_digest : CorpusDigest, optional
        Filled as the first epoch reads the corpus: compared between the ranks when it ends
        (:func:`check_same_corpus`), so that ranks reading different corpora stop after one epoch.

    Notes
    -----
    The constructor broadcasts rank 0's weights to all ranks (a collective call: every rank
    constructs a synchronizer at the start of training). It keeps a copy of the weights at the
    last round, so the weights take twice their memory.

    The trainer calls :meth:`global_counts` for the learning rate, :meth:`chunk_done` after
    each chunk trained, and :meth:`finish_epoch` once the epoch's training threads have joined.
    """

    def __init__(self, weights, context, sync_words=DEFAULT_SYNC_WORDS, corpus_digest=None):
        self.weights = list(weights)
        self.context = context
        self.sync_words = sync_words
        self._corpus_digest = corpus_digest
        self._broadcast_weights("broadcasting rank 0's weights before training")
        self._last = [weights.clone() for weights in self.weights]
        self._start_epoch()

    def _start_epoch(self):
        self._local = [0, 0, 0]  # this rank's raw words, sentences, effective words in the epoch
        self._since_sync = 0
        # (global raw words, global sentences, local raw words, local sentences) at the last round
        self._anchor = (0, 0, 0, 0)

    def _guard(self, what):
        return _guarded(self.context, what)

    def _broadcast_weights(self, what):
        with self._guard(what):
            for weights in self.weights:
                dist.broadcast(weights, src=0)

    def global_counts(self, raw_words, sentences):
        """Estimated raw words and sentences of the epoch trained by all ranks, from this rank's.

        The totals of the last round, plus this rank's progress since then times the number of
        ranks; the trainer's learning rate and progress follow them.
        """
        global_raw, global_sentences, local_raw, local_sentences = self._anchor
        ranks = self.context.world_size
        return global_raw + ranks * (raw_words - local_raw), global_sentences + ranks * (sentences - local_sentences)

    def chunk_done(self, raw_words, sentences, effective_words):
        """Count a trained chunk; run a round once ``sync_words`` raw words were trained since the last."""
        for i, value in enumerate((raw_words, sentences, effective_words)):
            self._local[i] += value
        self._since_sync += raw_words
        if self._since_sync >= self.sync_words:
            self._round(done=False)

    def finish_epoch(self):
        """Join rounds until every rank finished the epoch; leave identical weights on all ranks.

        Call it when no training thread runs any more.

        Returns
        -------
        (int, int, int)
            Raw words, sentences and effective words of the epoch, summed over the ranks.
        """
        while True:
            ranks_done, *totals = self._round(done=True)
            if ranks_done == self.context.world_size:
                break
        if self._corpus_digest is not None:  # every rank has read the whole corpus once
            check_same_corpus(self._corpus_digest, self.context, "the first epoch of train()", trained=True)
            self._corpus_digest = None
        for weights, last in zip(self.weights, self._last):
            weights.copy_(last)
        self._broadcast_weights("broadcasting rank 0's weights at the end of the epoch")
        for weights, last in zip(self.weights, self._last):
            last.copy_(weights)
        self._start_epoch()
        return tuple(totals)

    def _round(self, done):
        """One synchronisation round; returns the summed status: ranks done, raw words, sentences, effective words."""
        status = torch.tensor([int(done), *self._local], dtype=torch.int64, device=self.context.device)
        with self._guard("the status all-reduce of a synchronisation round"):
            dist.all_reduce(status)
        status = status.tolist()
        self._anchor = (status[1], status[2], self._local[0], self._local[1])
        self._since_sync = 0
        with self._guard("the weight all-reduce of a synchronisation round"):
            for weights, last in zip(self.weights, self._last):
                own = weights - last
                changes = own.clone()
                dist.all_reduce(changes)
                last.add_(changes)
                weights.add_(changes.sub_(own))
        return status

    def sum_over_ranks(self, value):
        """The sum of a number over all ranks (e.g. the training loss).

        Returns
        -------
        float
        """
        total = torch.tensor([float(value)], dtype=torch.float64, device=self.context.device)
        with self._guard("summing a value over the ranks"):
            dist.all_reduce(total)
        return float(total.item())
