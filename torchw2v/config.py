"""Settings: the parameter spec, argument checks, device choice and the frozen training configuration.

Every keyword of ``TorchWord2Vec`` is declared once, as a :class:`Parameter` (name, default, check,
help): gensim's in :data:`GENSIM_PARAMETERS`, the torch-only ones in :data:`TORCH_PARAMETERS`. The
constructor's checks (:func:`check_settings`), the settings saved with a model, the export to gensim
and the list of what gensim does not take (:data:`TORCH_ONLY_NAMES`) derive from these tables; a
command line can derive its options from them too. Each check returns the value as a plain Python
type (numpy scalars and paths normalised) or raises an error naming the argument.

Nothing here imports torch unless a device argument needs it: on a machine without a GPU,
``device="auto"`` resolves to ``"cpu"`` from the operating system's device files alone, so
training with the native CPU kernels never loads torch (about 200 MiB of resident memory).

>>> resolve_device("cpu")
'cpu'
>>> TrainingConfig(sg=1, window=0)
Traceback (most recent call last):
...
ValueError: window must be a positive integer, got 0
"""
import logging
import math
import os
import platform
import re
import sys
from dataclasses import dataclass, field

import numpy as np

logger = logging.getLogger(__name__)

#: Center slots per update when ``batch_size`` is not given: by device type, and for the native
#: CPU kernels (whose sequential updates need no small batches for stability). The device path
#: (CUDA, MPS, torch ops on CPU) runs the same code everywhere: updates of 2048 slots with the repeat
#: cap matched gensim's quality (benchmarks/RESULTS.md); on CPU, updates of 256 slots keep their
#: temporaries in cache (skip-gram 1.8x the words/s of 2048 on one thread) at the same quality.
DEFAULT_BATCH_SIZE = {"cpu": 256, "cuda": 2048, "mps": 2048, "native": 2048}

#: The device path's default ``batch_size`` for skip-gram with hierarchical softmax, on every device.
#: Its context rows' updates all point the same way where a word repeats densely (a list of species:
#: "agave ... var ... engelm"): every repeat follows the same Huffman path. Measured on text8's first
#: 2.1M words, 5 epochs, repeat cap 32 (gensim: WordSim-353 0.619, analogies 11.25%): 32 slots gave
#: 0.610 / 10.77%, 64 slots 0.609 / 10.86%; at 128 and 256 slots such rows ran away (norms of 100-850,
#: gensim's largest is 6.4) and scored 0.534 / 7.7% and 0.474 / 9.0%; 2048 slots 0.567 / 10.76%. With
#: the Newton bound on repeated rows (``RowUpdates.newton_bound``) none runs away, but larger updates
#: still learn less: 64 slots 0.611 / 10.86%, 128 0.587 / 11.02%, 256 0.584 / 11.06%, 2048 0.564 / 10.91%.
SKIPGRAM_HS_BATCH_SIZE = 64

#: The device path's default ``batch_size`` for CBOW with hierarchical softmax, on every device.
#: Measured on the enwiki stand-in (16.9M words), 5 epochs, caps 32 and 128 for the inner nodes
#: (gensim in the same runs: WordSim-353 0.599, analogies 27.0%): 2048 slots gave 0.595 / 24.6%,
#: 1024 0.591 / 25.4%, 512 0.601 / 25.9%, 256 0.599 / 26.4%; each halving gained about half a point of
#: analogies, and 256 is the largest within a point of gensim's. With the Triton kernels' row sums
#: (:mod:`torchw2v.kernels.triton_row_sums`) its 64 updates per span cost little: 43M raw words/s
#: estimated on an H100 against 47M at 2048 (``benchmarks/device_model.py``).
CBOW_HS_BATCH_SIZE = 256

#: The weights' precisions (``dtype``), by name; float32 is the default.
DTYPES = ("float32", "float64")

