"""The device data pipeline: windows equal to the numpy reference, gensim's keep rates and
reach distribution, sentence and span boundaries, fixed shapes, no host synchronisation,
and the same batches whether the corpus is resident or streamed."""
import math

import numpy as np
import pytest
import torch
from torch.profiler import ProfilerActivity, profile

from torchw2v.batching import context_windows, subsample
from torchw2v.corpus import Chunk, EncodedCorpus
from torchw2v.device_data import DeviceBatches, DeviceCorpus, NoiseLookup, WindowWorkspace, span_windows
from torchw2v.sampling import downsample_ints, keep_probabilities, noise_cum_table
from torchw2v.torch_steps import NoiseSampler

#: Ops that wait for a CUDA device (or signal boolean-mask indexing); none may run per step.
SYNCING_OPS = {
    "aten::item", "aten::_local_scalar_dense", "aten::nonzero", "aten::masked_select", "aten::unique",
    "aten::_unique", "aten::_unique2", "aten::unique_dim", "aten::unique_consecutive", "aten::repeat_interleave",
    "aten::nonzero_static", "aten::_nonzero_static",
}
#: Ops that only make views: launch no device work.
VIEW_OPS = {"aten::slice", "aten::select", "aten::view", "aten::expand", "aten::unsqueeze", "aten::as_strided",
            "aten::unfold", "aten::alias"}


def synthetic_chunks(seed, vocab_size=40, sentences=300, max_length=25, sentences_per_chunk=37, oov_share=0.1):
    """Zipf-distributed ids in sentences of 1..max_length tokens, grouped into chunks (raw words include OOV)."""
    rng = np.random.default_rng(seed)
    probabilities = 1.0 / np.arange(1, vocab_size + 1)
    probabilities /= probabilities.sum()
    chunks = []
    for start in range(0, sentences, sentences_per_chunk):
        count = min(sentences_per_chunk, sentences - start)
        lengths = rng.integers(1, max_length + 1, size=count).astype(np.int32)
        ids = rng.choice(vocab_size, size=int(lengths.sum()), p=probabilities).astype(np.int32)
        raw = int(lengths.sum()) + int(rng.binomial(int(lengths.sum()), oov_share))
        chunks.append(Chunk(ids, lengths, raw_words=raw, sentences=count))
    return chunks


def word_counts(chunks, vocab_size):
    return np.bincount(np.concatenate([c.ids for c in chunks]), minlength=vocab_size)


class ScriptedRng:
    """Stands in for numpy's Generator in batching.py: returns prescribed draws in order."""

    def __init__(self, *draws):
        self._draws = list(draws)

    def integers(self, low, high, size, dtype=np.int64):
        values = self._draws.pop(0)
        assert len(values) == size and values.min(initial=low) >= low and values.max(initial=low) < high
        return np.asarray(values, dtype=dtype)


def is_in_order_subsequence(values, sequence):
    """Whether ``values`` occur in ``sequence`` in this order (not necessarily adjacent)."""
    position = 0
    for value in values:
        while position < len(sequence) and sequence[position] != value:
            position += 1
        if position == len(sequence):
            return False
        position += 1
    return True


def span_tokens(corpus, span):
    """The span's ids and sentence ids, as stored (2, S) numpy."""
    return corpus.storage[:, span.offset:span.offset + corpus.span].numpy()


