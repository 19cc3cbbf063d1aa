"""Saving and loading models: versioned metadata and arrays, never a pickled object.

The file is a ``torch.save`` dictionary of plain values and tensors, read back with
``torch.load(weights_only=True)``; derived tables (the noise table, the Huffman tree) are
rebuilt on load. The loss curve of the latest training call is kept (for reports). Callables
(``trim_rule``, callbacks, a custom ``hashfxn``) are not stored.

>>> import os, tempfile
>>> from gensim.test.utils import common_texts
>>> from torchw2v import TorchWord2Vec
>>> model = TorchWord2Vec(common_texts, vector_size=8, min_count=1, epochs=1, device="cpu")
>>> path = os.path.join(tempfile.mkdtemp(), "model.tw2v")
>>> save(model, path)
>>> bool((load(TorchWord2Vec, path, device="cpu").wv.vectors == model.wv.vectors).all())
True
"""
import logging

import numpy as np
import torch
from gensim.models import KeyedVectors

from torchw2v.export import SHARED_PARAMS, SHARED_STATE
from torchw2v.trainer import LossCurve

logger = logging.getLogger(__name__)

FORMAT = "torchw2v"
FORMAT_VERSION = 1

#: Word attributes rebuilt on load rather than stored (the Huffman tree, with hs).
DERIVED_EXPANDOS = ("code", "point")

#: Torch-only settings stored with the shared gensim ones.
TORCH_PARAMS = ("batch_size", "progress_bar", "cpu_kernel", "shared_negatives", "optimizer", "optimizer_lr")


def save(model, fname):
    """Write ``model`` to ``fname``.

    Parameters
    ----------
    model : torchw2v.TorchWord2Vec
    fname : str or os.PathLike
    """
    params = {name: getattr(model, name) for name in SHARED_PARAMS + TORCH_PARAMS if name != "hashfxn"}
    params["dtype"] = str(model.dtype).replace("torch.", "")
    if model.hashfxn is not hash:
        logger.warning("the custom hashfxn is not saved (it has no effect on training)")
    checkpoint = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "params": params,
        "state": {name: getattr(model, name) for name in SHARED_STATE},
        "index_to_key": list(model.wv.index_to_key),
        "expandos": {name: torch.from_numpy(np.ascontiguousarray(values))
                     for name, values in model.wv.expandos.items() if name not in DERIVED_EXPANDOS},
        "vectors": torch.from_numpy(model.wv.vectors),
        "syn1neg": torch.from_numpy(model.syn1neg),
        "syn1": torch.from_numpy(model.syn1),
        "loss_curve": {"words": torch.from_numpy(model.loss_curve.words),
                       "loss": torch.from_numpy(model.loss_curve.loss),
                       "epoch_ends": torch.tensor(model.loss_curve.epoch_ends, dtype=torch.int64)},
    }
    torch.save(checkpoint, fname)
    logger.info("saved %s to %s", model, fname)


def load(cls, fname, device="auto"):
    """Read a model written by :func:`save` and place it on ``device``.

    Raises
    ------
    ValueError
        The file is not a torchw2v model, or of a newer format version.
    """
    checkpoint = torch.load(fname, map_location="cpu", weights_only=True)
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise ValueError(f"{fname!r} is not a torchw2v model file")
    if checkpoint["format_version"] > FORMAT_VERSION:
        raise ValueError(
            f"{fname!r} has format version {checkpoint['format_version']}; this torchw2v reads up to "
            f"{FORMAT_VERSION}: upgrade torchw2v")
    model = cls(device=device, **checkpoint["params"])
    wv = KeyedVectors(model.vector_size, count=0)
    wv.index_to_key = list(checkpoint["index_to_key"])
    wv.key_to_index = {word: i for i, word in enumerate(wv.index_to_key)}
    wv.vectors = checkpoint["vectors"].numpy().copy()
    wv.expandos = {name: values.numpy().copy() for name, values in checkpoint["expandos"].items()}
    wv.vectors_lockf = np.ones(1, dtype=np.float32)
    model.wv = wv
    model.syn1neg = checkpoint["syn1neg"].numpy().copy()
    model.syn1 = checkpoint["syn1"].numpy().copy()
    for name, value in checkpoint["state"].items():
        setattr(model, name, value)
    curve = checkpoint.get("loss_curve")  # absent from files of torchw2v 0.1.0
    if curve is not None:
        model.loss_curve = LossCurve(curve["words"].numpy().copy(), curve["loss"].numpy().copy(),
                                     curve["epoch_ends"].tolist())
    if len(wv):
        model._prepare_tables()
    return model
