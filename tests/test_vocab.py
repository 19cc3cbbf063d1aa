"""Vocabulary, subsampling and noise tables: parity with gensim's own ``Word2Vec.build_vocab``.

Every parity test builds a gensim ``Word2Vec`` with the same settings and calls only its
``build_vocab``/``build_vocab_from_freq`` (gensim is never trained here).
"""
import logging
from collections import Counter

import numpy as np
import pytest
import torch
from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence
from gensim.test.utils import datapath
from gensim.utils import RULE_DEFAULT, RULE_DISCARD, RULE_KEEP

from torchw2v import TorchWord2Vec
from torchw2v.batching import subsample
from torchw2v.sampling import SAMPLE_INT_SCALE, downsample_ints, keep_probabilities, noise_cum_table
from torchw2v.torch_steps import NoiseSampler
from torchw2v.vocab import NULL_WORD

LEE_PATH = datapath("lee_background.cor")
LEE_LINES = list(LineSentence(LEE_PATH))

# Hand-made corpora with many ties in counts (tie order is where sorting rules show).
TIES = [
    ["b", "a", "c", "the", "a", "apple"],
    ["c", "b", "d", "e", "the", "ant"],
    ["e", "d", "f", "g", "apple", "zeta"],
    ["h", "g", "f", "zeta", "ant", "the"],
    ["i", "j", "k", "b", "alpha"],
]
TIES_UPDATE = [
    ["k", "new1", "the", "new2", "b"],
    ["new2", "new1", "axe", "c", "zz"],
    ["new3", "i", "new2", "the", "new1"],
]


def trim_a_and_the(word, count, min_count):
    """Keep words starting with 'a' whatever their count, discard 'the', default otherwise."""
    if word.startswith("a"):
        return RULE_KEEP
    if word == "the":
        return RULE_DISCARD
    return RULE_DEFAULT


def build_pair(corpus=None, corpus_file=None, trim_rule=None, build_kwargs=None, **settings):
    """A (TorchWord2Vec, gensim Word2Vec) pair after ``build_vocab`` with the same settings."""
    settings.setdefault("vector_size", 16)
    build_kwargs = build_kwargs or {}
    ours = TorchWord2Vec(device="cpu", **settings)
    ours.build_vocab(corpus, corpus_file=corpus_file, trim_rule=trim_rule, **build_kwargs)
    theirs = Word2Vec(**settings)
    theirs.build_vocab(corpus, corpus_file=corpus_file, trim_rule=trim_rule, **build_kwargs)
    return ours, theirs


def assert_same_vocab(ours, theirs):
    assert ours.wv.index_to_key == theirs.wv.index_to_key
    assert ours.wv.key_to_index == theirs.wv.key_to_index
    assert set(ours.wv.expandos) == set(theirs.wv.expandos) == {"count", "sample_int"}
    for attr in ("count", "sample_int"):
        a, b = ours.wv.expandos[attr], theirs.wv.expandos[attr]
        assert a.dtype == b.dtype, attr
        np.testing.assert_array_equal(a, b, err_msg=attr)
    assert ours.corpus_count == theirs.corpus_count
    assert ours.corpus_total_words == theirs.corpus_total_words
    assert ours.effective_min_count == theirs.effective_min_count
    assert ours.min_count == theirs.min_count
    assert ours.sample == theirs.sample


def assert_same_tables(ours, theirs):
    assert ours.cum_table.dtype == theirs.cum_table.dtype == np.uint32
    np.testing.assert_array_equal(ours.cum_table, theirs.cum_table)
    assert ours.wv.vectors.dtype == theirs.wv.vectors.dtype == np.float32
    np.testing.assert_array_equal(ours.wv.vectors, theirs.wv.vectors)
    np.testing.assert_array_equal(ours.syn1neg, theirs.syn1neg)


