"""Saving and loading models: gensim's format, and a weights-only format that never runs code.

Two formats:

- **gensim's** (:meth:`TorchWord2Vec.save`, :meth:`TorchWord2Vec.load`): a pickle of the model,
  with large arrays in ``.npy`` files beside it, read by ``gensim.models.Word2Vec.load`` too.
  :func:`load` also reads models saved by gensim itself (gensim 4, and the older versions gensim 4
  reads) and turns them into ``TorchWord2Vec`` models that keep training on any device. **Loading
  a pickle runs any code it contains**: load only files you trust.
- **weights-only** (:meth:`TorchWord2Vec.save_weights_only`, :meth:`TorchWord2Vec.load_weights_only`):
  a ``torch.save`` dictionary of plain values and tensors, read back with
  ``torch.load(weights_only=True)``, which never executes code from the file. Each setting is
  checked by its entry in :data:`torchw2v.config.PARAMETERS` and only known settings are applied;
  callables (``trim_rule``, callbacks, a custom ``hashfxn``) are not stored. Format version 1
  (torchw2v 0.1) and 2 (adds ``vectors_lockf``) are read.

Both writers write a temporary file in the target's folder and rename it over the target when
complete, so a failed save keeps the previous file. Both loaders check every array against the
vocabulary and ``vector_size`` and rebuild the derived tables (noise table, Huffman tree) from the
counts, so a damaged file raises :class:`ModelFileError` naming what is wrong and the training
kernels never see inconsistent arrays.

>>> import os, tempfile
>>> from gensim.test.utils import common_texts
>>> from torchw2v import TorchWord2Vec
>>> model = TorchWord2Vec(common_texts, vector_size=8, min_count=1, epochs=1, device="cpu")
>>> path = os.path.join(tempfile.mkdtemp(), "model.tw2v")
>>> save_weights_only(model, path)
>>> bool((load_weights_only(TorchWord2Vec, path, device="cpu").wv.vectors == model.wv.vectors).all())
True
"""
import glob
import logging
import os
import tempfile

import numpy as np
from gensim.models import KeyedVectors, Word2Vec

from torchw2v.config import (
    PARAMETERS, default_batch_size, integer, number, resolve_cpu_kernel, resolve_device,
    resolve_dtype,
)
from torchw2v.export import SHARED_STATE
from torchw2v.trainer import DIVERGED_MAGNITUDE, LossCurve

logger = logging.getLogger(__name__)

FORMAT = "torchw2v"
FORMAT_VERSION = 2

#: Settings stored in the weights-only format: every saved keyword but the callables.
WEIGHTS_ONLY_SETTINGS = tuple(name for name, parameter in PARAMETERS.items()
                              if parameter.saved and name != "hashfxn")

#: Checks of the training state kept with the settings (gensim's attributes).
STATE_CHECKS = {
    "corpus_count": integer(minimum=0, optional=True), "corpus_total_words": integer(minimum=0, optional=True),
    "effective_min_count": integer(minimum=0), "min_alpha_yet_reached": number(minimum=0),
    "train_count": integer(minimum=0), "total_train_time": number(minimum=0),
    "running_training_loss": number(minimum=0),
}

#: Errors about reaching the file (not its content), raised as they are.
_ACCESS_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError)

#: The first bytes of a zip archive: ``torch.save``'s format (the weights-only files).
_ZIP_MAGIC = b"PK\x03\x04"


class ModelFileError(ValueError):
    """A model file is damaged, crafted or not a word2vec model; the message names the file and the problem."""


