"""Settings: argument checks, device choice and the frozen training configuration.

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
import os
import platform
import re
import sys
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

#: Centers per training step when ``batch_size`` is not given: by device type, and for the
#: native CPU kernels (whose sequential updates need no small batches for stability).
DEFAULT_BATCH_SIZE = {"cpu": 256, "cuda": 16384, "mps": 8192, "native": 2048}

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


def default_batch_size(device, cpu_kernel):
    """The default ``batch_size`` for a device and CPU kernel.

    >>> default_batch_size("cpu", "native"), default_batch_size("cpu", "torch"), default_batch_size("cuda:0", "native")
    (2048, 256, 16384)
    """
    kind = device_type(device)
    if kind == "cpu" and cpu_kernel == "native":
        return DEFAULT_BATCH_SIZE["native"]
    return DEFAULT_BATCH_SIZE.get(kind, DEFAULT_BATCH_SIZE["cpu"])


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
    if dtype is None:
        return "float32"
    name = str(dtype).replace("torch.", "")
    if name not in DTYPES:
        raise ValueError(
            f"dtype={dtype!r} is not supported: use torch.float32 (default) or torch.float64; half precision "
            "loses the small sparse updates word2vec relies on"
        )
    if name == "float64" and device_type(device) == "mps":
        raise ValueError("dtype=torch.float64 is not available on MPS")
    return name


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _non_negative_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def check_model_params(vector_size, window, min_count, epochs, negative, hs, sample, alpha, min_alpha,
                       workers, max_vocab_size, max_final_vocab, batch_words):
    """Raise ``ValueError`` naming the first argument that cannot train a model.

    >>> check_model_params(100, 5, 5, 5, 0, 0, 1e-3, 0.025, 1e-4, 3, None, None, 10000)
    Traceback (most recent call last):
    ...
    ValueError: negative=0 and hs=0 leave nothing to train: set negative > 0 (e.g. 5) or hs=1
    """
    _positive_int("vector_size", vector_size)
    _positive_int("window", window)
    _positive_int("epochs", epochs)
    _non_negative_int("min_count", min_count)
    _non_negative_int("negative", negative)
    _positive_int("workers", workers)
    _positive_int("batch_words", batch_words)
    if hs not in (0, 1, True, False):
        raise ValueError(f"hs must be 0 or 1, got {hs!r}")
    if not negative and not hs:
        raise ValueError("negative=0 and hs=0 leave nothing to train: set negative > 0 (e.g. 5) or hs=1")
    if sample is not None and sample < 0:
        raise ValueError(f"sample must be >= 0, got {sample!r}")
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    if min_alpha is not None and min_alpha < 0:
        raise ValueError(f"min_alpha must be >= 0, got {min_alpha!r}")
    if max_vocab_size is not None:
        _positive_int("max_vocab_size", max_vocab_size)
    if max_final_vocab is not None:
        _positive_int("max_final_vocab", max_final_vocab)


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