LEE_SETTINGS = {
    "min1-nosample": dict(min_count=1, sample=0),
    "min5-default-sample": dict(min_count=5, sample=1e-3),
    "min5-sample1e-5": dict(min_count=5, sample=1e-5),
    "min1-sample-shorthand5": dict(min_count=1, sample=5),
    "min5-unsorted": dict(min_count=5, sorted_vocab=0),
    "min1-unsorted-sample1e-5": dict(min_count=1, sorted_vocab=0, sample=1e-5),
    "max_vocab_size-500": dict(min_count=1, max_vocab_size=500),
    "max_vocab_size-2000-min5": dict(min_count=5, max_vocab_size=2000),
    "max_vocab_size-unsorted": dict(min_count=1, max_vocab_size=800, sorted_vocab=0),
    "max_final_vocab-300": dict(min_count=1, max_final_vocab=300),
    "max_final_vocab-large": dict(min_count=5, max_final_vocab=100000),
    "trim_rule": dict(min_count=3, trim_rule=trim_a_and_the),
    "trim_rule-with-pruning": dict(min_count=2, max_vocab_size=1000, trim_rule=trim_a_and_the),
    "null_word": dict(min_count=2, null_word=1),
    "null_word-unsorted": dict(min_count=5, null_word=1, sorted_vocab=0),
}


@pytest.mark.parametrize("settings", LEE_SETTINGS.values(), ids=LEE_SETTINGS.keys())
def test_lee_vocab_equals_gensims(settings):
    ours, theirs = build_pair(LineSentence(LEE_PATH), **settings)
    assert len(ours.wv) > 50
    assert_same_vocab(ours, theirs)
    assert_same_tables(ours, theirs)


TIES_SETTINGS = {
    "min1": dict(min_count=1),
    "min2-unsorted": dict(min_count=2, sorted_vocab=0),
    "min2-nosample": dict(min_count=2, sample=0),
    "sample-shorthand": dict(min_count=1, sample=1),
    "sample-big": dict(min_count=1, sample=0.2),
    "max_vocab_size": dict(min_count=1, max_vocab_size=8),
    "max_final_vocab": dict(min_count=1, max_final_vocab=4),
    "trim_rule": dict(min_count=2, trim_rule=trim_a_and_the),
    "trim_rule-pruning": dict(min_count=1, max_vocab_size=6, trim_rule=trim_a_and_the),
    "null_word": dict(min_count=1, null_word=1),
}


@pytest.mark.parametrize("settings", TIES_SETTINGS.values(), ids=TIES_SETTINGS.keys())
def test_tied_counts_vocab_equals_gensims(settings):
    ours, theirs = build_pair(TIES, **settings)
    assert_same_vocab(ours, theirs)
    assert_same_tables(ours, theirs)


def test_parity_settings_are_not_vacuous():
    """The settings above really change the vocabulary, so the parity checks bite."""
    full, _ = build_pair(LineSentence(LEE_PATH), min_count=1, sample=0)
    pruned, _ = build_pair(LineSentence(LEE_PATH), min_count=1, max_vocab_size=500)
    assert len(pruned.wv) < len(full.wv) // 2
    capped, _ = build_pair(LineSentence(LEE_PATH), min_count=1, max_final_vocab=300)
    assert capped.effective_min_count > 1 and len(capped.wv) <= 300
    trimmed, _ = build_pair(LineSentence(LEE_PATH), min_count=3, trim_rule=trim_a_and_the)
    assert "the" not in trimmed.wv.key_to_index
    rare_a = [w for w in full.wv.index_to_key if w.startswith("a") and full.wv.get_vecattr(w, "count") == 1]
    assert rare_a and all(w in trimmed.wv.key_to_index for w in rare_a)
    nulled, _ = build_pair(LineSentence(LEE_PATH), min_count=2, null_word=1)
    assert NULL_WORD in nulled.wv.key_to_index and nulled.wv.get_vecattr(NULL_WORD, "count") == 1
    unsorted, _ = build_pair(TIES, min_count=1, sorted_vocab=0)
    assert unsorted.wv.index_to_key[:3] == ["b", "a", "c"]
    ties, _ = build_pair(TIES, min_count=1)
    counts = ties.wv.expandos["count"]
    assert np.all(np.diff(counts) <= 0) and ties.wv.index_to_key != unsorted.wv.index_to_key
    shorthand, _ = build_pair(LineSentence(LEE_PATH), min_count=1, sample=5)
    assert 10 < np.sum(shorthand.wv.expandos["sample_int"] < SAMPLE_INT_SCALE) < len(shorthand.wv) // 2