def test_windows_equal_numpy_context_windows_for_the_same_draws():
    chunks = synthetic_chunks(seed=0)
    vocab_size, window = 40, 3
    counts = word_counts(chunks, vocab_size)
    sample_ints = downsample_ints(counts, sample=0.02, retain_total=int(counts.sum()))
    thresholds = torch.as_tensor(np.append(sample_ints.astype(np.int64), -1))
    corpus = DeviceCorpus(lambda: chunks, vocab_size, "cpu", span=64)
    assert corpus.num_spans == math.ceil(corpus.tokens / 64) > 10
    rng = np.random.default_rng(1)
    workspace = WindowWorkspace(64, window, "cpu")
    compared = 0
    for span in corpus.epoch():
        stored = span_tokens(corpus, span)
        real = min(64, corpus.tokens - span.index * 64)  # the rest is padding
        keep_draws = rng.integers(0, 2**32, size=64, dtype=np.int64)
        reach = rng.integers(1, window + 1, size=64)
        tokens = torch.as_tensor(np.vstack([stored, reach]))
        centers, contexts, kept = span_windows(tokens, torch.as_tensor(keep_draws), thresholds, window, workspace)

        # the numpy producer on the same tokens, sentences cut at the span's ends, the same draws
        ids, sentence_ids = stored[0, :real], stored[1, :real]
        lengths = np.diff(np.flatnonzero(np.diff(sentence_ids, prepend=-1, append=-1)))
        keep = keep_draws[:real] <= sample_ints[ids]
        kept_ids, kept_lengths = subsample(ids, lengths, sample_ints, ScriptedRng(keep_draws[:real]))
        expected = context_windows(kept_ids, kept_lengths, window, True, ScriptedRng(window - reach[:real][keep]))

        real_centers = centers.numpy() >= 0
        np.testing.assert_array_equal(centers.numpy()[real_centers], expected.centers)
        np.testing.assert_array_equal(contexts.numpy()[real_centers], expected.contexts)
        assert (contexts.numpy()[~real_centers] == -1).all()
        assert int(kept) == len(kept_ids)
        compared += len(expected.centers)
    assert compared > 500


def test_fill_windows_the_generators_draws_and_draws_noise_as_noise_sampler():
    chunks = synthetic_chunks(seed=2)
    counts = word_counts(chunks, 40)
    sample_ints = downsample_ints(counts, sample=0.05, retain_total=int(counts.sum()))
    cum_table = noise_cum_table(counts, 0.75)
    corpus = DeviceCorpus(lambda: chunks, 40, "cpu", span=128)
    batches = DeviceBatches(corpus, sample_ints, window=4, shrink_windows=True, cum_table=cum_table, negative=3,
                            seed=5)
    replay = torch.Generator().manual_seed(0)
    noise = NoiseSampler(cum_table, "cpu", seed=0)
    thresholds = torch.as_tensor(np.append(sample_ints.astype(np.int64), -1))
    total_kept = 0
    for span in batches.epoch():
        replay.set_state(batches.generator.get_state())
        batches.fill()
        keep_draws = torch.empty(128, dtype=torch.int64).random_(0, 2**32, generator=replay)
        reach = torch.empty(128, dtype=torch.int64).random_(1, 5, generator=replay)
        tokens = torch.cat([torch.as_tensor(span_tokens(corpus, span)), reach[None]])
        centers, contexts, kept = span_windows(tokens, keep_draws, thresholds, 4)
        noise.generator.set_state(replay.get_state())
        torch.testing.assert_close(batches.centers, centers, rtol=0, atol=0)
        torch.testing.assert_close(batches.contexts, contexts, rtol=0, atol=0)
        torch.testing.assert_close(batches.negatives, noise.draw((128, 3)), rtol=0, atol=0)
        total_kept += int(kept)
    assert int(batches.effective_words) == total_kept > 0


def test_keep_rates_follow_gensims_formula():
    vocab_size, sample = 30, 1e-2
    probabilities = 1.0 / np.arange(1, vocab_size + 1) ** 1.2
    rng = np.random.default_rng(3)
    ids = rng.choice(vocab_size, size=60000, p=probabilities / probabilities.sum()).astype(np.int32)
    chunks = [Chunk(ids, np.full(6, 10000, np.int32), raw_words=60000, sentences=6)]
    counts = np.bincount(ids, minlength=vocab_size)
    sample_ints = downsample_ints(counts, sample, retain_total=int(counts.sum()))
    threshold = sample * counts.sum()
    formula = np.minimum((np.sqrt(counts / threshold) + 1) * threshold / counts, 1.0)
    np.testing.assert_allclose(keep_probabilities(sample_ints), formula, rtol=1e-6)
    assert formula[0] < 0.3 and formula[-1] == 1.0

    corpus = DeviceCorpus(lambda: chunks, vocab_size, "cpu", span=8192)
    batches = DeviceBatches(corpus, sample_ints, window=5, shrink_windows=True, seed=7)
    kept = np.zeros(vocab_size, dtype=np.int64)
    epochs = 4
    for _ in range(epochs):
        for _ in batches.epoch():
            batches.fill()
            centers = batches.centers.numpy()
            kept += np.bincount(centers[centers >= 0], minlength=vocab_size)  # long sentences: every kept word
    assert int(batches.effective_words) == kept.sum()
    trials = counts * epochs
    z = (kept - trials * formula) / np.sqrt(np.maximum(trials * formula * (1 - formula), 1e-9))
    assert np.abs(z[formula < 1]).max() < 5, z
    np.testing.assert_array_equal(kept[formula == 1], trials[formula == 1])