#: How the weights are updated (``optimizer``), and Adam's default initial rate (``optimizer_lr``,
#: that of the reference SGNS experiment on text8).
OPTIMIZERS = ("sgd", "adam")
DEFAULT_ADAM_LR = 0.002

#: Default seconds a collective call may wait for the other ranks (``dist_timeout``).
DEFAULT_DIST_TIMEOUT = 600.0

#: Default raw words of its own shard each rank trains between synchronisations (``sync_words``):
#: with 2 ranks on 2M words of Wikipedia (skip-gram, 3 epochs), 100k gave a single process's
#: quality (WordSim-353 0.307 against 0.303), 200k a little less (0.292) and 500k clearly less (0.237).
DEFAULT_SYNC_WORDS = 100_000

#: Files whose presence means a GPU driver is installed: NVIDIA (Linux, WSL2) and AMD ROCm.
GPU_DRIVER_FILES = ("/dev/nvidiactl", "/proc/driver/nvidia/version", "/dev/dxg", "/dev/kfd")

_DEVICE_NAME = re.compile(r"(cpu|cuda|mps)(:\d+)?")


def device_type(device):
    """The type part of a device name: ``"cuda"`` for ``"cuda:1"``.

    >>> device_type("cuda:1"), device_type("cpu")
    ('cuda', 'cpu')
    """
    return device.split(":")[0]


def default_batch_size(device, cpu_kernel, sg=0, hs=0):
    """The default ``batch_size`` for a device, CPU kernel and objective (``sg``, ``hs``).

    >>> default_batch_size("cpu", "native"), default_batch_size("cpu", "torch"), default_batch_size("cuda:0", "native")
    (2048, 256, 2048)
    >>> default_batch_size("cuda:0", "native", sg=1, hs=1), default_batch_size("cpu", "native", sg=1, hs=1)
    (64, 2048)
    >>> default_batch_size("cuda", "native", sg=0, hs=1)
    256
    """
    kind = device_type(device)
    if kind == "cpu" and cpu_kernel == "native":
        return DEFAULT_BATCH_SIZE["native"]
    if hs:
        return SKIPGRAM_HS_BATCH_SIZE if sg else CBOW_HS_BATCH_SIZE
    return DEFAULT_BATCH_SIZE.get(kind, DEFAULT_BATCH_SIZE["cpu"])


#: The device path's steps on CUDA (``cuda_kernel``).
CUDA_KERNELS = ("auto", "triton", "torch")


def resolve_cuda_kernel(cuda_kernel, device, dtype, optimizer):
    """``"triton"`` or ``"torch"``: how the device path trains (see ``TorchWord2Vec``'s ``cuda_kernel``).

    The fused Triton kernel runs on CUDA devices (or on CPU tensors under Triton's interpreter,
    ``TRITON_INTERPRET=1``), in float32, with gensim's SGD; ``"auto"`` takes it where it can run
    and says why not otherwise, ``"triton"`` raises instead. With hierarchical softmax (``hs``)
    the kernels apply the torch step's capped sums (:mod:`torchw2v.kernels.triton_row_sums`):
    the Hogwild kernel's uncapped sums diverged there (``benchmarks/RESULTS.md``).

    >>> resolve_cuda_kernel("auto", "cpu", "float32", "sgd")
    'torch'
    >>> resolve_cuda_kernel("triton", "cuda", "float32", "adam")
    Traceback (most recent call last):
    ...
    ValueError: cuda_kernel='triton' cannot run here: the fused kernel applies SGD, not optimizer='adam'
    """
    from torchw2v.kernels import triton_available

    if cuda_kernel not in CUDA_KERNELS:
        raise ValueError(f"cuda_kernel must be one of {CUDA_KERNELS}, got {cuda_kernel!r}")
    if cuda_kernel == "torch":
        return "torch"
    interpreted = os.environ.get("TRITON_INTERPRET") == "1"
    if device_type(device) != "cuda" and not (cuda_kernel == "triton" and interpreted):
        reason = f"the fused kernel runs on CUDA devices, not {device}"
    elif optimizer != "sgd":
        reason = f"the fused kernel applies SGD, not optimizer={optimizer!r}"
    elif dtype != "float32":
        reason = f"the fused kernel trains float32 weights, not {dtype}"
    elif not triton_available():
        reason = "triton is not installed"
    else:
        return "triton"
    if cuda_kernel == "triton":
        raise ValueError(f"cuda_kernel='triton' cannot run here: {reason}")
    if device_type(device) == "cuda":
        logger.info("the device path runs torch ops, not the fused Triton kernel: %s", reason)
    return "torch"


