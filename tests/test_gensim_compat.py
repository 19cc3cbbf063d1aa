"""TorchWord2Vec is a gensim Word2Vec: each snippet runs with gensim's class and with ours, and the results agree."""
import logging
import warnings

import numpy as np
import pytest
from gensim.models import KeyedVectors, Word2Vec
from gensim.models.callbacks import CallbackAny2Vec
from gensim.models.word2vec import LineSentence
from gensim.test.utils import common_texts, datapath

from torchw2v import TorchWord2Vec, native
from torchw2v.config import GENSIM_PARAMETERS, TORCH_ONLY_NAMES, TORCH_PARAMETERS

LEE = list(LineSentence(datapath("lee_background.cor")))
BOTH = [Word2Vec, TorchWord2Vec]
CPU_KERNELS = ["torch"] + (["native"] if native.available() else [])
#: Models saved by older gensim versions that gensim 4 still loads (gensim's own test data).
OLD_GENSIM_FILES = ["word2vec_old", "word2vec_3.3", "model-from-gensim-3.8.0.w2v", "old_w2v_models/w2v_3.4.0.mdl",
                    "old_w2v_models/w2v_1.0.0.mdl"]


def _make(cls, *args, **kwargs):
    if cls is TorchWord2Vec:
        kwargs.setdefault("device", "cpu")
    return cls(*args, **kwargs)


def test_gensims_indexers_accept_the_model(monkeypatch):
    """gensim's AnnoyIndexer gate (``isinstance(model, (Word2Vec, FastText))``), run for real; only the index
    build, which needs the annoy package, is replaced."""
    from gensim.similarities import annoy

    built = []
    monkeypatch.setattr(annoy.AnnoyIndexer, "_build_from_model",
                        lambda self, vectors, labels, size: built.append((vectors, labels, size)))
    model = TorchWord2Vec(common_texts, vector_size=8, min_count=1, epochs=1, device="cpu")
    annoy.AnnoyIndexer(model, 10)
    vectors, labels, size = built[0]
    assert labels == model.wv.index_to_key and size == 8
    np.testing.assert_allclose(vectors, model.wv.get_normed_vectors())
    assert isinstance(model, Word2Vec)
    with pytest.raises(ValueError, match="Only a Word2Vec"):  # the gate is real: other objects are refused
        annoy.AnnoyIndexer(object(), 10)


def test_signature_is_gensims_plus_the_torch_keywords():
    import inspect

    ours = inspect.signature(TorchWord2Vec.__init__).parameters
    theirs = inspect.signature(Word2Vec.__init__).parameters
    assert [(p.name, p.default) for p in list(ours.values())[:len(theirs)]] == \
           [(p.name, p.default) for p in theirs.values()]
    extra = list(ours.values())[len(theirs):]
    assert [(p.name, p.default) for p in extra] == [(p.name, p.default) for p in TORCH_PARAMETERS]
    assert all(p.kind == p.KEYWORD_ONLY for p in extra)
    assert [(p.name, p.default) for p in GENSIM_PARAMETERS] == \
           [(name, p.default) for name, p in theirs.items() if name != "self"]
    assert set(TORCH_ONLY_NAMES) == {p.name for p in extra}


@pytest.mark.parametrize("name", [
    "score", "init_sims", "lifecycle_events", "add_lifecycle_event", "reset_from", "scan_vocab", "prepare_vocab",
    "prepare_weights", "init_weights", "update_weights", "make_cum_table", "create_binary_tree", "add_null_word",
    "seeded_vector", "random", "estimate_memory", "predict_output_word", "get_latest_training_loss",
])
def test_every_gensim_attribute_exists(name):
    gensim_model = Word2Vec(common_texts, min_count=1, epochs=1, hs=1)
    model = TorchWord2Vec(common_texts, min_count=1, epochs=1, hs=1, device="cpu")
    assert hasattr(gensim_model, name) and hasattr(model, name)
    assert type(getattr(model, name)) is type(getattr(gensim_model, name))


def test_public_methods_are_a_superset_of_gensims():
    public = {name for name in dir(Word2Vec) if not name.startswith("_")}
    assert public <= set(dir(TorchWord2Vec))


