"""Tests of torchw2v.vector_files: the reader is the one chosen, never a fallback that unpickles."""
import pickle

import numpy as np
import pytest
from gensim.models import Word2Vec
from gensim.test.utils import common_texts

from torchw2v import TorchWord2Vec
from torchw2v.vector_files import format_from_suffix, load_word_vectors


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.tw2v"
    trained = TorchWord2Vec(common_texts, vector_size=8, min_count=1, epochs=1, workers=1, device="cpu", seed=2)
    trained.save(path)
    return trained, path


@pytest.mark.parametrize("name, expected", [("v.txt", "text"), ("V.VEC", "text"), ("v.txt.gz", "text"),
                                            ("v.bin", "binary"), ("v.bin.bz2", "binary"), ("m.tw2v", "model"),
                                            ("m.kv", "model"), ("model", "model"), ("v.gz", "model")])
def test_format_from_suffix(name, expected):
    assert format_from_suffix(name) == expected


def test_word2vec_files_and_models_load_with_their_reader(model, tmp_path):
    trained, path = model
    text, binary = tmp_path / "v.txt", tmp_path / "v.bin"
    trained.wv.save_word2vec_format(str(text))
    trained.keyed_vectors("concat").save_word2vec_format(str(binary), binary=True)
    assert load_word_vectors(text).index_to_key == trained.wv.index_to_key
    np.testing.assert_allclose(load_word_vectors(text).vectors, trained.wv.vectors, atol=1e-6)
    assert load_word_vectors(binary).vector_size == 16
    np.testing.assert_array_equal(load_word_vectors(path, kind="average").vectors,
                                  trained.keyed_vectors("average").vectors)
    renamed = tmp_path / "vectors.data"
    renamed.write_bytes(text.read_bytes())
    assert load_word_vectors(renamed, format="text").index_to_key == trained.wv.index_to_key


def test_a_gensim_model_file_loads_when_chosen(tmp_path, caplog):
    gensim_model = Word2Vec(common_texts, vector_size=8, min_count=1, workers=1, seed=2)
    path = tmp_path / "gensim.model"
    gensim_model.save(str(path))
    assert load_word_vectors(path).index_to_key == gensim_model.wv.index_to_key
    assert "runs code from the file" in caplog.text
    gensim_model.wv.save(str(tmp_path / "wv.kv"))
    assert load_word_vectors(tmp_path / "wv.kv", format="model").index_to_key == gensim_model.wv.index_to_key
    with pytest.raises(ValueError, match="only its input vectors"):
        load_word_vectors(path, kind="concat")


class _Payload:
    """Unpickling this creates the file ``marker``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


@pytest.mark.parametrize("name, format", [("vectors.txt", None), ("vectors.vec", None), ("vectors.bin", None),
                                          ("model.tw2v", "text"), ("model.tw2v", "binary")])
def test_a_crafted_pickle_is_never_unpickled_as_vectors(name, format, tmp_path):
    marker = tmp_path / "payload-ran"
    crafted = tmp_path / name
    crafted.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ValueError, match=f"{crafted} is not a word2vec (text|binary) file"):
        load_word_vectors(crafted, format=format)
    assert not marker.exists()


def test_bad_arguments_are_named(model, tmp_path):
    _, path = model
    with pytest.raises(ValueError, match="format must be one of text, binary, model"):
        load_word_vectors(path, format="pickle")
    with pytest.raises(ValueError, match="kind must be one of"):
        load_word_vectors(path, kind="both")
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        load_word_vectors(tmp_path / "missing.txt")
    text = tmp_path / "v.txt"
    TorchWord2Vec.load(path, device="cpu").wv.save_word2vec_format(str(text))
    with pytest.raises(ValueError, match="needs a torchw2v model file"):
        load_word_vectors(text, kind="average")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01 not vectors")
    with pytest.raises(ValueError, match="is not a model file"):
        load_word_vectors(junk, format="model")
