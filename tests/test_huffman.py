"""The Huffman tree equals gensim's, word by word."""
import numpy as np
import pytest
from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence
from gensim.test.utils import common_texts, datapath

from torchw2v import TorchWord2Vec
from torchw2v.huffman import huffman_tree

LEE = list(LineSentence(datapath("lee_background.cor")))
TIES = [["a", "b", "c", "d"], ["d", "c", "b", "a"], ["e", "f"], ["f", "e", "g"]]


@pytest.mark.parametrize("corpus, min_count", [(LEE, 5), (LEE, 1), (common_texts, 1), (TIES, 1)],
                         ids=["lee-5", "lee-1", "common-texts", "ties"])
def test_codes_and_points_equal_gensims(corpus, min_count):
    ours = TorchWord2Vec(hs=1, negative=0, min_count=min_count, device="cpu")
    ours.build_vocab(corpus)
    theirs = Word2Vec(hs=1, negative=0, min_count=min_count)
    theirs.build_vocab(corpus)
    assert ours.wv.index_to_key == theirs.wv.index_to_key
    for word in theirs.wv.index_to_key:
        np.testing.assert_array_equal(ours.wv.get_vecattr(word, "code"), theirs.wv.get_vecattr(word, "code"))
        np.testing.assert_array_equal(ours.wv.get_vecattr(word, "point"), theirs.wv.get_vecattr(word, "point"))
        assert ours.wv.get_vecattr(word, "code").dtype == theirs.wv.get_vecattr(word, "code").dtype
    assert ours.syn1.shape == theirs.syn1.shape
    assert ours.estimate_memory() == theirs.estimate_memory()


def test_padded_layout_matches_the_lists():
    tree = huffman_tree(np.array([40, 30, 20, 5, 5, 1]))
    padded = tree.padded()
    for word, (code, point) in enumerate(zip(tree.codes, tree.points)):
        length = padded.lengths[word]
        assert length == len(code) == len(point)
        assert padded.codes[word, :length].tolist() == code.tolist()
        assert padded.points[word, :length].tolist() == point.tolist()
        assert not padded.codes[word, length:].any()
    # a Huffman tree over V words has V - 1 inner nodes, and frequent words sit higher
    assert padded.points.max() == 4
    assert padded.lengths[0] <= padded.lengths[-1]


def test_single_word_vocabulary_has_an_empty_path():
    tree = huffman_tree(np.array([7]))
    assert tree.codes[0].tolist() == [] and tree.padded().lengths.tolist() == [0]
