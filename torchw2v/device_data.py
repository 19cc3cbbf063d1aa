"""The corpus on the training device, cut there into fixed-shape batches of windows.

The device path's data pipeline: the encoded corpus (int32 ids and sentence ids) lives in
device memory, and each step turns the next *span* of ``S`` consecutive encoded tokens into
one batch with torch ops and the device's random generator: gensim's subsampling, dynamic
windows, sentence boundaries and negative-sampling noise. The host only launches the step,
so a GPU is fed at its own speed, not a host thread's.

Every batch has the same shapes whatever its span holds (``S`` center slots, ``2 * window``
context columns, ``K`` noise words per slot), with ``-1`` marking padding, and every tensor
is written in place into persistent buffers: a CUDA graph can capture "draw + windows + step"
once and replay it. Nothing in a step reads the device back (no ``.item()``, ``nonzero``,
boolean-mask indexing...): the host knows each span's raw words and sentences from host-side
metadata, and the count of effective (kept) words is summed on the device.

A span boundary acts as a sentence boundary: no window crosses it, as no window crosses
gensim's 10,000-token split of long sentences. A window's context words are the nearest kept
words of the same sentence inside the span, so at most ``2 * window`` words around each span
boundary lose some context (about ``2 * window / S`` of them; 0.06% at ``S = 16384``).

>>> import numpy as np
>>> from torchw2v.corpus import Chunk
>>> chunks = [Chunk(np.array([0, 1, 2, 1, 0], np.int32), np.array([3, 2], np.int32), raw_words=6, sentences=2)]
>>> corpus = DeviceCorpus(lambda: chunks, vocab_size=3, device="cpu", span=4)
>>> batches = DeviceBatches(corpus, np.full(3, 2**32 - 1, np.uint32), window=1, shrink_windows=False)
>>> for span in batches.epoch():
...     batches.fill()
...     print(span.raw_words, batches.centers.tolist(), batches.contexts.tolist())
4 [0, 1, 2, -1] [[-1, 1], [0, 2], [1, -1], [-1, -1]]
2 [-1, -1, -1, -1] [[-1, -1], [-1, -1], [-1, -1], [-1, -1]]
>>> int(batches.effective_words)
5
"""
import logging
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from torchw2v.sampling import SAMPLE_INT_SCALE

logger = logging.getLogger(__name__)

#: Sentence ids are stored modulo this (as int32); a span never holds this many sentences.
SENTENCE_ID_MODULUS = 2**31

#: Device bytes per encoded token: an int32 id and an int32 sentence id.
BYTES_PER_TOKEN = 8

#: Default share of the device's free memory the resident corpus may take.
DEFAULT_MEMORY_SHARE = 0.5

#: Largest guide table of :class:`NoiseLookup` (bytes) and its largest row (table entries per bucket).
_GUIDE_BYTES, _GUIDE_ROW = 1 << 28, 8

#: Tokens per host-to-device copy when the whole corpus is loaded.
_UPLOAD_TOKENS = 1 << 22


def memory_budget(device, memory_share=DEFAULT_MEMORY_SHARE):
    """Bytes the encoded corpus may take on ``device``: a share of CUDA's free memory.

    On other devices (CPU, MPS, whose memory is the host's) the corpus is treated as
    fitting: returns None.

    >>> memory_budget("cpu") is None
    True
    """
    device = torch.device(device)
    if not 0 < memory_share <= 1:
        raise ValueError(f"memory_share must be in (0, 1], got {memory_share!r}")
    if device.type != "cuda":
        return None
    free, _ = torch.cuda.mem_get_info(device)
    return int(free * memory_share)


@dataclass(frozen=True)
class Span:
    """One step's span of the corpus, as the host knows it (no device read).

    Raw words and sentences are spread over an encoded chunk's tokens in proportion, so
    that the spans of a chunk add up to the chunk's counts exactly.

    Attributes
    ----------
    index : int
        The span's number in the epoch (0, 1, ...).
    raw_words, sentences : int
        Raw corpus words (out-of-vocabulary ones included) and sentences the span covers.
    raw_words_done, sentences_done : int
        The same, summed over the epoch up to the end of this span.
    offset : int
        Where the span starts in the device storage (:attr:`DeviceCorpus.storage`).
    """

    index: int
    raw_words: int
    sentences: int
    raw_words_done: int
    sentences_done: int
    offset: int