def resolve_cpu_kernel(cpu_kernel, device, dtype):
    """``"native"`` or ``"torch"``: how CPU training runs (see ``TorchWord2Vec``'s ``cpu_kernel``).

    >>> resolve_cpu_kernel("torch", "cpu", "float32")
    'torch'
    """
    from torchw2v import native

    if cpu_kernel not in ("auto", "native", "torch"):
        raise ValueError(f"cpu_kernel must be 'auto', 'native' or 'torch', got {cpu_kernel!r}")
    if cpu_kernel == "native":
        if not native.available():
            raise ValueError("cpu_kernel='native' but the native kernels are not built: reinstall torchw2v "
                             "where a C compiler is available, or use cpu_kernel='torch'")
        if dtype != "float32":
            raise ValueError(f"cpu_kernel='native' trains float32 weights only, got dtype={dtype}")
        return "native"
    if cpu_kernel == "auto" and device_type(device) == "cpu" and dtype == "float32" and native.available():
        return "native"
    return "torch"


def gpu_driver_present():
    """Whether a GPU could be here: an NVIDIA or ROCm driver, or Apple silicon (MPS).

    Only looks at the operating system, so that ``device="auto"`` on a machine without one
    needs no torch import (when torch is already imported, :func:`resolve_device` asks it).
    """
    if sys.platform == "darwin":
        return platform.machine() == "arm64"
    return any(os.path.exists(path) for path in GPU_DRIVER_FILES)


def resolve_device(device):
    """The training device's name for a ``device`` argument: ``"auto"`` picks cuda, then mps, then cpu.

    Parameters
    ----------
    device : str or torch.device or None

    Returns
    -------
    str
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``; torch takes it wherever it takes a device.

    Raises
    ------
    ValueError
        The name is not a torch device, or that device is not available here.

    Examples
    --------
    >>> resolve_device("tpu9")
    Traceback (most recent call last):
    ...
    ValueError: device='tpu9' is not a torch device (use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps')
    """
    if device is None or device == "auto":
        if "torch" not in sys.modules and not gpu_driver_present():
            return "cpu"
        import torch

        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    name = str(device)
    if not _DEVICE_NAME.fullmatch(name):
        import torch

        try:
            torch.device(device)
        except (RuntimeError, TypeError):
            raise ValueError(
                f"device={device!r} is not a torch device (use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps')"
            ) from None
        raise ValueError(f"device={device!r} is not supported (use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps')")
    kind = device_type(name)
    if kind == "cpu":
        return name
    import torch

    if kind == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} was asked for but CUDA is not available on this machine")
        index = int(name.split(":")[1]) if ":" in name else None
        if index is not None and index >= torch.cuda.device_count():
            raise ValueError(f"device={device!r}: only {torch.cuda.device_count()} CUDA device(s) are present")
    elif getattr(torch.backends, "mps", None) is None or not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} was asked for but MPS is not available on this machine")
    return name


def resolve_dtype(dtype, device):
    """The weights' dtype name: ``"float32"`` by default; ``"float64"`` allowed (for checks), on CPU and CUDA.

    >>> resolve_dtype("float64", "cpu")
    'float64'
    """
    name = dtype_name("dtype", dtype)
    if name == "float64" and device_type(device) == "mps":
        raise ValueError("dtype=torch.float64 is not available on MPS")
    return name


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _non_negative_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


