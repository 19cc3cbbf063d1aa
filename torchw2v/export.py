"""Export to gensim: a ``gensim.models.Word2Vec`` that gensim can query and keep training, and
word vectors built from the input and output weights.

>>> from gensim.test.utils import common_texts
>>> from torchw2v import TorchWord2Vec
>>> model = TorchWord2Vec(common_texts, vector_size=8, min_count=1, epochs=1, device="cpu")
>>> gensim_model = to_gensim(model)
>>> gensim_model.train(common_texts, total_examples=gensim_model.corpus_count, epochs=1)[1]
29
"""
import copy

import numpy as np
from gensim.models import KeyedVectors, Word2Vec

from torchw2v.config import GENSIM_PARAMETERS

#: The word vectors :func:`keyed_vectors` builds: the input vectors (``wv``), the average of
#: input and output (``syn1neg``) vectors, or their concatenation.
VECTOR_KINDS = ("input", "average", "concat")

#: Constructor arguments shared by gensim's ``Word2Vec`` and ``TorchWord2Vec`` (the settings gensim's model
#: keeps), copied over.
SHARED_PARAMS = tuple(parameter.name for parameter in GENSIM_PARAMETERS if parameter.saved)

#: Training state copied over so that gensim continues where the model stopped.
SHARED_STATE = (
    "corpus_count", "corpus_total_words", "effective_min_count", "min_alpha_yet_reached", "train_count",
    "total_train_time", "running_training_loss",
)


def to_gensim(model):
    """Build a ``gensim.models.Word2Vec`` holding a copy of ``model``'s vocabulary and weights.

    The copy is an instance of gensim's own class, so it loads where torchw2v is not installed.
    It has ``wv`` (vectors, ``vectors_lockf``, ``count``, ``sample_int`` and, with hs, the Huffman
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
    gensim_model.wv = copy.deepcopy(model.wv)  # with vectors_lockf
    if model.negative:
        gensim_model.syn1neg = model.syn1neg.copy()
        gensim_model.make_cum_table()
    if model.hs:
        gensim_model.syn1 = model.syn1.copy()  # wv carries the Huffman codes and points
    for name in SHARED_STATE:
        setattr(gensim_model, name, getattr(model, name))
    return gensim_model


def keyed_vectors(model, kind="input"):
    """Word vectors from the input weights, or from the input and output weights together.

    Averaging a word's input vector with its negative-sampling output vector (or concatenating
    them, which doubles the size) mixes its two roles, centre and context; on some benchmarks
    this helps (Levy, Goldberg & Dagan 2015 found ``w + c`` helps similarity tasks).

    Parameters
    ----------
    model : torchw2v.TorchWord2Vec
    kind : {"input", "average", "concat"}, optional
        ``"input"``: a copy of ``model.wv``; ``"average"``: ``(wv.vectors + syn1neg) / 2``;
        ``"concat"``: ``[wv.vectors, syn1neg]``, of size ``2 * vector_size``.

    Returns
    -------
    gensim.models.KeyedVectors
        The same words, in the same order, with the same ``count`` attribute.

    Raises
    ------
    ValueError
        For an unknown ``kind``, or ``"average"``/``"concat"`` without negative sampling (a
        hierarchical-softmax model has no output vector per word).

    Examples
    --------
    >>> from gensim.test.utils import common_texts
    >>> from torchw2v import TorchWord2Vec
    >>> model = TorchWord2Vec(common_texts, vector_size=8, min_count=1, epochs=1, device="cpu")
    >>> keyed_vectors(model, "concat").vector_size
    16
    """
    if kind not in VECTOR_KINDS:
        raise ValueError(f"kind must be one of {VECTOR_KINDS}, got {kind!r}")
    if kind == "input":
        return copy.deepcopy(model.wv)
    if not model.negative or len(model.syn1neg) != len(model.wv):
        raise ValueError(f"kind={kind!r} needs the output vectors of negative sampling (negative > 0); "
                         "this model has none")
    if kind == "average":
        vectors = (model.wv.vectors + model.syn1neg) / 2
    else:
        vectors = np.hstack([model.wv.vectors, model.syn1neg])
    wv = KeyedVectors(vectors.shape[1], count=0, dtype=np.float32)
    wv.add_vectors(list(model.wv.index_to_key), vectors.astype(np.float32))
    wv.expandos["count"] = model.wv.expandos["count"].copy()
    return wv