class _Packer:
    """Cuts a stream of encoded chunks into consecutive token rows: ids and sentence ids."""

    def __init__(self, chunks, sentinel):
        self._chunks = iter(chunks)
        self._sentinel = sentinel
        self._rows = np.zeros((2, 0), dtype=np.int32)
        self._used = 0
        self._sentences = 0  # sentence pieces seen so far

    def _next_rows(self):
        for chunk in self._chunks:
            lengths = np.asarray(chunk.sentence_lengths, dtype=np.int64)
            sentence_ids = np.arange(self._sentences, self._sentences + len(lengths)) % SENTENCE_ID_MODULUS
            self._sentences += len(lengths)
            if len(chunk.ids):
                return np.stack([np.asarray(chunk.ids, dtype=np.int32),
                                 np.repeat(sentence_ids, lengths).astype(np.int32)])
        return None

    def fill(self, target):
        """Write the next ``target.shape[1]`` tokens into ``target`` (2, n), padding after the stream's end."""
        filled, size = 0, target.shape[1]
        while filled < size:
            if self._used == self._rows.shape[1]:
                rows = self._next_rows()
                if rows is None:
                    target[0, filled:] = self._sentinel
                    target[1, filled:] = 0
                    return filled
                self._rows, self._used = rows, 0
            take = min(size - filled, self._rows.shape[1] - self._used)
            target[:, filled:filled + take] = self._rows[:, self._used:self._used + take]
            filled += take
            self._used += take
        return filled


def _spread(span_ends, chunk_tokens, chunk_counts):
    """Per span end (a token position), the counts of the chunks before it, spread in proportion within one."""
    token_ends = np.cumsum(chunk_tokens)
    counts_before = np.concatenate([[0], np.cumsum(chunk_counts)])
    complete = np.searchsorted(token_ends, span_ends, side="right")  # chunks that end by each span end
    done = counts_before[complete]
    partial = complete < len(chunk_tokens)
    chunk = complete[partial]
    into = span_ends[partial] - (token_ends[chunk] - chunk_tokens[chunk])
    done[partial] += into * chunk_counts[chunk] // chunk_tokens[chunk]
    return done