# ---------------------------------------------------------------- checks of single settings
# Each takes the argument's name and value and returns the value as a plain Python type (numpy
# scalars and paths are normalised), or raises SettingTypeError (wrong type) or ValueError (bad
# value) naming the argument.

class SettingTypeError(TypeError, ValueError):
    """A setting of the wrong type: a TypeError, and a ValueError as for any other invalid setting."""


def integer(minimum=None, optional=False):
    """A check for an integer ``>= minimum`` (numpy integers accepted; ``None`` too if ``optional``).

    >>> integer(minimum=1)("window", np.int64(3)), integer(minimum=1, optional=True)("max_vocab_size", None)
    (3, None)
    >>> integer(minimum=1)("window", "5")
    Traceback (most recent call last):
    ...
    torchw2v.config.SettingTypeError: window must be an integer, got '5' (str)
    """
    def check(name, value):
        if value is None and optional:
            return None
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise SettingTypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
        if minimum is not None and value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
        return int(value)
    return check


def number(minimum=None, above=None, optional=False):
    """A check for a finite number ``>= minimum`` (or ``> above``), returned as a float.

    >>> number(above=0)("alpha", np.float32(0.5))
    0.5
    >>> number(above=0)("alpha", float("inf"))
    Traceback (most recent call last):
    ...
    ValueError: alpha must be a finite number > 0, got inf
    """
    def check(name, value):
        if value is None and optional:
            return None
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise SettingTypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
        value = float(value)
        bound = f" >= {minimum}" if minimum is not None else f" > {above}" if above is not None else ""
        if (not math.isfinite(value) or (minimum is not None and value < minimum)
                or (above is not None and not value > above)):
            raise ValueError(f"{name} must be a finite number{bound}, got {value!r}")
        return value
    return check


def binary(name, value):
    """0 or 1 (bools and numpy integers accepted), as an int: gensim's ``sg``, ``hs``, ``cbow_mean``...

    >>> binary("sg", True), binary("hs", np.int64(0))
    (1, 0)
    """
    if not isinstance(value, (bool, int, np.bool_, np.integer)) or value not in (0, 1):
        raise ValueError(f"{name} must be 0 or 1, got {value!r}")
    return int(value)


def boolean(name, value):
    """A flag: a bool, or 0/1, returned as a bool.

    >>> boolean("compute_loss", 1)
    True
    """
    return bool(binary(name, value))


def choice(options):
    """A check for one of ``options`` (strings).

    >>> choice(("sgd", "adam"))("optimizer", "adagrad")
    Traceback (most recent call last):
    ...
    ValueError: optimizer must be one of ('sgd', 'adam'), got 'adagrad'
    """
    def check(name, value):
        if not isinstance(value, str) or value not in options:
            raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}")
        return str(value)
    return check


def function(optional=False):
    """A check for a callable (or ``None`` if ``optional``)."""
    def check(name, value):
        if value is None and optional:
            return None
        if not callable(value):
            raise SettingTypeError(f"{name} must be a function, got {value!r} ({type(value).__name__})")
        return value
    return check