def test_lee_corpus_file_equals_gensims():
    ours, theirs = build_pair(corpus_file=LEE_PATH, min_count=2)
    assert_same_vocab(ours, theirs)
    assert_same_tables(ours, theirs)


@pytest.mark.parametrize("overrides", [dict(min_count=3), dict(sample=1e-4), dict(min_count=2, sample=2)])
def test_build_vocab_overrides_equal_gensims(overrides):
    ours, theirs = build_pair(LineSentence(LEE_PATH), min_count=5, build_kwargs=overrides)
    assert_same_vocab(ours, theirs)
    assert_same_tables(ours, theirs)


def test_keep_raw_vocab_equals_gensims():
    ours, theirs = build_pair(LineSentence(LEE_PATH), min_count=5, max_vocab_size=3000,
                              build_kwargs=dict(keep_raw_vocab=True))
    assert dict(ours.raw_vocab) == dict(theirs.raw_vocab) and len(ours.raw_vocab) > len(ours.wv)
    ours, theirs = build_pair(TIES, min_count=1)
    assert not ours.raw_vocab and not theirs.raw_vocab


# ---------------------------------------------------------------------- updates


def _perturb_weights(model, seed):
    """Stand-in for training: old rows must be kept as they are, not re-drawn from the seed."""
    rng = np.random.default_rng(seed)
    model.wv.vectors += rng.standard_normal(model.wv.vectors.shape).astype(np.float32)
    model.syn1neg += rng.standard_normal(model.syn1neg.shape).astype(np.float32)


UPDATE_CASES = {
    "lee-halves": (LEE_LINES[:150], LEE_LINES[150:], dict(min_count=2)),
    "lee-halves-unsorted-sample": (LEE_LINES[:100], LEE_LINES[100:], dict(min_count=3, sorted_vocab=0,
                                                                           sample=1e-4)),
    "lee-max_final_vocab": (LEE_LINES[:150], LEE_LINES[150:], dict(min_count=1, max_final_vocab=400)),
    "ties": (TIES, TIES_UPDATE, dict(min_count=1)),
    "ties-min2-trim": (TIES, TIES_UPDATE, dict(min_count=2, trim_rule=trim_a_and_the)),
    "ties-shorthand-sample": (TIES, TIES_UPDATE, dict(min_count=1, sample=1)),
}


@pytest.mark.parametrize("first, second, settings", UPDATE_CASES.values(), ids=UPDATE_CASES.keys())
def test_update_equals_gensims_and_grows_weights(first, second, settings):
    settings = dict(settings, vector_size=12, seed=7)
    trim_rule = settings.pop("trim_rule", None)
    ours = TorchWord2Vec(device="cpu", **settings)
    theirs = Word2Vec(**settings)
    for model in (ours, theirs):
        model.build_vocab(first, trim_rule=trim_rule)
        _perturb_weights(model, seed=3)
    assert_same_vocab(ours, theirs)
    old_keys = list(ours.wv.index_to_key)
    old_vectors, old_syn1neg = ours.wv.vectors.copy(), ours.syn1neg.copy()
    assert np.any(old_syn1neg != 0)

    for model in (ours, theirs):
        model.build_vocab(second, update=True, trim_rule=trim_rule)
    assert_same_vocab(ours, theirs)
    assert_same_tables(ours, theirs)

    n_old, n_new = len(old_keys), len(ours.wv)
    assert n_new > n_old, "the second corpus should bring new words"
    assert ours.wv.index_to_key[:n_old] == old_keys
    assert ours.wv.vectors.shape == (n_new, 12) and ours.syn1neg.shape == (n_new, 12)
    np.testing.assert_array_equal(ours.wv.vectors[:n_old], old_vectors)
    np.testing.assert_array_equal(ours.syn1neg[:n_old], old_syn1neg)
    assert not np.any(ours.syn1neg[n_old:])
    new_rows = ours.wv.vectors[n_old:]
    assert np.all(np.abs(new_rows) <= 1.0 / 12) and np.unique(new_rows).size > new_rows.size // 2
    # old words add up both corpora's counts, new words have the second corpus's count
    count1 = Counter(w for s in first for w in s)
    count2 = Counter(w for s in second for w in s)
    old = set(old_keys)
    for word in ours.wv.index_to_key:
        expected = count2[word] + (count1[word] if word in old else 0)
        assert ours.wv.get_vecattr(word, "count") == expected, word