class DeviceCorpus:
    """The encoded corpus in device memory: whole, or in double-buffered chunks.

    The tokens of all chunks, back to back, are cut into spans of ``span`` tokens (the last
    one padded with a *sentinel* id, ``vocab_size``, that is never kept). When the padded
    corpus fits in the memory budget it is copied to the device once. Otherwise it is
    streamed every epoch through two halves of a device buffer, each a *device chunk* of
    whole spans: while the spans of one half train, a thread reads the next device chunk and
    copies it into the other half, asynchronously on CUDA (from pinned host buffers
    allocated once, on a side stream, ordered by events). Both modes give the same spans.

    Parameters
    ----------
    chunks : callable
        Returns a fresh iterable of :class:`torchw2v.corpus.Chunk` each time it is called,
        the same chunks in the same order (e.g. ``EncodedCorpus(...).chunks``). Called twice
        when loading (sizes, then data) and once per epoch when streaming.
    vocab_size : int
        Ids must be below it.
    device : torch.device or str
    span : int
        Encoded tokens per step (``S``).
    memory_share : float, optional
        Share of the device's free memory the corpus may take (CUDA only; elsewhere it fits),
        measured when the corpus is loaded: load it after the weights and optimizer state.
    budget_bytes : int, optional
        The budget itself, overriding ``memory_share`` (e.g. to force streaming in a test).

    Attributes
    ----------
    storage : torch.Tensor of int32, shape (2, T)
        Ids (row 0) and sentence ids (row 1) of the resident tokens: the whole padded
        corpus, or the two halves of the streaming buffer.
    streamed : bool
        Whether the corpus is streamed in device chunks.
    tokens, num_spans : int
        Encoded tokens of the corpus and spans per epoch.
    raw_words, sentences : int
        Per epoch, as the chunks say.

    Examples
    --------
    >>> from torchw2v.corpus import Chunk
    >>> chunk = Chunk(np.array([2, 0, 1], np.int32), np.array([1, 2], np.int32), raw_words=3, sentences=2)
    >>> corpus = DeviceCorpus(lambda: [chunk], vocab_size=3, device="cpu", span=2)
    >>> corpus.storage.tolist()
    [[2, 0, 1, 3], [0, 1, 1, 0]]
    >>> [(s.raw_words, s.sentences) for s in corpus.epoch()]
    [(2, 1), (1, 1)]
    """

    def __init__(self, chunks, vocab_size, device, span, memory_share=DEFAULT_MEMORY_SHARE, budget_bytes=None):
        if not callable(chunks):
            raise TypeError(f"chunks must be a callable returning the corpus's chunks, got {type(chunks).__name__}")
        if int(span) < 1:
            raise ValueError(f"span must be a positive number of tokens, got {span!r}")
        if not 0 < int(vocab_size) < SENTENCE_ID_MODULUS:
            raise ValueError(f"vocab_size must be in 1..{SENTENCE_ID_MODULUS - 1}, got {vocab_size!r}")
        self._chunks = chunks
        self.vocab_size = int(vocab_size)
        self.device = torch.device(device)
        self.span = int(span)
        chunk_tokens, chunk_raw, chunk_sentences = self._scan()
        self.tokens = int(chunk_tokens.sum())
        self.raw_words = int(chunk_raw.sum())
        self.sentences = int(chunk_sentences.sum())
        self.num_spans = max(1, math.ceil(self.tokens / self.span))
        span_ends = np.minimum(np.arange(1, self.num_spans + 1, dtype=np.int64) * self.span, self.tokens)
        self._raw_done = _spread(span_ends, chunk_tokens, chunk_raw)
        self._sentences_done = _spread(span_ends, chunk_tokens, chunk_sentences)

        budget = budget_bytes if budget_bytes is not None else memory_budget(self.device, memory_share)
        needed = self.num_spans * self.span * BYTES_PER_TOKEN
        self.streamed = budget is not None and needed > budget
        if self.streamed:
            self.chunk_spans = int(budget) // (2 * self.span * BYTES_PER_TOKEN)
            if self.chunk_spans < 1:
                raise ValueError(
                    f"the device memory budget ({budget} bytes) cannot hold two spans of {self.span} tokens "
                    f"({2 * self.span * BYTES_PER_TOKEN} bytes); lower the batch size or raise memory_share")
            halves = 2
        else:
            self.chunk_spans, halves = self.num_spans, 1
        self._chunk_tokens = self.chunk_spans * self.span
        self.storage = torch.empty((2, halves * self._chunk_tokens), dtype=torch.int32, device=self.device)
        cuda = self.device.type == "cuda"
        if self.streamed:
            self._staging = [torch.empty((2, self._chunk_tokens), dtype=torch.int32, pin_memory=cuda)
                             for _ in range(2)]
            if cuda:
                self._copy_stream = torch.cuda.Stream(self.device)
                self._copied = [torch.cuda.Event() for _ in range(2)]
                self._freed = [torch.cuda.Event() for _ in range(2)]
        else:
            self._load_whole()
        logger.info(
            "corpus of %i tokens on %s: %s (%i spans of %i tokens, %.1f MiB on the device)",
            self.tokens, self.device, "streamed in double-buffered chunks" if self.streamed else "resident",
            self.num_spans, self.span, self.storage.numel() * 4 / 2**20,
        )

    def _scan(self):
        """Tokens, raw words and sentences per chunk (checking the ids)."""
        tokens, raw, sentences = [], [], []
        for number, chunk in enumerate(self._chunks()):
            ids, lengths = np.asarray(chunk.ids), np.asarray(chunk.sentence_lengths)
            if ids.ndim != 1 or lengths.ndim != 1 or int(lengths.sum()) != len(ids):
                raise ValueError(f"chunk {number}: sentence_lengths must sum to the number of ids")
            if len(ids) and not (0 <= int(ids.min()) and int(ids.max()) < self.vocab_size):
                raise ValueError(f"chunk {number}: ids must be in 0..{self.vocab_size - 1} (vocab_size), "
                                 f"got {int(ids.min())}..{int(ids.max())}")
            tokens.append(len(ids))
            raw.append(int(chunk.raw_words))
            sentences.append(int(chunk.sentences))
        return (np.array(tokens, dtype=np.int64), np.array(raw, dtype=np.int64),
                np.array(sentences, dtype=np.int64))

    def _load_whole(self):
        packer = _Packer(self._chunks(), self.vocab_size)
        host = np.empty((2, min(_UPLOAD_TOKENS, self.storage.shape[1])), dtype=np.int32)
        for start in range(0, self.storage.shape[1], host.shape[1]):
            piece = self.storage[:, start:start + host.shape[1]]
            packer.fill(host[:, :piece.shape[1]])
            piece.copy_(torch.from_numpy(host[:, :piece.shape[1]]))

    def _stage(self, packer, number):
        """Fill device chunk ``number``'s half from the host stream (on the corpus thread).

        On CUDA: waits until the staging buffer's previous copy is done, packs the chunk into
        it, and enqueues its copy on the side stream, after the steps that last read the half.
        """
        half = number % 2
        staging = self._staging[half]
        target = self.storage[:, half * self._chunk_tokens:(half + 1) * self._chunk_tokens]
        if self.device.type != "cuda":
            packer.fill(staging.numpy())
            target.copy_(staging)
            return
        self._copied[half].synchronize()
        packer.fill(staging.numpy())
        with torch.cuda.device(self.device), torch.cuda.stream(self._copy_stream):
            self._copy_stream.wait_event(self._freed[half])
            target.copy_(staging, non_blocking=True)
            self._copied[half].record(self._copy_stream)

    def _span(self, index, half, first):
        return Span(
            index=index,
            raw_words=int(self._raw_done[index] - (self._raw_done[index - 1] if index else 0)),
            sentences=int(self._sentences_done[index] - (self._sentences_done[index - 1] if index else 0)),
            raw_words_done=int(self._raw_done[index]),
            sentences_done=int(self._sentences_done[index]),
            offset=half * self._chunk_tokens + (index - first) * self.span,
        )

    def epoch(self):
        """Yield the epoch's :class:`Span` objects in order, each once its tokens are (being) placed.

        The consumer must enqueue the span's work on the device before asking for the next
        span. When streaming, a thread reads and packs the next device chunk and enqueues its
        copy while the current one trains (the host waits only if that thread falls behind);
        a half is refilled once the generator resumes after the last span of the chunk it holds.
        """
        if not self.streamed:
            for index in range(self.num_spans):
                yield self._span(index, 0, 0)
            return
        packer = _Packer(self._chunks(), self.vocab_size)
        cuda = self.device.type == "cuda"
        chunks = math.ceil(self.num_spans / self.chunk_spans)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="torchw2v-corpus") as pool:
            staged = pool.submit(self._stage, packer, 0)
            for number in range(chunks):
                half = number % 2
                staged.result()  # this chunk packed and its copy enqueued (or the thread's error raised)
                if number + 1 < chunks:  # the other half's last steps are enqueued: refill it meanwhile
                    staged = pool.submit(self._stage, packer, number + 1)
                if cuda:
                    torch.cuda.current_stream(self.device).wait_event(self._copied[half])
                first = number * self.chunk_spans
                for index in range(first, min(first + self.chunk_spans, self.num_spans)):
                    yield self._span(index, half, first)
                if cuda:
                    self._freed[half].record(torch.cuda.current_stream(self.device))


