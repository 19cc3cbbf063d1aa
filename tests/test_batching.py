"""The native path's batches of windows: the same windows as ``context_windows``, in bounded
memory whatever the ``window``, and windows larger than a sentence train as gensim's do."""
import json
import logging
import subprocess
import sys

import numpy as np
import pytest

from torchw2v import TorchWord2Vec
from torchw2v.batching import BYTES_PER_SLOT, TextOrderBatches, context_windows, effective_window
from torchw2v.corpus import MAX_SENTENCE_LENGTH

#: Sentences of 5 to 10 words over 12 word types, and one of 3,000 words.
SHORT = [[f"w{(7 * i + j) % 12}" for j in range(5 + i % 6)] for i in range(40)]
LONG = [f"w{(3 * j) % 11}" for j in range(3000)]


def _random_chunk(seed, n_sentences=60):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 15, size=n_sentences)
    return rng.integers(0, 50, size=int(lengths.sum())).astype(np.int32), lengths


@pytest.mark.parametrize("window, batch_size, max_bytes", [(1, 7, None), (5, 2048, None), (5, 3, None),
                                                           (4, 100, 4 * 8 * BYTES_PER_SLOT)])
@pytest.mark.parametrize("shrink_windows", [True, False])
def test_batches_hold_the_windows_of_context_windows_in_text_order(window, batch_size, max_bytes, shrink_windows):
    ids, lengths = _random_chunk(window)
    expected = context_windows(ids, lengths, window, shrink_windows, np.random.default_rng(3))
    batches = TextOrderBatches(ids, lengths, window, shrink_windows, batch_size, np.random.default_rng(3),
                               max_bytes=max_bytes)
    made = list(batches)
    assert len(made) == len(batches)
    assert all(len(batch) <= (batch_size if max_bytes is None else 4) for batch in made)
    centers = np.concatenate([batch.centers for batch in made])
    contexts = np.concatenate([batch.contexts for batch in made])
    np.testing.assert_array_equal(centers, expected.centers)
    # only the columns no sentence of the chunk can fill are left out
    width = contexts.shape[1]
    assert width == 2 * min(window, int(lengths.max()) - 1)
    np.testing.assert_array_equal(contexts, expected.contexts[:, :width])
    assert (expected.contexts[:, width:] == -1).all()


def test_a_window_past_every_sentence_is_clipped_to_the_longest_sentence():
    ids, lengths = _random_chunk(1)
    longest = int(lengths.max())
    huge = TextOrderBatches(ids, lengths, 10**9, False, 50, np.random.default_rng(0))
    exact = context_windows(ids, lengths, longest - 1, False, np.random.default_rng(0))
    assert huge.width == longest - 1
    np.testing.assert_array_equal(np.concatenate([batch.contexts for batch in huge]), exact.contexts)


def test_shrunk_huge_windows_draw_their_reach_from_the_whole_window_as_gensim():
    """gensim draws each reach uniformly in 1..window: with window=10**7 every center of a short
    sentence sees the whole sentence (clipping the window first would shrink many of them)."""
    ids, lengths = np.arange(400, dtype=np.int32) % 13, np.full(40, 10)
    batches = TextOrderBatches(ids, lengths, 10**7, True, 64, np.random.default_rng(5))
    assert batches.reach.min() > 1000
    contexts = np.concatenate([batch.contexts for batch in batches])
    assert contexts.shape == (400, 18) and ((contexts >= 0).sum(axis=1) == 9).all()


def test_a_batch_of_the_longest_sentence_piece_with_a_huge_window_stays_within_its_bytes():
    n = MAX_SENTENCE_LENGTH
    batches = TextOrderBatches(np.arange(n, dtype=np.int32), np.array([n]), 10**9, True, 2048,
                               np.random.default_rng(0))
    assert batches.width == effective_window(10**9) == n - 1
    batch = next(iter(batches))
    assert 1 <= len(batch) < 2048
    assert batch.contexts.size * BYTES_PER_SLOT <= 64 * 2**20
    assert len(batches) == -(-n // len(batch))


def test_a_window_larger_than_every_sentence_trains_as_the_longest_sentence_allows(caplog):
    """Without shrinking, window=10**7 and 10**9 train exactly as window = longest sentence - 1; the
    model keeps ``window`` as given (as gensim), and the clipping is logged."""
    corpus = SHORT + [LONG[:20]]
    settings = dict(vector_size=12, min_count=1, epochs=2, workers=1, device="cpu", seed=2, shrink_windows=False)
    reference = TorchWord2Vec(corpus, window=19, **settings)
    with caplog.at_level(logging.INFO, logger="torchw2v"):
        for window in (10**7, 10**9):
            model = TorchWord2Vec(corpus, window=window, **settings)
            assert model.window == window
            np.testing.assert_array_equal(model.wv.vectors, reference.wv.vectors)
    assert f"window={10**9}: no window reaches past a sentence piece of at most 10000 tokens" in caplog.text


_PEAK_SCRIPT = """
import json, resource, sys
from torchw2v import TorchWord2Vec
cases, corpus = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
TorchWord2Vec(corpus, vector_size=8, window=5, min_count=1, epochs=1, workers=1, device="cpu",
              cpu_kernel=cases[0][1])  # the imports and a warm-up
before, outcomes = peak(), []
for window, kernel in cases:
    try:
        TorchWord2Vec(corpus, vector_size=8, window=window, min_count=1, epochs=1, workers=1, device="cpu",
                      cpu_kernel=kernel, sample=0, negative=2)
        outcomes.append("trained")
    except ValueError as error:
        outcomes.append(str(error))
print(json.dumps({"before": before, "after": peak(), "outcomes": outcomes}))
"""


def _peak_memory(cases, corpus):
    result = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, json.dumps(cases), json.dumps(corpus)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_huge_windows_train_in_bounded_memory_on_the_native_path():
    """window=10**7 took 1.9 GB on a 29-word corpus, and 10**9 was killed at 23 GB; now the peak grows by
    a few MB (a 3,000-word sentence included, so that windows are 2,999 words wide)."""
    result = _peak_memory([[10**7, "native"], [10**9, "native"]], SHORT + [LONG])
    assert result["outcomes"] == ["trained", "trained"]
    assert result["after"] - result["before"] < 150 * 2**20, result
    assert result["after"] < 600 * 2**20, result


def test_huge_windows_on_the_device_path_stop_with_an_error_naming_window_and_batch_size():
    result = _peak_memory([[10**7, "torch"], [10**9, "torch"]], SHORT)
    for outcome, window in zip(result["outcomes"], (10**7, 10**9)):
        assert f"window={window} at batch_size=256 needs" in outcome and "use window <= 546" in outcome
    assert result["after"] - result["before"] < 150 * 2**20, result
