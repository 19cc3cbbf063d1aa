"""Export to gensim: a ``gensim.models.Word2Vec`` that gensim can query and keep training.

>>> from gensim.test.utils import common_texts
>>> from torchw2v import TorchWord2Vec
>>> model = TorchWord2Vec(common_texts, vector_size=8, min_count=1, epochs=1, device="cpu")
>>> gensim_model = to_gensim(model)
>>> gensim_model.train(common_texts, total_examples=gensim_model.corpus_count, epochs=1)[1]
29
"""
import copy

import numpy as np
from gensim.models import Word2Vec

#: Constructor arguments shared by gensim's ``Word2Vec`` and ``TorchWord2Vec``, copied over.
SHARED_PARAMS = (
    "vector_size", "alpha", "window", "min_count", "max_vocab_size", "sample", "seed", "workers", "min_alpha",
    "sg", "hs", "negative", "ns_exponent", "cbow_mean", "hashfxn", "epochs", "null_word", "sorted_vocab",
    "batch_words", "compute_loss", "comment", "max_final_vocab", "shrink_windows",
)

#: Training state copied over so that gensim continues where the model stopped.
SHARED_STATE = (
    "corpus_count", "corpus_total_words", "effective_min_count", "min_alpha_yet_reached", "train_count",
    "total_train_time", "running_training_loss",
)


def to_gensim(model):
    """Build a ``gensim.models.Word2Vec`` holding a copy of ``model``'s vocabulary and weights.

    The copy has ``wv`` (vectors, ``count``, ``sample_int`` and, with hs, the Huffman
    ``code``/``point``), ``syn1neg`` and the noise ``cum_table`` (negative sampling),
    ``syn1`` (hierarchical softmax) and the corpus counters set, so ``train()`` continues
    training it.

    Parameters
    ----------
    model : torchw2v.TorchWord2Vec

    Returns
    -------
    gensim.models.Word2Vec
    """
    gensim_model = Word2Vec(**{name: getattr(model, name) for name in SHARED_PARAMS})
    gensim_model.wv = copy.deepcopy(model.wv)
    gensim_model.wv.vectors_lockf = np.ones(1, dtype=np.float32)
    if model.negative:
        gensim_model.syn1neg = model.syn1neg.copy()
        gensim_model.make_cum_table()
    if model.hs:
        gensim_model.syn1 = model.syn1.copy()  # wv carries the Huffman codes and points
    for name in SHARED_STATE:
        setattr(gensim_model, name, getattr(model, name))
    return gensim_model