class WindowWorkspace:
    """Preallocated buffers of :func:`span_windows` for spans of ``span`` tokens.

    Attributes
    ----------
    centers : torch.Tensor of int64, shape (S,)
    contexts : torch.Tensor of int64, shape (S, 2 * window)
        The outputs, overwritten by each call.
    """

    def __init__(self, span, window, device):
        if int(window) < 1:
            raise ValueError(f"window must be at least 1, got {window!r}")
        if int(span) < 1:
            raise ValueError(f"span must be a positive number of tokens, got {span!r}")
        s, w = int(span), int(window)
        self.span, self.window = s, w

        def new(shape, dtype):
            return torch.empty(shape, dtype=dtype, device=device)

        self.rows = new((3, s), torch.int64)  # id, sentence, reach of each token
        self.thresholds = new((s,), torch.int64)
        self.keep = new((s,), torch.bool)
        self.slots = new((s,), torch.int64)  # kept tokens up to each one (inclusive)
        self.destination = new((s,), torch.int64)
        # kept tokens in order: W pads, S slots, W pads, one slot for the dropped tokens
        self.compact = new((3, s + 2 * w + 1), torch.int64)
        self.neighbour_ids = new((s, 2 * w), torch.int64)
        self.neighbour_sentences = new((s, 2 * w), torch.int64)
        self.same_sentence = new((s, 2 * w), torch.bool)
        self.in_reach = new((s, 2 * w), torch.bool)
        self.has_context = new((s,), torch.bool)
        self.centers = new((s,), torch.int64)
        self.contexts = new((s, 2 * w), torch.int64)
        distance = np.repeat(np.arange(1, w + 1), 2)
        offsets = distance * np.tile([-1, 1], w)  # nearest first
        # the compact slots of each center's neighbours: slot W + i + offset, flattened (S * 2W,)
        neighbours = np.arange(s)[:, None] + (w + offsets)[None, :]
        self.neighbour_slots = torch.as_tensor(neighbours.reshape(-1), dtype=torch.int32, device=device)
        self.distance = torch.as_tensor(distance, dtype=torch.int64, device=device)
        self.dropped_slot = torch.tensor(s + w + 1, dtype=torch.int64, device=device)
        self.minus_one = torch.tensor(-1, dtype=torch.int64, device=device)