# ---------------------------------------------------------------------------------------------- writing
def save_atomically(model, fname_or_handle, write, **kwargs):
    """Call ``write(path, **kwargs)`` (gensim's ``save``) on a temporary name in ``fname``'s folder and
    rename the result (and the ``.npy`` files gensim writes beside it) into place.

    An open file handle is written directly (gensim's behaviour).
    """
    if not isinstance(fname_or_handle, (str, os.PathLike)):
        write(fname_or_handle, **kwargs)
        return
    fname = os.fspath(fname_or_handle)
    folder, base = os.path.split(os.path.abspath(fname))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{base}.", suffix=".tmp" + _compression(base))
    os.close(handle)
    try:
        os.chmod(temporary, _file_mode(fname))  # mkstemp's file is private; the model file gets the usual mode
        write(temporary, **kwargs)
        for part in glob.glob(glob.escape(temporary) + ".*"):  # gensim's separately stored arrays
            os.replace(part, fname + part[len(temporary):])
        os.replace(temporary, fname)
    except BaseException:
        for part in [temporary] + glob.glob(glob.escape(temporary) + ".*"):
            if os.path.exists(part):
                os.remove(part)
        raise
    logger.info("saved %s to %s", model, fname)


def _file_mode(fname):
    """The permissions a new file gets here (the umask's), or those of the file being replaced."""
    if os.path.exists(fname):
        return os.stat(fname).st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _compression(name):
    """The compression suffix gensim's ``save`` chooses by (``.gz``/``.bz2``), kept on temporary names."""
    return next((suffix for suffix in (".gz", ".bz2") if name.endswith(suffix)), "")


def save_weights_only(model, fname):
    """Write ``model`` in the weights-only format to ``fname``, atomically.

    Parameters
    ----------
    model : torchw2v.TorchWord2Vec
    fname : str or os.PathLike

    Raises
    ------
    TypeError, ValueError
        A setting that cannot be stored as a plain value (named), before anything is written.
    """
    import torch

    if model.hashfxn is not hash:
        logger.warning("the custom hashfxn is not saved (it has no effect on training)")
    params = {name: PARAMETERS[name].checked(getattr(model, name)) for name in WEIGHTS_ONLY_SETTINGS}
    state = {name: STATE_CHECKS[name](name, getattr(model, name)) for name in SHARED_STATE}
    checkpoint = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "params": params,  # plain Python values, each checked: the file loads with weights_only
        "state": state,
        "index_to_key": list(model.wv.index_to_key),
        "expandos": {name: torch.from_numpy(np.ascontiguousarray(values))
                     for name, values in model.wv.expandos.items() if values.dtype != object},
        "vectors": torch.from_numpy(np.ascontiguousarray(model.wv.vectors)),
        "vectors_lockf": torch.from_numpy(model._lock_factors()),
        "syn1neg": torch.from_numpy(np.ascontiguousarray(model.syn1neg)),
        "syn1": torch.from_numpy(np.ascontiguousarray(model.syn1)),
        "loss_curve": {"words": torch.from_numpy(model.loss_curve.words),
                       "loss": torch.from_numpy(model.loss_curve.loss),
                       "epoch_ends": torch.tensor(model.loss_curve.epoch_ends, dtype=torch.int64)},
    }
    save_atomically(model, fname, lambda path: torch.save(checkpoint, path))


# ---------------------------------------------------------------------------------------------- reading
def is_weights_only_file(fname):
    """Whether ``fname`` is a zip archive, the weights-only format's container (read without unpickling)."""
    if not isinstance(fname, (str, os.PathLike)):
        return False
    with open(fname, "rb") as handle:
        return handle.read(4) == _ZIP_MAGIC


def load(cls, fname, mmap=None, device=None, rethrow=False):
    """Read a model in either format (see the module docstring): a weights-only file is read without
    unpickling; anything else by gensim's loader, **which runs code from the file**.

    Returns
    -------
    cls
        A model of ``cls`` (a gensim ``Word2Vec`` in the file is converted), checked, on ``device``.
    """
    if isinstance(fname, os.PathLike):
        fname = os.fspath(fname)  # gensim's loader takes strings
    if is_weights_only_file(fname):
        return load_weights_only(cls, fname, device=device)
    try:
        model = Word2Vec.load.__func__(cls, fname, mmap=mmap, rethrow=rethrow)  # gensim's loader
    except _ACCESS_ERRORS + (MemoryError, ModelFileError):
        raise
    except Exception as error:  # a damaged pickle can raise almost anything
        raise ModelFileError(f"{os.fspath(fname)!r} is not a readable word2vec model: "
                             f"{type(error).__name__}: {error}") from error
    if not isinstance(model, cls):
        if type(model) is not Word2Vec:
            raise ModelFileError(f"{os.fspath(fname)!r} holds a {type(model).__name__}, not a Word2Vec model")
        model = adopt(cls, model, fname)
    if device is not None:
        place(model, device)
    return model