@pytest.mark.parametrize("shrink_windows", [True, False])
def test_reach_is_uniform_in_1_to_window(shrink_windows):
    window, span = 5, 4096
    ids = np.random.default_rng(4).integers(0, 10, size=5 * span).astype(np.int32)
    chunks = [Chunk(ids, np.array([len(ids)], np.int32), raw_words=len(ids), sentences=1)]
    corpus = DeviceCorpus(lambda: chunks, 10, "cpu", span=span)
    batches = DeviceBatches(corpus, np.full(10, 2**32 - 1, np.uint32), window, shrink_windows, seed=8)
    reaches = []
    for _ in batches.epoch():
        batches.fill()
        interior = batches.contexts[window:span - window].numpy()  # no span edge within reach
        reaches.append((interior >= 0).sum(axis=1) // 2)
    frequency = np.bincount(np.concatenate(reaches), minlength=window + 1)[1:] / sum(map(len, reaches))
    if shrink_windows:
        np.testing.assert_allclose(frequency, np.full(window, 1 / window), atol=0.015)
    else:
        np.testing.assert_array_equal(frequency, [0, 0, 0, 0, 1])


def test_no_context_crosses_a_sentence_or_the_span():
    # every word is its sentence's number: a context word from another sentence would differ from its center
    rng = np.random.default_rng(5)
    lengths = rng.integers(1, 12, size=400).astype(np.int32)
    ids = np.repeat(np.arange(400), lengths).astype(np.int32)
    split = int(lengths[:100].sum())
    chunks = [Chunk(ids[:split], lengths[:100], split, 100), Chunk(ids[split:], lengths[100:], len(ids) - split, 300)]
    corpus = DeviceCorpus(lambda: chunks, 400, "cpu", span=50)
    batches = DeviceBatches(corpus, np.full(400, 2**31, np.uint32), window=6, shrink_windows=True, seed=9)
    with_context = 0
    for span in batches.epoch():
        batches.fill()
        centers, contexts = batches.centers.numpy(), batches.contexts.numpy()
        has = contexts >= 0
        assert (contexts[has] == np.broadcast_to(centers[:, None], contexts.shape)[has]).all()
        assert (centers[~has.any(axis=1)] == -1).all() and (centers[has.any(axis=1)] >= 0).all()
        with_context += has.any(axis=1).sum()
    assert with_context > 1000


def test_fixed_shapes_over_an_epoch_and_host_counts_from_metadata():
    chunks = synthetic_chunks(seed=6)
    chunks.insert(3, Chunk(np.zeros(0, np.int32), np.zeros(0, np.int32), raw_words=17, sentences=2))  # all OOV
    corpus = DeviceCorpus(lambda: chunks, 40, "cpu", span=100)
    batches = DeviceBatches(corpus, np.full(40, 2**31, np.uint32), window=3, shrink_windows=True,
                            cum_table=noise_cum_table(np.arange(1, 41), 0.75), negative=4)
    buffers = (batches.centers, batches.contexts, batches.negatives)
    layout = [(t.shape, t.dtype, t.data_ptr()) for t in buffers]
    spans = []
    for span in batches.epoch():
        batches.fill()
        assert [(t.shape, t.dtype, t.data_ptr()) for t in buffers] == layout
        spans.append(span)
    assert layout[:2] == [((100,), torch.int64, layout[0][2]), ((100, 6), torch.int64, layout[1][2])]
    assert len(spans) == corpus.num_spans == math.ceil(corpus.tokens / 100)
    assert corpus.tokens % 100 and (batches.centers.numpy()[corpus.tokens % 100:] == -1).all()  # last span padded
    assert sum(s.raw_words for s in spans) == spans[-1].raw_words_done == sum(c.raw_words for c in chunks)
    assert sum(s.sentences for s in spans) == spans[-1].sentences_done == sum(c.sentences for c in chunks)
    assert all(s.raw_words >= 100 for s in spans[:-1])  # in-vocabulary tokens are raw words too


def test_each_epoch_starts_at_the_first_span_whatever_ran_before():
    chunks = synthetic_chunks(seed=10)
    corpus = DeviceCorpus(lambda: chunks, 40, "cpu", span=64)
    batches = DeviceBatches(corpus, np.full(40, 2**32 - 1, np.uint32), window=2, shrink_windows=False)
    batches.fill()  # e.g. warm-up runs before a CUDA graph is captured
    batches.fill()
    next(batches.epoch())
    batches.fill()
    expected = corpus.storage[0, :64].numpy()  # every token kept, the first span's ids in order
    np.testing.assert_array_equal(batches.centers.numpy()[batches.centers.numpy() >= 0],
                                  expected[batches.centers.numpy() >= 0])
    assert (batches.centers.numpy() >= 0).sum() > 50


@pytest.mark.parametrize("counts", [
    (1e6 / np.arange(1, 3001)).astype(np.int64) + 1,  # Zipf
    np.array([7, 0, 0, 3, 0, 1]),  # zero counts: repeated table entries
    np.concatenate([[10**12], np.ones(5000, np.int64)]),  # thousands of words in the last buckets: searchsorted
])
def test_noise_lookup_equals_searchsorted_on_gensims_table(counts):
    table = noise_cum_table(counts, 0.75)
    domain = int(table[-1])
    edges = np.concatenate([table, table - 1, table + 1, [0, 1, domain - 1]]).astype(np.int64)
    draws = np.concatenate([edges[(edges >= 0) & (edges < domain)],
                            np.random.default_rng(0).integers(0, domain, 50000)])
    draws = torch.as_tensor(draws)
    expected = torch.searchsorted(torch.as_tensor(table.astype(np.int64)), draws)
    lookup = NoiseLookup(table, "cpu", draws.shape)
    assert lookup.guided == (len(counts) < 5000)
    torch.testing.assert_close(lookup.lookup(draws, torch.empty_like(draws)), expected, rtol=0, atol=0)
    plain = NoiseLookup(table, "cpu", draws.shape, guide=False)
    torch.testing.assert_close(plain.lookup(draws, torch.empty_like(draws)), expected, rtol=0, atol=0)


def test_an_empty_corpus_is_one_padding_span_carrying_its_raw_words():
    chunks = [Chunk(np.zeros(0, np.int32), np.zeros(0, np.int32), raw_words=9, sentences=3)]
    corpus = DeviceCorpus(lambda: chunks, 5, "cpu", span=8)
    batches = DeviceBatches(corpus, np.full(5, 2**32 - 1, np.uint32), window=2, shrink_windows=True)
    spans = []
    for span in batches.epoch():
        batches.fill()
        spans.append((span.raw_words, span.sentences))
    assert spans == [(9, 3)] and (batches.centers == -1).all() and int(batches.effective_words) == 0


def test_a_step_launches_no_syncing_op_and_few_ops():
    chunks = synthetic_chunks(seed=7, sentences=600)
    corpus = DeviceCorpus(lambda: chunks, 40, "cpu", span=256)
    batches = DeviceBatches(corpus, np.full(40, 2**31, np.uint32), window=5, shrink_windows=True,
                            cum_table=noise_cum_table(np.arange(1, 41), 0.75), negative=5)
    epoch = batches.epoch()
    next(epoch)
    batches.fill()  # first step outside the profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        steps = 0
        for _ in epoch:  # the host's per-step work included
            batches.fill()
            steps += 1
    assert steps > 5
    names = [event.name for event in prof.events()]
    assert not SYNCING_OPS & set(names), SYNCING_OPS & set(names)
    launched = [e.name for e in prof.events()
                if e.cpu_parent is None and e.name.startswith("aten::") and e.name not in VIEW_OPS]
    # 22 for the windows, plus the noise lookup's: 1 with searchsorted (CUDA), 5 with the guide table (CPU)
    assert batches.noise_lookup.guided and batches.noise_lookup.ops == 5
    assert len(launched) / steps == 22 + 5, sorted(set(launched))


def test_no_allocation_per_step():
    chunks = synthetic_chunks(seed=8)
    corpus = DeviceCorpus(lambda: chunks, 40, "cpu", span=512)
    batches = DeviceBatches(corpus, np.full(40, 2**31, np.uint32), window=5, shrink_windows=True,
                            cum_table=noise_cum_table(np.arange(1, 41), 0.75), negative=5)
    epoch = batches.epoch()
    next(epoch)
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        batches.fill()
    allocated = sum(max(e.self_cpu_memory_usage, 0) for e in prof.events())
    # at most the cumsum's int64 conversion of the keep mask (span-sized) and a wrapped scalar
    assert allocated <= 512 * 8 + 64


@pytest.mark.parametrize("budget_spans", [2, 5])
def test_streamed_chunks_give_the_same_batches_as_the_resident_corpus(budget_spans):
    chunks = synthetic_chunks(seed=9, sentences=500)
    calls = []

    def source():
        calls.append(1)
        return chunks

    counts = word_counts(chunks, 40)
    tables = dict(sample_ints=downsample_ints(counts, 0.05, int(counts.sum())), window=4, shrink_windows=True,
                  cum_table=noise_cum_table(counts, 0.75), negative=2, seed=11)
    resident = DeviceBatches(DeviceCorpus(source, 40, "cpu", span=64), **tables)
    streamed_corpus = DeviceCorpus(source, 40, "cpu", span=64, budget_bytes=budget_spans * 2 * 64 * 8)
    streamed = DeviceBatches(streamed_corpus, **tables)
    assert not resident.corpus.streamed and streamed_corpus.streamed
    assert streamed_corpus.chunk_spans == budget_spans and streamed_corpus.num_spans > 3 * budget_spans
    assert streamed_corpus.storage.shape == (2, 2 * budget_spans * 64)
    calls.clear()
    for _ in range(2):
        for a, b in zip(resident.epoch(), streamed.epoch(), strict=True):
            resident.fill()
            streamed.fill()
            assert (a.index, a.raw_words, a.sentences) == (b.index, b.raw_words, b.sentences)
            for x, y in [(resident.centers, streamed.centers), (resident.contexts, streamed.contexts),
                         (resident.negatives, streamed.negatives)]:
                torch.testing.assert_close(x, y, rtol=0, atol=0)
    assert len(calls) == 2  # the streamed corpus reads the chunks once per epoch, the resident one never
    assert int(resident.effective_words) == int(streamed.effective_words) > 0


def test_a_read_error_while_streaming_reaches_the_consumer():
    chunks = synthetic_chunks(seed=15, sentences=300)
    passes = []

    def source():
        passes.append(1)
        for number, chunk in enumerate(chunks):
            if len(passes) > 1 and number == 5:  # the scan passes, the epoch fails
                raise OSError("corpus file vanished")
            yield chunk

    corpus = DeviceCorpus(source, 40, "cpu", span=32, budget_bytes=2 * 2 * 32 * 8)  # two spans per half
    assert corpus.streamed
    with pytest.raises(OSError, match="corpus file vanished"):
        for _ in corpus.epoch():
            pass


def test_loads_an_encoded_corpus():
    sentences = [["a", "b", "c", "a"], ["zz"], ["b", "a"]] * 50
    encoded = EncodedCorpus(sentences, {"a": 0, "b": 1, "c": 2}, chunk_words=40)
    corpus = DeviceCorpus(encoded.chunks, 3, "cpu", span=32)
    assert corpus.tokens == 300 and corpus.raw_words == 350 and corpus.sentences == 150
    np.testing.assert_array_equal(corpus.storage[0, :6].numpy(), [0, 1, 2, 0, 1, 0])
    np.testing.assert_array_equal(corpus.storage[1, :6].numpy(), [0, 0, 0, 0, 2, 2])  # the empty sentence's id is 1
    encoded.close()


def test_bad_input_gets_clear_errors():
    chunk = Chunk(np.array([0, 3], np.int32), np.array([2], np.int32), raw_words=2, sentences=1)
    with pytest.raises(ValueError, match=r"ids must be in 0..2 \(vocab_size\)"):
        DeviceCorpus(lambda: [chunk], 3, "cpu", span=4)
    with pytest.raises(ValueError, match="sentence_lengths must sum"):
        DeviceCorpus(lambda: [Chunk(np.array([0], np.int32), np.array([2], np.int32), 2, 1)], 3, "cpu", span=4)
    with pytest.raises(TypeError, match="chunks must be a callable"):
        DeviceCorpus([chunk], 4, "cpu", span=4)
    with pytest.raises(ValueError, match="span must be a positive"):
        DeviceCorpus(lambda: [chunk], 4, "cpu", span=0)
    with pytest.raises(ValueError, match="cannot hold two spans"):
        DeviceCorpus(lambda: [chunk], 4, "cpu", span=4, budget_bytes=10)
    corpus = DeviceCorpus(lambda: [chunk], 4, "cpu", span=4)
    with pytest.raises(ValueError, match="one threshold per word"):
        DeviceBatches(corpus, np.zeros(3, np.uint32), 2, True)
    with pytest.raises(ValueError, match="needs cum_table"):
        DeviceBatches(corpus, np.zeros(4, np.uint32), 2, True, negative=5)
    with pytest.raises(ValueError, match="window must be at least 1"):
        DeviceBatches(corpus, np.zeros(4, np.uint32), 0, True)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_streamed_chunks_copied_asynchronously_give_the_resident_batches():
    chunks = synthetic_chunks(seed=12, sentences=800)
    counts = word_counts(chunks, 40)
    tables = dict(sample_ints=downsample_ints(counts, 0.05, int(counts.sum())), window=4, shrink_windows=True,
                  cum_table=noise_cum_table(counts, 0.75), negative=2, seed=13)
    resident = DeviceBatches(DeviceCorpus(lambda: chunks, 40, "cuda", span=64), **tables)
    streamed = DeviceBatches(DeviceCorpus(lambda: chunks, 40, "cuda", span=64, budget_bytes=3 * 2 * 64 * 8),
                             **tables)
    assert streamed.corpus.streamed and streamed.corpus.storage.is_cuda
    for _ in range(2):
        for _ in zip(resident.epoch(), streamed.epoch(), strict=True):
            resident.fill()
            streamed.fill()
            torch.testing.assert_close(resident.contexts, streamed.contexts, rtol=0, atol=0)
            torch.testing.assert_close(resident.negatives, streamed.negatives, rtol=0, atol=0)
    assert int(resident.effective_words) == int(streamed.effective_words) > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_graph_replays_fill_span_after_span():
    chunks = synthetic_chunks(seed=14, sentences=800)
    counts = word_counts(chunks, 40)
    corpus = DeviceCorpus(lambda: chunks, 40, "cuda", span=64)
    batches = DeviceBatches(corpus, downsample_ints(counts, 0.05, int(counts.sum())), window=4, shrink_windows=True,
                            cum_table=noise_cum_table(counts, 0.75), negative=2, seed=15)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up before capture
        for _ in range(3):
            batches.fill()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    graph.register_generator_state(batches.generator)
    with torch.cuda.graph(graph):
        batches.fill()
    batches.effective_words.zero_()
    ids = corpus.storage[0].cpu().numpy()
    previous, kept = None, 0
    for span in batches.epoch():
        graph.replay()
        centers = batches.centers.cpu().numpy()
        real = centers[centers >= 0]
        assert is_in_order_subsequence(real, ids[span.offset:span.offset + 64])
        assert previous is None or not np.array_equal(batches.negatives.cpu().numpy(), previous)  # draws advance
        previous = batches.negatives.cpu().numpy()
        kept += len(real)
    assert int(batches.effective_words) >= kept > 0
