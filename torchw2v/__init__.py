"""torchw2v: word2vec training on PyTorch, a drop-in for gensim's ``Word2Vec``.

``TorchWord2Vec`` is imported on first use, so that the helper modules (evaluation,
comparison) load without the trainer. The trainer itself imports torch only for the torch
paths: the native CPU kernels train without it (see :mod:`torchw2v.word2vec`).

>>> from gensim.test.utils import common_texts
>>> from torchw2v import TorchWord2Vec
>>> model = TorchWord2Vec(common_texts, vector_size=16, min_count=1, epochs=2, device="cpu")
>>> model.wv.vectors.shape
(12, 16)
"""
__version__ = "0.1.0"
__all__ = ["TorchWord2Vec", "__version__"]


def __getattr__(name):
    if name == "TorchWord2Vec":
        from torchw2v.word2vec import TorchWord2Vec

        return TorchWord2Vec
    raise AttributeError(f"module 'torchw2v' has no attribute {name!r}")