def adopt(cls, gensim_model, fname="<model>"):
    """A ``cls`` model holding a gensim ``Word2Vec``'s state (vocabulary, weights, settings), with the
    torch-only settings at their defaults, checked and ready to train.

    >>> from gensim.test.utils import common_texts
    >>> from torchw2v import TorchWord2Vec
    >>> adopted = adopt(TorchWord2Vec, Word2Vec(common_texts, min_count=1, epochs=1))
    >>> type(adopted).__name__, adopted.cpu_kernel in ("native", "torch")
    ('TorchWord2Vec', True)
    """
    model = cls.__new__(cls)
    state = dict(gensim_model.__dict__)
    loss = state.pop("running_training_loss", 0.0)
    model.__dict__.update(state)
    model.running_training_loss = loss
    restore_loaded(model, fname)
    return model


def restore_loaded(model, fname, device=None):
    """Complete a model just unpickled: defaults for what older files lack, every setting checked and
    normalised, the arrays checked, the derived tables rebuilt and the device chosen.

    Raises
    ------
    ModelFileError
        A setting or an array is inconsistent (the message names it and the file).
    """
    for name, parameter in PARAMETERS.items():  # settings newer than the file: their defaults
        if parameter.saved and name not in model.__dict__:
            model.__dict__[name] = parameter.default
    vector_size = getattr(model, "vector_size", None)
    for name in ("syn1neg", "syn1"):
        if not isinstance(model.__dict__.get(name), np.ndarray) and isinstance(vector_size, int):
            model.__dict__[name] = np.zeros((0, vector_size), dtype=np.float32)
    model.__dict__.setdefault("loss_curve", LossCurve())
    model.__dict__.setdefault("huffman", None)
    model.__dict__.setdefault("cum_table", None)
    model.dist_context = None
    try:
        for name, parameter in PARAMETERS.items():
            if parameter.saved:
                setattr(model, name, parameter.checked(getattr(model, name)))
        for name, check in STATE_CHECKS.items():
            setattr(model, name, check(name, getattr(model, name, 0)))
        check_model_state(model)
    except (TypeError, ValueError, AttributeError) as error:
        raise ModelFileError(f"{os.fspath(fname)!r} is not a consistent word2vec model: {error}") from error
    place(model, model.device if device is None else device, fallback=device is None)
    if len(model.wv):
        model._prepare_tables()
    return model


def place(model, device, fallback=False):
    """Set ``model``'s training device (and the dtype, CPU kernel and batch size that follow from it).

    With ``fallback``, a device not available here (a model saved on a GPU machine) gives ``"auto"``.
    """
    try:
        resolved = resolve_device(device)
    except ValueError:
        if not fallback:
            raise
        logger.warning("the model's device %r is not available here: using device='auto'", device)
        resolved = resolve_device("auto")
    model.device = resolved
    model.dtype = resolve_dtype(model.dtype, resolved)
    kernel = "torch" if model.optimizer == "adam" else model.cpu_kernel
    try:
        model.cpu_kernel = resolve_cpu_kernel(kernel, resolved, model.dtype)
    except ValueError:  # "native" saved where the kernels are not built
        model.cpu_kernel = resolve_cpu_kernel("auto", resolved, model.dtype)
    if model.batch_size is None:
        model.batch_size = default_batch_size(resolved, model.cpu_kernel, model.sg, model.hs)