def test_update_without_vocabulary_raises():
    with pytest.raises(RuntimeError, match="update"):
        TorchWord2Vec(device="cpu").build_vocab(TIES, update=True)


# ---------------------------------------------------------------------- build_vocab_from_freq

FREQ = {"the": 40, "a": 12, "b": 12, "c": 7, "apple": 1, "d": 7, "e": 3, "f": 3, "g": 1, "h": 2}
FREQ_UPDATE = {"b": 5, "new": 9, "other": 9, "g": 1, "rare": 1, "the": 3, "axe": 1}


@pytest.mark.parametrize("settings", [
    dict(min_count=1),
    dict(min_count=2, sample=0.05),
    dict(min_count=3, sorted_vocab=0, sample=2),
    dict(min_count=1, max_final_vocab=5),
    dict(min_count=2, trim_rule=trim_a_and_the),
    dict(min_count=2, null_word=1),
], ids=["min1", "min2-sample", "unsorted-shorthand", "max_final_vocab", "trim_rule", "null_word"])
def test_build_vocab_from_freq_equals_gensims(settings):
    settings = dict(settings, vector_size=8, seed=11)
    trim_rule = settings.pop("trim_rule", None)
    ours, theirs = TorchWord2Vec(device="cpu", **settings), Word2Vec(**settings)
    for model in (ours, theirs):
        model.build_vocab_from_freq(dict(FREQ), corpus_count=9, trim_rule=trim_rule)
    assert ours.corpus_count == 9
    assert_same_vocab(ours, theirs)
    assert_same_tables(ours, theirs)


@pytest.mark.parametrize("min_count", [1, 2])
def test_build_vocab_from_freq_update_equals_gensims(min_count):
    ours, theirs = TorchWord2Vec(device="cpu", min_count=min_count, vector_size=8), Word2Vec(
        min_count=min_count, vector_size=8)
    for model in (ours, theirs):
        model.build_vocab_from_freq(dict(FREQ))
        _perturb_weights(model, seed=5)
    n_old = len(ours.wv)
    old_vectors = ours.wv.vectors.copy()
    for model in (ours, theirs):
        model.build_vocab_from_freq(dict(FREQ_UPDATE), corpus_count=4, update=True)
    assert_same_vocab(ours, theirs)
    assert_same_tables(ours, theirs)
    assert len(ours.wv) > n_old
    np.testing.assert_array_equal(ours.wv.vectors[:n_old], old_vectors)
    assert not np.any(ours.syn1neg[n_old:])
    assert ours.wv.get_vecattr("b", "count") == 17


def test_build_vocab_from_freq_then_corpus_update_equals_gensims():
    ours, theirs = TorchWord2Vec(device="cpu", min_count=1, vector_size=8), Word2Vec(min_count=1, vector_size=8)
    for model in (ours, theirs):
        model.build_vocab_from_freq(dict(FREQ), corpus_count=3)
        model.build_vocab(TIES_UPDATE, update=True)
    assert_same_vocab(ours, theirs)
    assert_same_tables(ours, theirs)


# ---------------------------------------------------------------------- tables