def span_windows(tokens, keep_draws, thresholds, window, workspace=None, shrink_windows=True):
    """Subsample a span and cut it into fixed-shape windows, with torch ops only.

    Token ``t`` of the span is kept when ``keep_draws[t] <= thresholds[id]`` (gensim's
    rule on its uint32 ``sample_int`` values). The kept tokens are compacted in order
    (cumsum and scatter: no boolean-mask indexing), and the window of the ``i``-th kept
    token holds the kept tokens at distance ``1..reach`` of the same sentence, nearest first
    (``-1, +1, -2, +2, ...``). Positions past the kept tokens and centers with no context
    word are padding (``-1``). Nothing is read back to the host.

    Parameters
    ----------
    tokens : torch.Tensor of int64, shape (3, S)
        Per token of the span: its id, its sentence id and its reach (the effective window,
        ``1..window``). Sentence ids must differ between the sentences of the span.
    keep_draws : torch.Tensor of int64, shape (S,)
        Uniform draws in ``[0, 2**32)``.
    thresholds : torch.Tensor of int64, shape (V,)
        Keep thresholds per id (gensim's ``sample_int``; -1 for an id never kept).
    window : int
        The largest reach.
    workspace : WindowWorkspace, optional
        Buffers to write into (allocated when not given).
    shrink_windows : bool, optional
        False when every reach is ``window`` (skips the reach test).

    Returns
    -------
    centers : torch.Tensor of int64, shape (S,)
        The ``i``-th kept token's id at position ``i``, or -1.
    contexts : torch.Tensor of int64, shape (S, 2 * window)
        Its context words, -1 where none.
    kept : torch.Tensor of int64, shape ()
        How many tokens were kept (the effective words).
    The three are views of the workspace, overwritten by the next call.

    Examples
    --------
    >>> tokens = torch.tensor([[5, 6, 7, 8], [0, 0, 0, 1], [1, 1, 1, 1]])
    >>> draws = torch.tensor([0, 9, 0, 0])
    >>> thresholds = torch.full((9,), 5)
    >>> centers, contexts, kept = span_windows(tokens, draws, thresholds, window=1)
    >>> centers.tolist(), contexts.tolist(), int(kept)
    ([5, 7, -1, -1], [[-1, 7], [5, -1], [-1, -1], [-1, -1]], 3)
    """
    span = tokens.shape[1]
    ws = workspace if workspace is not None else WindowWorkspace(span, window, tokens.device)
    w = ws.window
    if tokens.shape != (3, ws.span) or tokens.dtype != torch.int64 or ws.window != window:
        raise ValueError(f"tokens must be int64 of shape (3, {ws.span}) for a workspace of window {ws.window}, "
                         f"got {tokens.dtype} {tuple(tokens.shape)} and window {window}")
    # subsampling: gensim's integer rule
    torch.index_select(thresholds, 0, tokens[0], out=ws.thresholds)
    torch.le(keep_draws, ws.thresholds, out=ws.keep)
    # compaction: the i-th kept token goes to slot W + i - 1, the dropped ones to the last slot
    torch.cumsum(ws.keep, 0, out=ws.slots)
    torch.where(ws.keep, ws.slots, ws.dropped_slot, out=ws.destination)
    ws.compact.fill_(-1)
    ws.compact[:, w - 1:].scatter_(1, ws.destination.expand(3, span), tokens)
    # windows: each slot's 2W neighbours, nearest first
    torch.index_select(ws.compact[0], 0, ws.neighbour_slots, out=ws.neighbour_ids.view(-1))  # (S, 2W)
    torch.index_select(ws.compact[1], 0, ws.neighbour_slots, out=ws.neighbour_sentences.view(-1))
    center = ws.compact[:, w:w + span]  # (3, S)
    valid = torch.eq(ws.neighbour_sentences, center[1, :, None], out=ws.same_sentence)  # (S, 2W)
    if shrink_windows:
        torch.le(ws.distance, center[2, :, None], out=ws.in_reach)
        valid.logical_and_(ws.in_reach)
    torch.where(valid, ws.neighbour_ids, ws.minus_one, out=ws.contexts)
    # a window with any context word has one at distance 1 (sentences are contiguous, reach >= 1)
    torch.logical_or(valid[:, 0], valid[:, 1], out=ws.has_context)
    torch.where(ws.has_context, center[0], ws.minus_one, out=ws.centers)
    return ws.centers, ws.contexts, ws.slots[-1]