def text(name, value):
    """``None`` or a string; a path (``os.PathLike``) becomes its string.

    >>> import pathlib
    >>> text("comment", pathlib.Path("a"))
    'a'
    """
    if value is None or isinstance(value, str):
        return None if value is None else str(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise SettingTypeError(f"{name} must be a string or None, got {value!r} ({type(value).__name__})")


def device_name(name, value):
    """A device's name as given (``"auto"`` for None): a string or a ``torch.device``; availability is
    checked by :func:`resolve_device`.

    >>> device_name("device", None)
    'auto'
    """
    if value is None:
        return "auto"
    if isinstance(value, str) or type(value).__name__ == "device":
        return str(value)
    raise SettingTypeError(f"{name} must be a device name such as 'cpu' or 'cuda:0', got {value!r}")


def dtype_name(name, value):
    """The weights' dtype name (None: ``"float32"``): ``"float32"``/``"float64"`` or the torch dtypes.

    >>> dtype_name("dtype", "torch.float64")
    'float64'
    """
    if value is None:
        return "float32"
    dtype = str(value).replace("torch.", "")
    if dtype not in DTYPES:
        raise ValueError(
            f"{name}={value!r} is not supported: use torch.float32 (default) or torch.float64; half precision "
            "loses the small sparse updates word2vec relies on"
        )
    return dtype


def callbacks_list(name, value):
    """The callbacks as a tuple of objects with gensim's callback methods.

    >>> callbacks_list("callbacks", [1])
    Traceback (most recent call last):
    ...
    torchw2v.config.SettingTypeError: callbacks[0] must be a gensim CallbackAny2Vec, got 1 (int)
    """
    if value is None:
        return ()
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise SettingTypeError(f"{name} must be a list of gensim CallbackAny2Vec objects, got {value!r}")
    value = tuple(value)
    for i, callback in enumerate(value):
        if not all(callable(getattr(callback, method, None)) for method in CALLBACK_METHODS):
            raise SettingTypeError(f"{name}[{i}] must be a gensim CallbackAny2Vec, got {callback!r} "
                                   f"({type(callback).__name__})")
    return value


#: The methods training calls on a callback (gensim's ``CallbackAny2Vec``).
CALLBACK_METHODS = ("on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end")


@dataclass(frozen=True)
class Parameter:
    """One keyword argument of ``TorchWord2Vec``: its name, default, check and help text.

    Attributes
    ----------
    name : str
    default : object
    check : callable
        ``check(name, value)`` returns the value as a plain Python type or raises TypeError or
        ValueError naming the argument.
    help : str
        One line for documentation and command-line options.
    saved : bool
        Whether the model keeps it as an attribute of that name, saved with the model (False for
        the corpus, the per-call functions and ``distributed``, which only applies to the process).
    """

    name: str
    default: object
    check: object = field(repr=False)
    help: str
    saved: bool = True

    def checked(self, value):
        """``value`` checked and normalised (see ``check``)."""
        return self.check(self.name, value)

    def from_text(self, text):
        """The value of a command-line string, checked: the text itself where the check takes a string,
        else an integer, a number, ``true``/``false`` or ``none``.

        >>> [PARAMETERS[name].from_text(text) for name, text in [("window", "5"), ("alpha", "0.05"), ("device", "cpu")]]
        [5, 0.05, 'cpu']
        >>> PARAMETERS["progress_bar"].from_text("true"), PARAMETERS["batch_size"].from_text("none")
        (True, None)
        >>> PARAMETERS["window"].from_text("five")
        Traceback (most recent call last):
        ...
        ValueError: window: 'five' is not a valid value (window must be an integer, got 'five' (str))
        """
        try:
            return self.checked(text)
        except (TypeError, ValueError) as error:
            reason = error
        for convert in (int, float, _word_value):
            try:
                value = convert(text)
            except (TypeError, ValueError, KeyError):
                continue
            try:
                return self.checked(value)
            except (TypeError, ValueError) as error:  # the text is a value of this kind, but not a valid one
                reason = error
        raise ValueError(f"{self.name}: {text!r} is not a valid value ({reason})")


def _word_value(text):
    """``true``/``false``/``none`` (any case) as Python values; KeyError for other text."""
    return {"true": True, "false": False, "none": None}[text.strip().lower()]


def _anything(name, value):
    return value


#: gensim 4's ``Word2Vec`` arguments, in its order, with gensim's defaults.
GENSIM_PARAMETERS = (
    Parameter("sentences", None, _anything, "the corpus: an iterable of token lists", saved=False),
    Parameter("corpus_file", None, _anything, "path to a corpus in LineSentence format (plain, .gz or .bz2)",
              saved=False),
    Parameter("vector_size", 100, integer(minimum=1), "dimensionality of the word vectors"),
    Parameter("alpha", 0.025, number(above=0), "initial learning rate"),
    Parameter("window", 5, integer(minimum=1), "maximum distance between the centre and a context word"),
    Parameter("min_count", 5, integer(minimum=0), "ignore words with a total frequency below this"),
    Parameter("max_vocab_size", None, integer(minimum=1, optional=True),
              "prune the rarest words while counting whenever there are more than this"),
    Parameter("sample", 1e-3, number(minimum=0, optional=True),
              "threshold for downsampling frequent words (0 or None: off)"),
    Parameter("seed", 1, integer(minimum=0), "seed of the initial vectors and of the training randomness"),
    Parameter("workers", 3, integer(minimum=1), "training threads on CPU"),
    Parameter("min_alpha", 0.0001, number(minimum=0), "learning rate at the end of training"),
    Parameter("sg", 0, binary, "1: skip-gram; 0: CBOW"),
    Parameter("hs", 0, binary, "1: hierarchical softmax"),
    Parameter("negative", 5, integer(minimum=0), "noise words per positive example (0: no negative sampling)"),
    Parameter("ns_exponent", 0.75, number(), "exponent of the noise distribution count ** ns_exponent"),
    Parameter("cbow_mean", 1, binary, "CBOW: 1 averages the context vectors, 0 sums them"),
    Parameter("hashfxn", hash, function(), "unused, as in gensim 4 (the initial vectors come from seed)"),
    Parameter("epochs", 5, integer(minimum=1), "passes over the corpus"),
    Parameter("null_word", 0, binary, "1: add gensim's '\\0' padding word"),
    Parameter("trim_rule", None, function(optional=True), "gensim's vocabulary trimming rule", saved=False),
    Parameter("sorted_vocab", 1, binary, "1: sort the vocabulary by descending frequency"),
    Parameter("batch_words", 10000, integer(minimum=1), "raw words per data-preparation chunk"),
    Parameter("compute_loss", False, boolean, "record the training loss"),
    Parameter("callbacks", (), callbacks_list, "gensim callbacks run during training", saved=False),
    Parameter("comment", None, text, "a comment kept with the model"),
    Parameter("max_final_vocab", None, integer(minimum=1, optional=True),
              "raise min_count so that about this many words remain"),
    Parameter("shrink_windows", True, boolean, "draw each centre's window size from 1..window"),
)

#: The keywords that only ``TorchWord2Vec`` takes (keyword-only, after gensim's): the one table
#: from which the constructor's checks, the saved settings and the lists of what gensim does not
#: take are derived.
TORCH_PARAMETERS = (
    Parameter("device", "auto", device_name, "training device: auto (cuda, then mps, then cpu), cpu, cuda, "
              "cuda:N or mps"),
    Parameter("batch_size", None, integer(minimum=1, optional=True),
              "centre words per training step (default: by device and kernel)"),
    Parameter("dtype", None, dtype_name, "training precision: float32 (default) or float64"),
    Parameter("progress_bar", False, boolean, "show a tqdm progress bar while training"),
    Parameter("cpu_kernel", "auto", choice(("auto", "native", "torch")),
              "how to train on CPU: native (compiled kernels), torch (batched torch ops) or auto"),
    Parameter("cuda_kernel", "auto", choice(CUDA_KERNELS),
              "the device path's step on CUDA: triton (one fused kernel), torch (torch ops, the reference) or "
              "auto (triton where it is installed and supports the settings)"),
    Parameter("shared_negatives", True, boolean,
              "skip-gram on the native kernels: share each centre's noise words among its context words"),
    Parameter("optimizer", "sgd", choice(OPTIMIZERS), "update rule: sgd (gensim's) or adam (sparse rows)"),
    Parameter("optimizer_lr", None, number(above=0, optional=True),
              f"Adam's initial learning rate (default {DEFAULT_ADAM_LR})"),
    Parameter("distributed", False, boolean, "train with several processes launched by torchrun",
              saved=False),
    Parameter("sync_words", DEFAULT_SYNC_WORDS, integer(minimum=1),
              "distributed: raw words each rank trains between weight synchronisations"),
    Parameter("dist_timeout", DEFAULT_DIST_TIMEOUT, number(above=0),
              "distributed: seconds a rank waits for the others before it stops with an error"),
)

#: Names of the keywords gensim's ``Word2Vec`` does not take.
TORCH_ONLY_NAMES = tuple(parameter.name for parameter in TORCH_PARAMETERS)


def check_settings(**settings):
    """Check and normalise ``TorchWord2Vec`` keyword arguments (any subset) by the tables above.

    Returns
    -------
    dict
        The same names with plain Python values.

    Raises
    ------
    TypeError
        An unknown name, or a value of the wrong type (naming the argument).
    ValueError
        A value out of range, or settings that cannot train together.

    Examples
    --------
    >>> check_settings(seed=np.int64(3), sample=np.float64(0.01))
    {'seed': 3, 'sample': 0.01}
    >>> check_settings(negative=0, hs=0)
    Traceback (most recent call last):
    ...
    ValueError: negative=0 and hs=0 leave nothing to train: set negative > 0 (e.g. 5) or hs=1
    """
    checked = {}
    for name, value in settings.items():
        if name not in PARAMETERS:
            raise TypeError(f"unknown setting {name!r}")
        checked[name] = PARAMETERS[name].checked(value)
    if checked.get("negative", 1) == 0 and checked.get("hs", 1) == 0:
        raise ValueError("negative=0 and hs=0 leave nothing to train: set negative > 0 (e.g. 5) or hs=1")
    return checked


#: Every keyword of ``TorchWord2Vec`` by name.
PARAMETERS = {parameter.name: parameter for parameter in GENSIM_PARAMETERS + TORCH_PARAMETERS}


@dataclass(frozen=True)
class TrainingConfig:
    """Everything the trainer needs to know about one ``train()`` call.

    Each field's ``help`` metadata says what it is; ``__post_init__`` checks the values.
    """

    sg: int = field(default=0, metadata={"help": "1 for skip-gram, 0 for CBOW"})
    window: int = field(default=5, metadata={"help": "maximum distance between center and context words"})
    shrink_windows: bool = field(default=True, metadata={"help": "draw each center's window from 1..window"})
    negative: int = field(default=5, metadata={"help": "noise words per center (0: no negative sampling)"})
    hs: bool = field(default=False, metadata={"help": "hierarchical softmax over a Huffman tree"})
    cbow_mean: bool = field(default=True, metadata={"help": "CBOW averages (True) or sums the context vectors"})
    alpha: float = field(default=0.025, metadata={"help": "learning rate at the start of training"})
    min_alpha: float = field(default=0.0001, metadata={"help": "learning rate at the end of training"})
    epochs: int = field(default=5, metadata={"help": "passes over the corpus"})
    batch_size: int = field(default=1024, metadata={"help": "center words per training step"})
    chunk_words: int = field(default=10000, metadata={"help": "raw words per data-preparation chunk"})
    compute_loss: bool = field(default=False, metadata={"help": "accumulate the training loss"})
    seed: int = field(default=1, metadata={"help": "seed of the data and noise random generators"})
    report_delay: float = field(default=1.0, metadata={"help": "seconds between progress log lines"})
    progress_bar: bool = field(default=False, metadata={"help": "show a tqdm progress bar"})

    def __post_init__(self):
        for name in ("window", "epochs", "batch_size", "chunk_words"):
            _positive_int(name, getattr(self, name))
        _non_negative_int("negative", self.negative)
        if not self.negative and not self.hs:
            raise ValueError("negative=0 and hs=0 leave nothing to train: set negative > 0 (e.g. 5) or hs=1")
        if not self.alpha > 0 or self.min_alpha < 0:
            raise ValueError(f"alpha must be > 0 and min_alpha >= 0, got {self.alpha!r} and {self.min_alpha!r}")