def load_weights_only(cls, fname, device=None):
    """Read a model written by :func:`save_weights_only` (format version 1 or 2), without running code.

    Raises
    ------
    ModelFileError
        The file is not in this format, of a newer version, damaged, or inconsistent: the message
        names the file and what is wrong.
    """
    import torch

    name = os.fspath(fname)
    try:
        checkpoint = torch.load(name, map_location="cpu", weights_only=True)
    except _ACCESS_ERRORS:
        raise
    except Exception as error:
        raise ModelFileError(f"{name!r} is not a torchw2v weights-only model file: {type(error).__name__}: "
                             f"{str(error).splitlines()[0] if str(error) else ''}") from error
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise ModelFileError(f"{name!r} is not a torchw2v model file")
    version = checkpoint.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{name!r} has no valid format_version")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{name!r} has format version {version}; this torchw2v reads up to "
                             f"{FORMAT_VERSION}: upgrade torchw2v")
    try:
        return _model_from_checkpoint(cls, checkpoint, device)
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as error:
        raise ModelFileError(f"{name!r} is not a consistent torchw2v model: {type(error).__name__}: {error}") \
            from error


def _model_from_checkpoint(cls, checkpoint, device):
    """Build the model from a checkpoint's plain values: only known settings, each checked."""
    params = _mapping(checkpoint, "params")
    unknown = sorted(set(params) - set(WEIGHTS_ONLY_SETTINGS) - {"device"})
    if unknown:
        raise ValueError(f"unknown settings {unknown}")
    saved_device, cpu_kernel = params.get("device", "auto"), params.get("cpu_kernel", "auto")
    params = {key: value for key, value in params.items() if key not in ("device", "cpu_kernel")}
    if params.get("optimizer") != "adam":
        params["cpu_kernel"] = "torch"  # the saved kernel is set by place() below, where it is available
    model = cls(device="cpu", **params)  # no corpus: the constructor never trains, nor reads a file
    model.cpu_kernel = cpu_kernel
    place(model, saved_device if device is None else device, fallback=device is None)
    state = _mapping(checkpoint, "state")
    for name, value in state.items():
        if name not in STATE_CHECKS:
            raise ValueError(f"unknown state {name!r}")
        setattr(model, name, STATE_CHECKS[name](name, value))
    index_to_key = checkpoint["index_to_key"]
    if not isinstance(index_to_key, list) or not all(isinstance(word, str) for word in index_to_key):
        raise TypeError("index_to_key must be a list of strings")
    wv = KeyedVectors(model.vector_size, count=0)
    wv.index_to_key = list(index_to_key)
    wv.key_to_index = {word: i for i, word in enumerate(wv.index_to_key)}
    wv.vectors = _array(checkpoint, "vectors")
    wv.expandos = {key: _tensor_array(value, f"expandos[{key!r}]")
                   for key, value in _mapping(checkpoint, "expandos").items() if key not in ("code", "point")}
    wv.vectors_lockf = (_array(checkpoint, "vectors_lockf") if "vectors_lockf" in checkpoint
                        else np.ones(1, dtype=np.float32))
    model.wv = wv
    model.syn1neg = _array(checkpoint, "syn1neg")
    model.syn1 = _array(checkpoint, "syn1")
    curve = checkpoint.get("loss_curve")  # absent from files of torchw2v 0.1.0
    if curve is not None:
        curve = _mapping(checkpoint, "loss_curve")
        model.loss_curve = LossCurve(_tensor_array(curve["words"], "loss_curve"),
                                     _tensor_array(curve["loss"], "loss_curve"),
                                     [int(words) for words in _tensor_array(curve["epoch_ends"], "loss_curve")])
    check_model_state(model)
    if len(wv):
        model._prepare_tables()
    return model


def _mapping(checkpoint, key):
    value = checkpoint[key]
    if not isinstance(value, dict):
        raise TypeError(f"{key} must be a dictionary, got {type(value).__name__}")
    return value


def _array(checkpoint, key):
    return _tensor_array(checkpoint[key], key)


def _tensor_array(value, key):
    """A tensor from the file as a numpy array of its own (float weights as float32)."""
    import torch

    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{key} must be a tensor, got {type(value).__name__}")
    array = value.numpy().copy()
    return array.astype(np.float32) if array.dtype == np.float64 and key != "loss_curve" else array