@pytest.mark.parametrize("ns_exponent", [0.75, 0.0, 1.0, -0.5])
@pytest.mark.parametrize("min_count", [1, 5])
def test_cum_table_equals_gensims_make_cum_table(ns_exponent, min_count):
    ours, theirs = build_pair(LineSentence(LEE_PATH), min_count=min_count, ns_exponent=ns_exponent)
    assert ours.wv.index_to_key == theirs.wv.index_to_key
    expected = theirs.cum_table.copy()
    theirs.make_cum_table()  # gensim's own method, called explicitly
    np.testing.assert_array_equal(theirs.cum_table, expected)
    assert ours.cum_table.dtype == np.uint32
    np.testing.assert_array_equal(ours.cum_table, expected)
    assert int(ours.cum_table[-1]) == 2**31 - 1
    assert np.all(np.diff(ours.cum_table.astype(np.int64)) >= 0)
    if ns_exponent == 0.0:  # uniform: steps differ by at most one rounding unit
        steps = np.diff(ours.cum_table.astype(np.int64))
        assert steps.max() - steps.min() <= 1


def test_noise_cum_table_domain_and_empty():
    counts = np.array([3, 1, 4, 1, 5])
    table = noise_cum_table(counts, 0.75, domain=1000)
    weights = counts ** 0.75
    np.testing.assert_array_equal(table, np.round(np.cumsum(weights) / weights.sum() * 1000).astype(np.uint32))
    assert noise_cum_table(np.array([], dtype=np.int64), 0.75).shape == (0,)


def _formula_keep(counts, sample, retain_total):
    counts = np.asarray(counts, dtype=np.float64)
    if sample < 1:
        f = counts / retain_total
        p = (np.sqrt(f / sample) + 1) * sample / f
    else:
        t = int(sample * (3 + np.sqrt(5)) / 2)
        p = (np.sqrt(counts / t) + 1) * t / counts
    return np.minimum(p, 1.0)


@pytest.mark.parametrize("sample, min_count", [(1e-3, 5), (1e-5, 1), (1e-4, 3), (10, 1), (1, 5)])
def test_keep_probabilities_follow_the_formula(sample, min_count):
    model = TorchWord2Vec(min_count=min_count, sample=sample, vector_size=4, device="cpu")
    model.build_vocab(LineSentence(LEE_PATH))
    counts = model.wv.expandos["count"]
    sample_ints = model.wv.expandos["sample_int"]
    kept = keep_probabilities(sample_ints)
    expected = _formula_keep(counts, sample, int(counts.sum()))
    assert np.sum(expected < 1) >= 5, "the setting should subsample several words"
    assert np.all(expected[expected < 1] > 1e-3)
    # sample_int is a uint32 quantisation of p (truncated): one unit of 1/(2**32-1) at most,
    # i.e. 1e-9 relative except for very small p.
    np.testing.assert_allclose(kept, expected, rtol=1e-9, atol=1.0 / SAMPLE_INT_SCALE)
    assert np.all(kept <= expected + 1e-15)
    assert np.all(kept[expected >= 1] == 1.0)
    np.testing.assert_array_equal(downsample_ints(counts, sample, int(counts.sum())), sample_ints)


def test_keep_probabilities_without_sampling_are_one():
    model = TorchWord2Vec(min_count=1, sample=0, vector_size=4, device="cpu")
    model.build_vocab(TIES)
    assert np.all(keep_probabilities(model.wv.expandos["sample_int"]) == 1.0)


# ---------------------------------------------------------------------- sampling draws

NOISE_COUNTS = np.array([5000, 2100, 1300, 900, 700, 520, 400, 333, 300, 250,
                         180, 150, 120, 100, 70, 50, 30, 20, 10, 3])