def _built(cls, **kwargs):
    """A model with its vocabulary built on Lee and its initial weights (the same for the same seed)."""
    model = _make(cls, vector_size=20, min_count=2, seed=3, **kwargs)
    model.build_vocab(LEE)
    return model


@pytest.mark.parametrize("settings", [dict(sg=1, hs=1, negative=0), dict(sg=0, hs=1, negative=0)])
def test_score_equals_gensims_on_the_same_weights(settings):
    gensim_model, model = (_built(cls, **settings) for cls in BOTH)
    np.testing.assert_array_equal(model.wv.vectors, gensim_model.wv.vectors)  # same seed: same start
    model.syn1[:] = gensim_model.syn1 = np.random.default_rng(0).normal(0, 0.1, gensim_model.syn1.shape).astype(
        np.float32)
    np.testing.assert_allclose(model.score(LEE[:20], total_sentences=20),
                               gensim_model.score(LEE[:20], total_sentences=20), rtol=1e-6)
    with pytest.raises(RuntimeError, match="hierarchical softmax"):
        _built(TorchWord2Vec, negative=5).score(LEE[:2])


def test_vocabulary_methods_give_gensims_tables():
    gensim_model, model = (_built(cls, hs=1, negative=5, null_word=1) for cls in BOTH)
    assert model.wv.index_to_key == gensim_model.wv.index_to_key
    np.testing.assert_array_equal(model.cum_table, gensim_model.cum_table)
    for word in ("the", "attacks"):
        np.testing.assert_array_equal(model.wv.get_vecattr(word, "code"), gensim_model.wv.get_vecattr(word, "code"))
        np.testing.assert_array_equal(model.wv.get_vecattr(word, "point"),
                                      gensim_model.wv.get_vecattr(word, "point"))
    for m in (gensim_model, model):
        m.make_cum_table(domain=1000)
    np.testing.assert_array_equal(model.cum_table, gensim_model.cum_table)
    assert model.estimate_memory() == gensim_model.estimate_memory()
    # scan_vocab / prepare_vocab / prepare_weights called by hand, as gensim's pipeline
    pipeline = []
    for cls in BOTH:
        m = _make(cls, vector_size=10, min_count=3, seed=5)
        total_words, corpus_count = m.scan_vocab(LEE)
        report = m.prepare_vocab(dry_run=True)
        m.prepare_vocab()
        m.prepare_weights()
        pipeline.append((total_words, corpus_count, report["num_retained_words"], m.wv.index_to_key,
                         m.wv.vectors.copy()))
    assert pipeline[0][:4] == pipeline[1][:4]
    np.testing.assert_array_equal(pipeline[0][4], pipeline[1][4])