class NoiseLookup:
    """gensim's noise-word lookup, ``searchsorted(cum_table, r)`` (``bisect_left``), into a buffer.

    On CPU, where a binary search per draw is slow (cache misses and branches, about 100 ns),
    it reads a guide table instead, with the same result for every draw: the draws are cut
    into buckets of ``2**shift`` values; ``start[b]`` counts the table entries below bucket
    ``b`` and ``inside[b]`` lists the (at most a few) entries within it, padded with
    ``cum_table[-1]``, so that the answer is ``start[b]`` plus how many of ``inside[b]`` are
    below the draw: ``2 + 3 * row`` simple ops (gathers, compares and adds), ``row`` being
    the most entries in a bucket (1 or 2 for gensim's tables of common vocabularies). Elsewhere (or when a bucket would
    hold too many entries) it runs ``torch.searchsorted``, one kernel.

    Parameters
    ----------
    cum_table : numpy.ndarray of uint32
        From :func:`torchw2v.sampling.noise_cum_table`.
    device : torch.device or str
    shape : tuple of int
        The shape of the draws each :meth:`lookup` gets (for the guide's buffers).
    guide : bool, optional
        Use the guide table (default: on CPU).

    Attributes
    ----------
    guided : bool
        Whether the guide table is used.
    ops : int
        Ops one :meth:`lookup` launches.

    Examples
    --------
    >>> from torchw2v.sampling import noise_cum_table
    >>> table = noise_cum_table(np.array([5, 1, 0, 3]), 1.0, domain=90)
    >>> table.tolist()
    [50, 60, 60, 90]
    >>> draws = torch.tensor([0, 49, 50, 59, 60, 89])
    >>> NoiseLookup(table, "cpu", (6,)).lookup(draws, torch.empty(6, dtype=torch.int64)).tolist()
    [0, 0, 0, 1, 1, 3]
    >>> torch.searchsorted(torch.as_tensor(table.astype(np.int64)), draws).tolist()
    [0, 0, 0, 1, 1, 3]
    """

    def __init__(self, cum_table, device, shape, guide=None):
        table = np.asarray(cum_table, dtype=np.int64)
        if table.ndim != 1 or not len(table) or table[-1] < 1 or (np.diff(table) < 0).any():
            raise ValueError("cum_table must be a non-empty nondecreasing table ending above 0 (noise_cum_table)")
        device = torch.device(device)
        self.domain = int(table[-1])
        self.table = torch.as_tensor(table, device=device)
        self.shift = max(0, self.domain.bit_length() - (len(table).bit_length() + 3))  # ~8 buckets per word
        starts = np.searchsorted(table, np.arange((self.domain - 1 >> self.shift) + 2) << self.shift, side="left")
        per_bucket = np.diff(starts)
        row = max(1, int(per_bucket.max()))
        if guide is None:
            guide = device.type == "cpu"
        self.guided = bool(guide) and row <= _GUIDE_ROW and len(per_bucket) * (1 + row) * 8 <= _GUIDE_BYTES
        self.ops = 2 + 3 * row if self.guided else 1
        if not self.guided:
            return
        # per bucket: the count of entries below it, and the entries inside it (padded: never below a draw),
        # one 1-D column each (a 1-D gather is several times faster on CPU than a gather of short rows)
        self._start = torch.as_tensor(starts[:-1], device=device)
        self._inside = []
        for j in range(row):
            column = np.full(len(per_bucket), self.domain, dtype=np.int64)
            has = per_bucket > j
            column[has] = table[starts[:-1][has] + j]
            self._inside.append(torch.as_tensor(column, device=device))
        numel = int(np.prod(shape))
        self._bucket = torch.empty(numel, dtype=torch.int64, device=device)
        self._candidate = torch.empty(numel, dtype=torch.int64, device=device)
        self._below = torch.empty(numel, dtype=torch.int64, device=device)  # 0 or 1, added without a cast

    def lookup(self, draws, out):
        """Write ``searchsorted(cum_table, draws)`` into ``out`` (int64, the shape of ``draws``) and return it."""
        if not self.guided:
            return torch.searchsorted(self.table, draws, out=out)
        flat, result = draws.view(-1), out.view(-1)
        torch.bitwise_right_shift(flat, self.shift, out=self._bucket)
        torch.index_select(self._start, 0, self._bucket, out=result)
        for column in self._inside:
            torch.index_select(column, 0, self._bucket, out=self._candidate)
            torch.lt(self._candidate, flat, out=self._below)
            result.add_(self._below)
        return out


