"""Reading word vectors from files: word2vec text or binary format, or a model file.

The reader is chosen by the caller, never guessed from the content: :func:`load_word_vectors` reads
a word2vec text file, a word2vec binary file, or a model file, as ``format`` says (by default from
the file's suffix, see :func:`format_from_suffix`). word2vec files are read as data. A model file
is a torchw2v model, or a gensim ``KeyedVectors``/``Word2Vec`` file, which is a Python pickle:
loading one runs code from the file, so a model file is read only when the user chooses one, and
only files you trust should be. A file that is not in the chosen format raises a ``ValueError``
naming the file and the format; there is no fallback to another reader.

>>> import os, tempfile
>>> import numpy as np
>>> from gensim.models import KeyedVectors
>>> wv = KeyedVectors(vector_size=2)
>>> wv.add_vectors(["cat", "dog"], np.ones((2, 2), dtype=np.float32))
>>> path = os.path.join(tempfile.mkdtemp(), "vectors.txt")
>>> wv.save_word2vec_format(path)
>>> load_word_vectors(path).index_to_key
['cat', 'dog']
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Union

from gensim.models import KeyedVectors

from torchw2v.export import VECTOR_KINDS

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]

VECTOR_FORMATS = ("text", "binary", "model")
"""The readers :func:`load_word_vectors` knows: word2vec text, word2vec binary, a model file."""

TEXT_SUFFIXES = (".txt", ".vec")
"""Suffixes of word2vec text files (before a compression suffix)."""

BINARY_SUFFIXES = (".bin",)
"""Suffixes of word2vec binary files (before a compression suffix)."""

COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz")
"""Compression suffixes looked through by :func:`format_from_suffix` (gensim reads such word2vec files)."""


def format_from_suffix(path: PathLike) -> str:
    """The format a file's name implies: ``.txt`` or ``.vec`` text, ``.bin`` binary, anything else a model.

    A compression suffix (``.gz``, ``.bz2``, ``.xz``) is looked through.

    Examples
    --------
    >>> [format_from_suffix(name) for name in ("v.txt", "v.vec.gz", "v.bin", "model.tw2v", "model")]
    ['text', 'text', 'binary', 'model', 'model']
    """
    suffixes = [suffix.lower() for suffix in Path(path).suffixes]
    if suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes.pop()
    suffix = suffixes[-1] if suffixes else ""
    if suffix in TEXT_SUFFIXES:
        return "text"
    if suffix in BINARY_SUFFIXES:
        return "binary"
    return "model"


def load_word_vectors(path: PathLike, format: str | None = None, kind: str = "input") -> KeyedVectors:
    """Word vectors from a word2vec text or binary file, or from a model file.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    format : {"text", "binary", "model"}, optional
        The reader: word2vec text format, word2vec binary format, or a model file (a torchw2v model,
        or gensim's ``KeyedVectors``/``Word2Vec`` pickle, which runs code from the file when loaded).
        Default: :func:`format_from_suffix`.
    kind : {"input", "average", "concat"}, optional
        Which vectors of a torchw2v model (see ``TorchWord2Vec.keyed_vectors``); other files hold
        one kind, the input vectors.

    Returns
    -------
    gensim.models.KeyedVectors

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        An unknown ``format`` or ``kind``, a ``kind`` the file does not hold, or a file that is
        not in the chosen format.
    """
    path = os.fspath(path)
    format = format_from_suffix(path) if format is None else format
    if format not in VECTOR_FORMATS:
        raise ValueError(f"format must be one of {', '.join(VECTOR_FORMATS)}, got {format!r}")
    if kind not in VECTOR_KINDS:
        raise ValueError(f"kind must be one of {', '.join(VECTOR_KINDS)}, got {kind!r}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path}")
    if format != "model":
        if kind != "input":
            raise ValueError(f"{path} is a word2vec {format} file, which holds one kind of vectors; the {kind} of "
                             "input and output vectors needs a torchw2v model file")
        try:
            return KeyedVectors.load_word2vec_format(path, binary=format == "binary")
        except Exception as error:  # gensim's parser fails in many ways on other content
            raise ValueError(f"{path} is not a word2vec {format} file ({_summary(error)}); name its format if "
                             "its suffix misleads") from error
    return _load_model_vectors(path, kind)


def _load_model_vectors(path: str, kind: str) -> KeyedVectors:
    """The vectors of a model file: torchw2v's weights-only format (no code runs), else a pickle of
    a torchw2v or gensim ``Word2Vec`` or gensim ``KeyedVectors`` (which runs code from the file)."""
    from gensim.utils import SaveLoad

    from torchw2v import TorchWord2Vec
    from torchw2v.persistence import is_weights_only_file

    if is_weights_only_file(path):
        return TorchWord2Vec.load_weights_only(path, device="cpu").keyed_vectors(kind)
    logger.warning("loading %s as a model file (a Python pickle), which runs code from the file", path)
    try:
        loaded = SaveLoad.load(path)
    except Exception as error:
        raise ValueError(f"{path} is not a model file ({_summary(error)})") from error
    if isinstance(loaded, TorchWord2Vec):
        return loaded.keyed_vectors(kind)
    wv = loaded if isinstance(loaded, KeyedVectors) else getattr(loaded, "wv", None)
    if not isinstance(wv, KeyedVectors):
        raise ValueError(f"{path} is a gensim file of a {type(loaded).__name__}, which holds no word vectors")
    if kind != "input":
        raise ValueError(f"{path} is a gensim model file: only its input vectors can be evaluated, not the {kind}")
    return wv


def _summary(error: BaseException, limit: int = 120) -> str:
    """The error's type and the first line of its message, cut to ``limit`` characters.

    >>> _summary(ValueError("could not convert\\nmore detail"))
    'ValueError: could not convert'
    """
    lines = str(error).splitlines()
    first = lines[0] if lines else ""
    return f"{type(error).__name__}: {first[:limit]}{'...' if len(first) > limit else ''}"