# ---------------------------------------------------------------------------------------------- checks
def check_model_state(model, context="the model", for_training=False):
    """Raise ValueError naming the first array inconsistent with the vocabulary or ``vector_size``.

    Checked: ``wv.vectors`` (V, vector_size) float32 (and writable, ``for_training``), the per-word
    attributes (V values; counts non-negative integers), ``syn1neg`` (with ``negative``) and
    ``syn1`` (with ``hs``) of shape (V, vector_size) float32 with finite values no larger than
    trained weights reach (:data:`torchw2v.trainer.DIVERGED_MAGNITUDE`), and ``vectors_lockf``
    (finite floats).

    >>> from gensim.test.utils import common_texts
    >>> from torchw2v import TorchWord2Vec
    >>> model = TorchWord2Vec(common_texts, vector_size=8, min_count=1, epochs=1, device="cpu")
    >>> model.syn1neg = model.syn1neg[:3]
    >>> check_model_state(model)
    Traceback (most recent call last):
    ...
    ValueError: the model: syn1neg has shape (3, 8), expected (12, 8) float32 (negative=5)
    """
    wv = model.wv
    if not isinstance(wv, KeyedVectors):
        raise ValueError(f"{context}: wv is a {type(wv).__name__}, not a gensim KeyedVectors")
    words = len(wv.index_to_key)
    if len(wv.key_to_index) != words:
        raise ValueError(f"{context}: key_to_index has {len(wv.key_to_index)} words, index_to_key {words}")
    if not for_training and any(wv.key_to_index.get(word, -1) != i for i, word in enumerate(wv.index_to_key)):
        raise ValueError(f"{context}: key_to_index does not match index_to_key")
    expected = (words, model.vector_size)
    if model.layer1_size != model.vector_size or wv.vector_size != model.vector_size:
        raise ValueError(f"{context}: layer1_size={model.layer1_size} and wv.vector_size={wv.vector_size} "
                         f"must equal vector_size={model.vector_size}")
    matrices = [("wv.vectors", wv.vectors, "")]
    if model.negative:
        matrices.append(("syn1neg", model.syn1neg, f" (negative={model.negative})"))
    if model.hs:
        matrices.append(("syn1", model.syn1, " (hs=1)"))
    for name, array, why in matrices:
        _check_matrix(context, name, array, expected, why)
        largest = max(float(array.max()), -float(array.min())) if array.size else 0.0
        if not largest <= DIVERGED_MAGNITUDE:  # NaN fails too
            raise ValueError(f"{context}: {name} holds NaN, infinite or huge values (|w| up to {largest:g}); "
                             f"trained word2vec weights stay far below {DIVERGED_MAGNITUDE:g}")
        if for_training and not array.flags.writeable:
            raise ValueError(f"{context}: {name} is read-only (loaded with mmap='r'?): load the model without "
                             "mmap, or with mmap='c', to train it")
    for name, values in wv.expandos.items():
        if not isinstance(values, np.ndarray) or len(values) != words:
            raise ValueError(f"{context}: the per-word attribute {name!r} has {len(values)} values for {words} words")
    if words:
        counts = wv.expandos.get("count")
        if counts is None or counts.dtype.kind not in "iu" or (counts < 0).any():
            raise ValueError(f"{context}: the word counts are missing, not integers or negative")
        if model.negative and not counts.sum() > 0:
            raise ValueError(f"{context}: the word counts sum to 0, so no noise distribution can be built")
        sample_ints = wv.expandos.get("sample_int")
        if sample_ints is None or sample_ints.dtype != np.uint32:
            raise ValueError(f"{context}: the subsampling thresholds (sample_int, uint32) are missing")
    lockf = getattr(wv, "vectors_lockf", np.ones(1))
    if (not isinstance(lockf, np.ndarray) or lockf.ndim != 1 or not len(lockf) or lockf.dtype.kind != "f"
            or not np.isfinite(lockf).all()):
        raise ValueError(f"{context}: wv.vectors_lockf must be a 1-D array of finite floats (1 or one per word)")


def _check_matrix(context, name, array, shape, why=""):
    if not isinstance(array, np.ndarray) or array.shape != shape or array.dtype != np.float32:
        found = array.shape if isinstance(array, np.ndarray) else type(array).__name__
        raise ValueError(f"{context}: {name} has shape {found}, expected {shape} float32{why}")
    if not array.flags.c_contiguous:
        raise ValueError(f"{context}: {name} must be C-contiguous")