@pytest.mark.parametrize("ns_exponent", [0.75, 0.0, -0.5])
def test_noise_sampler_frequencies_match_count_power(ns_exponent):
    n = 200_000
    table = noise_cum_table(NOISE_COUNTS, ns_exponent)
    draws = NoiseSampler(table, torch.device("cpu"), seed=123).draw((n // 50, 50))
    assert draws.shape == (n // 50, 50) and draws.dtype == torch.int64
    observed = np.bincount(draws.flatten().numpy(), minlength=len(NOISE_COUNTS))
    assert len(observed) == len(NOISE_COUNTS)
    weights = NOISE_COUNTS.astype(np.float64) ** ns_exponent
    expected = weights / weights.sum() * n
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    assert chi2 < 60.0, (chi2, observed, expected)  # 19 degrees of freedom: p < 1e-5
    # every word within a few percent of its expected share, or 5 binomial sigmas for rare ones
    tolerance = np.maximum(0.03 * expected, 5 * np.sqrt(expected))
    assert np.all(np.abs(observed - expected) <= tolerance), (observed, expected)


def test_noise_sampler_is_seeded_and_never_draws_zero_weight_words():
    table = noise_cum_table(np.array([4, 0, 9, 0, 1]), 1.0)
    a = NoiseSampler(table, torch.device("cpu"), seed=5).draw((5000,))
    b = NoiseSampler(table, torch.device("cpu"), seed=5).draw((5000,))
    c = NoiseSampler(table, torch.device("cpu"), seed=6).draw((5000,))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert set(a.tolist()) == {0, 2, 4}


def test_subsample_frequencies_match_keep_probabilities():
    rng = np.random.default_rng(2024)
    counts = NOISE_COUNTS
    sample_ints = downsample_ints(counts, sample=1e-2, retain_total=int(counts.sum()))
    p_keep = keep_probabilities(sample_ints)
    assert np.sum(p_keep < 0.9) >= 4
    lengths = rng.integers(0, 30, size=20_000)
    ids = rng.choice(len(counts), size=int(lengths.sum()), p=counts / counts.sum())
    assert len(ids) > 250_000 and np.any(lengths == 0)
    kept, new_lengths = subsample(ids, lengths, sample_ints, np.random.default_rng(7))
    assert new_lengths.sum() == len(kept) and len(new_lengths) == len(lengths)
    assert np.all(new_lengths <= lengths)
    seen = np.bincount(ids, minlength=len(counts))
    survived = np.bincount(kept, minlength=len(counts))
    expected = seen * p_keep
    sigma = np.sqrt(np.maximum(seen * p_keep * (1 - p_keep), 1.0))
    assert np.all(np.abs(survived - expected) <= 5 * sigma), (survived, expected)
    assert np.all(survived[p_keep == 1.0] == seen[p_keep == 1.0])
    # kept tokens stay in order and in their sentences: replay with the same generator
    draws = np.random.default_rng(7).integers(0, 2**32, size=len(ids), dtype=np.uint64)
    keep = draws <= sample_ints[ids]
    np.testing.assert_array_equal(kept, ids[keep])
    sentence_of = np.repeat(np.arange(len(lengths)), lengths)
    np.testing.assert_array_equal(new_lengths, np.bincount(sentence_of[keep], minlength=len(lengths)))


# ---------------------------------------------------------------------- weights and memory


@pytest.mark.parametrize("seed, vector_size, min_count", [(1, 100, 5), (42, 7, 1), (0, 32, 2)])
def test_initial_vectors_equal_gensims(seed, vector_size, min_count):
    ours, theirs = build_pair(LineSentence(LEE_PATH), seed=seed, vector_size=vector_size, min_count=min_count)
    assert ours.wv.vectors.shape == (len(ours.wv), vector_size)
    np.testing.assert_array_equal(ours.wv.vectors, theirs.wv.vectors)
    assert ours.syn1neg.shape == theirs.syn1neg.shape and not np.any(ours.syn1neg)
    assert np.all(np.abs(ours.wv.vectors) <= 1.0 / vector_size)


def test_initial_vectors_depend_on_seed():
    a = TorchWord2Vec(min_count=1, seed=1, vector_size=8, device="cpu")
    b = TorchWord2Vec(min_count=1, seed=2, vector_size=8, device="cpu")
    a.build_vocab(TIES)
    b.build_vocab(TIES)
    assert not np.array_equal(a.wv.vectors, b.wv.vectors)


@pytest.mark.parametrize("settings", [dict(min_count=5), dict(min_count=1, vector_size=33, null_word=1),
                                      dict(min_count=2, negative=0, vector_size=10)])
def test_estimate_memory_equals_gensims(settings):
    settings = dict(settings)
    settings.setdefault("vector_size", 100)
    negative = settings.get("negative", 5)
    if negative == 0:  # gensim needs hs or negative to build; compare the estimate only
        ours = TorchWord2Vec(device="cpu", **dict(settings, negative=1))
        ours.build_vocab(LineSentence(LEE_PATH))
        ours.negative = 0
        theirs = Word2Vec(**dict(settings, negative=1))
        theirs.build_vocab(LineSentence(LEE_PATH))
        theirs.negative = 0
    else:
        ours, theirs = build_pair(LineSentence(LEE_PATH), **settings)
    assert ours.estimate_memory() == theirs.estimate_memory()
    assert ours.estimate_memory(vocab_size=1234) == theirs.estimate_memory(vocab_size=1234)
    assert ours.estimate_memory(report={"extra": 7}) == theirs.estimate_memory(report={"extra": 7})
    report = ours.estimate_memory()
    assert report["vectors"] == len(ours.wv) * settings["vector_size"] * 4
    assert report["total"] == sum(v for k, v in report.items() if k != "total")


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize("min_count", [10, 1000])
def test_empty_vocabulary_after_min_count_raises(min_count):
    model = TorchWord2Vec(min_count=min_count, device="cpu")
    with pytest.raises(ValueError, match="min_count"):
        model.build_vocab(TIES)
    with pytest.raises(ValueError, match="min_count"):
        TorchWord2Vec(TIES, min_count=min_count, device="cpu", epochs=1)


def test_empty_vocabulary_from_freq_raises():
    with pytest.raises(ValueError, match="min_count"):
        TorchWord2Vec(min_count=50, device="cpu").build_vocab_from_freq(dict(FREQ))


@pytest.mark.parametrize("corpus", [[[]], [], [[], []], iter([[]])], ids=["one-empty", "no-sentences",
                                                                         "two-empty", "iterator"])
def test_empty_corpus_raises(corpus):
    with pytest.raises(ValueError, match="corpus is empty"):
        TorchWord2Vec(min_count=1, device="cpu").build_vocab(corpus)


def test_empty_corpus_raises_through_constructor_and_corpus_file(tmp_path):
    with pytest.raises(ValueError, match="corpus is empty"):
        TorchWord2Vec([[]], min_count=1, device="cpu", epochs=1)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match="corpus is empty"):
        TorchWord2Vec(min_count=1, device="cpu").build_vocab(corpus_file=str(empty))


# ---------------------------------------------------------------------- known divergences

LONG = [["w%d" % (i % 7) for i in range(25_000)], ["a", "b"]]


def test_corpus_count_of_long_in_memory_sentence_equals_gensims():
    ours, theirs = build_pair(LONG, min_count=1)
    assert ours.wv.index_to_key == theirs.wv.index_to_key
    assert ours.corpus_total_words == theirs.corpus_total_words == 25_002
    assert ours.corpus_count == theirs.corpus_count == 2


def test_max_vocab_size_pruning_of_long_in_memory_sentence_equals_gensims():
    corpus = [["x%d" % i for i in range(12_000)] + ["a"] * 5, ["a", "b", "b"]]
    ours, theirs = build_pair(corpus, min_count=1, max_vocab_size=100)
    assert ours.wv.index_to_key == theirs.wv.index_to_key == ["a", "b"]  # pruned once, after the long sentence
    np.testing.assert_array_equal(ours.wv.expandos["count"], theirs.wv.expandos["count"])


def test_long_sentences_from_gensim_readers_match(tmp_path):
    """Through LineSentence (which splits itself) the counts agree with gensim."""
    path = tmp_path / "long.txt"
    path.write_text(" ".join(LONG[0]) + "\n" + " ".join(LONG[1]) + "\n")
    ours, theirs = build_pair(LineSentence(str(path)), min_count=1)
    assert_same_vocab(ours, theirs)
    assert ours.corpus_count == 4


def test_build_vocab_logs_progress(caplog):
    with caplog.at_level(logging.INFO, logger="torchw2v"):
        TorchWord2Vec(min_count=1, device="cpu").build_vocab(TIES)
    assert any("collected" in r.getMessage() for r in caplog.records)