class DeviceBatches:
    """Fixed-shape batches of windows and noise words, made on the device span after span.

    Each :meth:`fill` turns the next span of the corpus into a batch, written in place into
    :attr:`centers`, :attr:`contexts` and :attr:`negatives`: it gathers the span's tokens,
    draws the keep, reach and noise numbers with :attr:`generator` (on the device), and
    runs :func:`span_windows`. It only launches device work (a fixed sequence of ops on fixed
    buffers, the span chosen by a device-side cursor), so a CUDA graph can capture it with
    the step that reads the buffers. :meth:`epoch` yields the host's view of each span.

    For each span of :meth:`epoch`, run :meth:`fill` exactly once, then the step. On CUDA
    the two can be captured once as a CUDA graph and replayed per span: register
    :attr:`generator` with the graph (``CUDAGraph.register_generator_state``), and zero
    :attr:`effective_words` after the warm-up runs (each :meth:`epoch` points the cursor at
    its first span, so warm-up runs do not shift the spans).

    Parameters
    ----------
    corpus : DeviceCorpus
    sample_ints : numpy.ndarray of uint32
        gensim's subsampling thresholds per word (:func:`torchw2v.sampling.downsample_ints`).
    window : int
        The largest reach.
    shrink_windows : bool
        Draw each center's reach uniformly in ``1..window`` (gensim's default), else ``window``.
    cum_table : numpy.ndarray of uint32, optional
        gensim's noise table (:func:`torchw2v.sampling.noise_cum_table`), for ``negative > 0``.
        Noise words are drawn as :class:`torchw2v.torch_steps.NoiseSampler` draws them (a
        uniform integer below ``cum_table[-1]``, looked up by :class:`NoiseLookup`).
    negative : int, optional
        Noise words per center slot (``K``).
    seed : int, optional
        Seeds :attr:`generator`.
    kernel : {"torch", "triton"}, optional
        How the windows are made between the draws: the torch ops of :func:`span_windows` (the
        reference, 19 launches), or two Triton kernels
        (:func:`torchw2v.kernels.triton_windows.fused_span_windows`: CUDA, or CPU under Triton's
        interpreter), with the same results for the same draws.

    Attributes
    ----------
    centers : torch.Tensor of int64, shape (S,)
        Centers of the last filled span, -1 for padding (dropped tokens, centers without context).
    contexts : torch.Tensor of int64, shape (S, 2 * window)
        Their context words, nearest first (``-1, +1, -2, +2, ...``), -1 where none.
    negatives : torch.Tensor of int64, shape (S, K) or None
        Noise words drawn as gensim's ``bisect_left`` on its cumulative table.
    effective_words : torch.Tensor of int64, shape ()
        Kept words of all filled spans (reset with ``zero_()``).
    noise_lookup : NoiseLookup or None
        Turns the noise draws into words (with ``negative > 0``).
    generator : torch.Generator
        The device generator of every draw (register it with a CUDA graph that captures :meth:`fill`).

    Examples
    --------
    >>> from torchw2v.corpus import Chunk
    >>> from torchw2v.sampling import noise_cum_table
    >>> chunk = Chunk(np.array([0, 1, 2], np.int32), np.array([3], np.int32), raw_words=3, sentences=1)
    >>> corpus = DeviceCorpus(lambda: [chunk], vocab_size=3, device="cpu", span=3)
    >>> batches = DeviceBatches(corpus, np.full(3, 2**32 - 1, np.uint32), window=2, shrink_windows=False,
    ...                         cum_table=noise_cum_table(np.array([0, 0, 1]), 1.0), negative=2)
    >>> for span in batches.epoch():
    ...     batches.fill()
    >>> batches.contexts.tolist(), batches.negatives.tolist()
    ([[-1, 1, -1, 2], [0, 2, -1, -1], [1, -1, 0, -1]], [[2, 2], [2, 2], [2, 2]])
    """

    def __init__(self, corpus, sample_ints, window, shrink_windows, cum_table=None, negative=0, seed=1,
                 kernel="torch"):
        if kernel not in ("torch", "triton"):
            raise ValueError(f"kernel must be 'torch' or 'triton', got {kernel!r}")
        sample_ints = np.asarray(sample_ints)
        if sample_ints.shape != (corpus.vocab_size,):
            raise ValueError(f"sample_ints must have one threshold per word ({corpus.vocab_size}), "
                             f"got shape {sample_ints.shape}")
        if int(negative) < 0:
            raise ValueError(f"negative must be >= 0, got {negative!r}")
        if negative and (cum_table is None or len(cum_table) != corpus.vocab_size):
            raise ValueError(f"negative={negative} needs cum_table with one entry per word ({corpus.vocab_size})")
        device, span = corpus.device, corpus.span
        self.corpus = corpus
        self.window, self.shrink_windows = int(window), bool(shrink_windows)
        self._workspace = WindowWorkspace(span, self.window, device)
        # the sentinel id (vocab_size) that pads the corpus is never kept
        thresholds = np.append(sample_ints.astype(np.int64), -1)
        self.thresholds = torch.as_tensor(thresholds, device=device)
        # the torch ops' copy of the span's ids and sentences (the Triton kernels read the storage itself)
        self._gathered = torch.empty((2, span), dtype=torch.int32, device=device) if kernel == "torch" else None
        # the storage as (2, spans it holds, S), and the device-side cursor: which of them is next
        self._storage_spans = corpus.storage.view(2, -1, span)
        self._cursor = torch.zeros(1, dtype=torch.int64, device=device)
        self._next_slot = 0
        self._keep_draws = torch.empty(span, dtype=torch.int64, device=device)
        self._reach = self._workspace.rows[2]
        self._reach.fill_(self.window)
        self.negative = int(negative)
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(int(seed))
        if self.negative:
            self.noise_lookup = NoiseLookup(cum_table, device, (span, self.negative))
            self._noise_draws = torch.empty((span, self.negative), dtype=torch.int64, device=device)
            self.negatives = torch.empty((span, self.negative), dtype=torch.int64, device=device)
        else:
            self.noise_lookup, self.negatives = None, None
        self.centers, self.contexts = self._workspace.centers, self._workspace.contexts
        self.effective_words = torch.zeros((), dtype=torch.int64, device=device)
        self.kernel = kernel
        if kernel == "triton":
            self._workspace.compact.fill_(-1)  # its padding columns, which the kernels never write

    def fill(self):
        """Make the next span's batch in the buffers: device work only, no host read."""
        ws = self._workspace
        self._keep_draws.random_(0, SAMPLE_INT_SCALE + 1, generator=self.generator)
        if self.shrink_windows:
            self._reach.random_(1, self.window + 1, generator=self.generator)
        if self.kernel == "triton":
            from torchw2v.kernels.triton_windows import fused_span_windows

            fused_span_windows(self.corpus.storage, self._cursor, self._keep_draws, self._reach, self.thresholds,
                               ws.compact, ws.centers, ws.contexts, self.effective_words, window=self.window,
                               shrink_windows=self.shrink_windows)
        else:
            torch.index_select(self._storage_spans, 1, self._cursor, out=self._gathered[:, None])  # ids, sentences
            self._cursor.add_(1).remainder_(self._storage_spans.shape[1])  # never out of bounds
            ws.rows[:2].copy_(self._gathered)  # int32 -> int64: every later op on the span is int64
            _, _, kept = span_windows(ws.rows, self._keep_draws, self.thresholds, self.window, ws,
                                      self.shrink_windows)
            self.effective_words.add_(kept)
        if self.negative:
            self._noise_draws.random_(0, self.noise_lookup.domain, generator=self.generator)
            self.noise_lookup.lookup(self._noise_draws, out=self.negatives)

    def epoch(self):
        """Yield the epoch's :class:`Span` objects; call :meth:`fill` (or replay it) once per span.

        Points the device cursor at the epoch's first span, and at any span that does not
        follow the last one in the storage: one device op then, none per step.
        """
        for span in self.corpus.epoch():
            slot = span.offset // self.corpus.span
            if span.index == 0 or slot != self._next_slot:
                self._cursor.fill_(slot)
            yield span
            self._next_slot = (slot + 1) % self._storage_spans.shape[1]

    def save_cursor(self):
        """The device cursor's value (a copy), for warm-up runs that must not move on (graph capture)."""
        return self._cursor.clone()

    def restore_cursor(self, saved):
        """Point the cursor back at a value from :meth:`save_cursor`."""
        self._cursor.copy_(saved)