def test_weights_methods_and_reset_from_as_gensims():
    results = []
    for cls in BOTH:
        model = _built(cls)
        model.init_weights()
        other = _make(cls, vector_size=20, min_count=2, seed=3)
        other.reset_from(model)
        model.build_vocab([["zebra", "zebra", "quagga", "quagga"]], update=True)
        results.append((other.wv.index_to_key, other.wv.vectors.copy(), model.wv.vectors.copy(),
                        model.syn1neg.shape, str(model)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            model.init_sims()
            np.testing.assert_allclose(model.seeded_vector("x", 4), Word2Vec(vector_size=4).seeded_vector("x", 4))
        model.add_lifecycle_event("test", note=1)
        assert model.lifecycle_events[-1]["event"] == "test"
        assert isinstance(model.random, np.random.RandomState)
    (g_keys, g_other, g_vectors, g_shape, g_str), (t_keys, t_other, t_vectors, t_shape, t_str) = results
    assert g_keys == t_keys and g_shape == t_shape
    np.testing.assert_array_equal(g_other, t_other)
    np.testing.assert_array_equal(g_vectors, t_vectors)
    assert t_str == g_str.replace("Word2Vec<", "TorchWord2Vec<")


@pytest.mark.parametrize("cpu_kernel", CPU_KERNELS)
def test_a_model_reset_from_another_trains_all_its_objectives(cpu_kernel):
    source = _built(TorchWord2Vec, hs=1, negative=5)
    model = TorchWord2Vec(vector_size=20, min_count=2, seed=3, hs=1, negative=5, device="cpu", cpu_kernel=cpu_kernel)
    model.reset_from(source)
    model.train(LEE, total_examples=source.corpus_count, epochs=1)
    assert np.abs(model.syn1).max() > 0 and np.abs(model.syn1neg).max() > 0
    assert len(model.huffman.lengths) == len(model.cum_table) == len(source.wv)


def test_add_null_word_as_gensims():
    keys = []
    for cls in BOTH:
        model = _built(cls)
        model.add_null_word()
        keys.append((model.wv.index_to_key[-1], model.wv.get_vecattr("\0", "count")))
    assert keys[0] == keys[1] == ("\0", 1)


def test_predict_output_word_raises_gensims_errors(caplog):
    for cls in BOTH:
        hs_only = _make(cls, common_texts, min_count=1, epochs=1, hs=1, negative=0)
        with pytest.raises(RuntimeError, match="negative sampling"):
            hs_only.predict_output_word(["graph"])
        model = _make(cls, common_texts, min_count=1, epochs=1)
        with caplog.at_level(logging.WARNING):
            assert model.predict_output_word(["notaword"]) is None
        assert len(model.predict_output_word(["graph", "trees"], topn=3)) == 3


def test_empty_corpus_raises_runtime_error_as_gensim():
    for cls in BOTH:
        with pytest.raises(RuntimeError):
            _make(cls, [[]], min_count=1)
    with pytest.raises(ValueError, match="empty"):  # and a ValueError, as torchw2v raised before
        TorchWord2Vec([[]], device="cpu")


def test_corpus_errors_have_gensims_types(tmp_path):
    def generator():
        yield ["a", "b"]

    for cls in BOTH:
        with pytest.raises(TypeError, match="corpus_file"):
            _make(cls, corpus_file=str(tmp_path / "missing.txt"))
        with pytest.raises(TypeError):
            _make(cls, generator(), min_count=1)
        with pytest.raises(TypeError):
            _make(cls, min_count=1).build_vocab()


def test_training_errors_have_gensims_types():
    for cls in BOTH:
        with pytest.raises(RuntimeError):
            _make(cls, min_count=1).train(common_texts, total_examples=9, epochs=1)
        model = _make(cls, min_count=1)
        model.build_vocab(common_texts)
        with pytest.raises(ValueError):
            model.train(common_texts, epochs=1)
        with pytest.raises(ValueError):
            model.train(common_texts, total_examples=9)


def test_hs_with_negative_logs_gensims_warning(caplog):
    for cls in BOTH:
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            _make(cls, common_texts, min_count=1, epochs=1, hs=1, negative=5)
        assert any("Both hierarchical softmax and negative sampling" in r.getMessage() for r in caplog.records), cls


class _LossAtEpochEnd(CallbackAny2Vec):
    def __init__(self):
        self.losses = []

    def on_epoch_end(self, model):
        self.losses.append(model.get_latest_training_loss())


@pytest.mark.parametrize("cpu_kernel", CPU_KERNELS)
def test_loss_read_in_a_callback_is_the_loss_so_far(cpu_kernel):
    seen = {}
    for cls in BOTH:
        kwargs = dict(cpu_kernel=cpu_kernel) if cls is TorchWord2Vec else {}
        callback = _LossAtEpochEnd()
        model = _make(cls, LEE, vector_size=20, epochs=3, workers=1, compute_loss=True, callbacks=[callback],
                      **kwargs)
        seen[cls] = callback.losses, model.get_latest_training_loss()
    for cls, (losses, final) in seen.items():
        assert len(losses) == 3 and 0 < losses[0] < losses[1] < losses[2], cls
        assert losses[-1] == pytest.approx(final, rel=1e-6), cls
    (g_losses, _), (t_losses, _) = seen[Word2Vec], seen[TorchWord2Vec]
    # both count the loss per pair of the same corpus: the first epoch's totals are of one order
    assert 0.3 < t_losses[0] / g_losses[0] < 3


@pytest.mark.parametrize("cpu_kernel", CPU_KERNELS)
@pytest.mark.parametrize("sg", [0, 1])
def test_vectors_lockf_freezes_rows_as_gensim(cpu_kernel, sg):
    moved = {}
    for cls in BOTH:
        kwargs = dict(cpu_kernel=cpu_kernel) if cls is TorchWord2Vec else {}
        model = _make(cls, vector_size=20, min_count=2, sg=sg, **kwargs)
        model.build_vocab(LEE)
        model.wv.vectors_lockf = np.ones(len(model.wv), dtype=np.float32)
        model.wv.vectors_lockf[:100] = 0
        before = model.wv.vectors.copy()
        model.train(LEE, total_examples=model.corpus_count, epochs=1)
        change = np.abs(model.wv.vectors - before).max(axis=1)
        moved[cls] = change[:100].max(), change[100:].max()
    for cls, (frozen, free) in moved.items():
        assert frozen == 0 and free > 0.01, cls


def test_an_all_zero_lockf_of_one_value_freezes_everything_as_gensim():
    for cls in BOTH:
        model = _built(cls)
        model.wv.vectors_lockf[:100] = 0  # the default single value: every row
        before = model.wv.vectors.copy()
        model.train(LEE, total_examples=model.corpus_count, epochs=1)
        np.testing.assert_array_equal(model.wv.vectors, before)
        assert np.abs(model.syn1neg).max() > 0  # the output weights still learn


@pytest.mark.skipif(not native.available(), reason="native kernels not built")
@pytest.mark.parametrize("sg", [True, False])
def test_fractional_lockf_scales_the_native_input_update(sg):
    from torchw2v.sampling import noise_cum_table

    changes = []
    for lockf in (np.ones(3, np.float32), np.array([1.0, 0.25, 0.0], np.float32)):
        syn0 = np.random.default_rng(0).normal(0, 0.5, (3, 4)).astype(np.float32)
        syn1neg = np.random.default_rng(1).normal(0, 0.5, (3, 4)).astype(np.float32)
        kernel = native.NativeKernel(syn0, syn1neg, noise_cum_table(np.array([3, 2, 1]), 0.75), negative=2,
                                     lockf=lockf)
        before = syn0.copy()
        kernel.step(np.array([0]), np.array([[1, 2]]), alpha=0.5, sg=sg, cbow_mean=True,
                    state=kernel.new_state(seed=1))
        changes.append(syn0 - before)
    full, locked = changes
    assert np.abs(full[1]).max() > 1e-3
    np.testing.assert_allclose(locked[1], 0.25 * full[1], rtol=1e-5, atol=1e-7)
    assert not locked[2].any()
    with pytest.raises(ValueError, match="lockf"):
        native.NativeKernel(syn0, syn1neg, noise_cum_table(np.array([3, 2, 1]), 0.75), negative=2,
                            lockf=np.ones(2, np.float32))


def test_save_and_load_take_gensims_arguments_and_mmap(tmp_path):
    loaded = {}
    for cls in BOTH:
        model = _make(cls, common_texts, vector_size=16, min_count=1, epochs=1)
        path = str(tmp_path / f"{cls.__name__}.model")
        model.save(path, separately=None, sep_limit=10, ignore=frozenset(["comment"]), pickle_protocol=4)
        assert (tmp_path / f"{cls.__name__}.model.wv.vectors.npy").exists()
        mapped = cls.load(path, mmap="r")
        assert isinstance(mapped.wv.vectors, np.memmap)
        loaded[cls] = (mapped.wv.most_similar("graph", topn=3), model.wv.most_similar("graph", topn=3))
    for cls, (from_file, original) in loaded.items():
        assert [w for w, _ in from_file] == [w for w, _ in original], cls


def test_a_read_only_mapped_model_refuses_to_train_clearly(tmp_path):
    model = TorchWord2Vec(common_texts, vector_size=16, min_count=1, epochs=1, device="cpu")
    model.save(str(tmp_path / "m.model"), sep_limit=10)
    mapped = TorchWord2Vec.load(str(tmp_path / "m.model"), mmap="r")
    with pytest.raises(ValueError, match="read-only"):
        mapped.train(common_texts, total_examples=len(common_texts), epochs=1)
    copied = TorchWord2Vec.load(str(tmp_path / "m.model"), mmap="c")
    copied.train(common_texts, total_examples=len(common_texts), epochs=1)


@pytest.mark.parametrize("cpu_kernel", CPU_KERNELS)
def test_a_gensim_file_loads_into_torchw2v_and_keeps_training(tmp_path, cpu_kernel):
    gensim_model = Word2Vec(LEE, vector_size=20, min_count=3, epochs=1, hs=1, negative=5, workers=1)
    path = str(tmp_path / "gensim.model")
    gensim_model.save(path)
    model = TorchWord2Vec.load(path, device="cpu")
    assert type(model) is TorchWord2Vec and model.device == "cpu"
    model.cpu_kernel = cpu_kernel
    np.testing.assert_array_equal(model.wv.vectors, gensim_model.wv.vectors)
    np.testing.assert_array_equal(model.syn1, gensim_model.syn1)
    np.testing.assert_array_equal(model.cum_table, gensim_model.cum_table)
    np.testing.assert_array_equal(model.wv.get_vecattr("the", "point"), gensim_model.wv.get_vecattr("the", "point"))
    before = model.wv.vectors.copy()
    model.train(LEE, total_examples=model.corpus_count, epochs=1)
    assert not np.array_equal(model.wv.vectors, before)
    assert model.train_count == gensim_model.train_count + 1


def test_gensims_loader_reads_a_torchw2v_file_and_the_result_trains(tmp_path):
    model = TorchWord2Vec(LEE, vector_size=20, min_count=3, epochs=1, device="cpu", compute_loss=True)
    path = str(tmp_path / "torch.model")
    model.save(path)
    loaded = Word2Vec.load(path)
    assert isinstance(loaded, TorchWord2Vec) and loaded.dist_context is None
    np.testing.assert_array_equal(loaded.wv.vectors, model.wv.vectors)
    assert loaded.get_latest_training_loss() == model.get_latest_training_loss()
    loaded.train(LEE, total_examples=loaded.corpus_count, epochs=1)
    # to_gensim() is the file for machines without torchw2v: a plain gensim class
    exported = str(tmp_path / "plain.model")
    model.to_gensim().save(exported)
    assert type(Word2Vec.load(exported)) is Word2Vec


def test_no_torch_objects_in_the_saved_file(tmp_path):
    import pickle

    model = TorchWord2Vec(common_texts, vector_size=8, min_count=1, epochs=1, device="cpu", cpu_kernel="torch")
    path = str(tmp_path / "m.model")
    model.save(path)

    class NoTorch(pickle.Unpickler):
        def find_class(self, module, name):
            assert not module.startswith("torch."), (module, name)
            return super().find_class(module, name)

    with open(path, "rb") as handle:
        assert type(NoTorch(handle).load()) is TorchWord2Vec


@pytest.mark.parametrize("name", OLD_GENSIM_FILES)
def test_models_of_older_gensim_versions_load_and_train(name):
    gensim_model = Word2Vec.load(datapath(name))
    model = TorchWord2Vec.load(datapath(name), device="cpu")
    assert model.wv.index_to_key == gensim_model.wv.index_to_key
    np.testing.assert_array_equal(model.wv.vectors, gensim_model.wv.vectors)
    sentences = [list(model.wv.index_to_key)] * 200  # tiny vocabularies: enough words survive subsampling
    for trained in (gensim_model, model):
        before = trained.wv.vectors.copy()
        trained.train(sentences, total_examples=len(sentences), epochs=2)
        assert not np.array_equal(trained.wv.vectors, before)


def test_pickle_copy_and_keyed_vectors_stay_gensim_objects():
    import copy
    import pickle

    model = TorchWord2Vec(common_texts, vector_size=8, min_count=1, epochs=1, device="cpu")
    for clone in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        np.testing.assert_array_equal(clone.wv.vectors, model.wv.vectors)
        clone.train(common_texts, total_examples=len(common_texts), epochs=1)
    assert isinstance(model.wv, KeyedVectors)
