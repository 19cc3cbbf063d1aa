"""Corpora: text8 (local, cached or downloaded) and the small corpus gensim ships.

text8 is the first 10^8 bytes of an English Wikipedia dump, normalised to lowercase words
(Matt Mahoney). :func:`text8_path` finds it, in this order: a path given by the caller,
the ``TORCHW2V_TEXT8`` environment variable, the cache folder (``TORCHW2V_DATA`` or
``~/.cache/torchw2v``); else it downloads ``text8.zip`` with a progress bar, checks the
sizes, unpacks and caches it.

>>> from gensim.models.word2vec import LineSentence
>>> sentences = LineSentence(default_corpus())
>>> len(next(iter(sentences))) > 0
True
"""
import logging
import os
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from gensim.models.word2vec import Text8Corpus
from gensim.test.utils import datapath

logger = logging.getLogger(__name__)

TEXT8_URL = "http://mattmahoney.net/dc/text8.zip"
#: Bytes of the unpacked ``text8`` file.
TEXT8_SIZE = 100_000_000
#: Bytes of ``text8.zip``.
TEXT8_ZIP_SIZE = 31_344_016


def default_corpus():
    """Path of the small corpus bundled with gensim (``lee_background.cor``, 300 news texts).

    >>> Path(default_corpus()).name
    'lee_background.cor'
    """
    return datapath("lee_background.cor")


def cache_dir():
    """The folder where downloaded corpora are kept: ``$TORCHW2V_DATA`` or ``~/.cache/torchw2v``."""
    return Path(os.environ.get("TORCHW2V_DATA") or Path.home() / ".cache" / "torchw2v")


def text8_path(path=None, download=True, url=TEXT8_URL, expected_size=TEXT8_SIZE,
               expected_zip_size=TEXT8_ZIP_SIZE, cache=None, timeout=60.0):
    """Locate text8, downloading and caching it when it is nowhere on this machine.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A text8 file to use as it is.
    download : bool, optional
        Download when not found (else raise ``FileNotFoundError``).
    url : str, optional
        Where ``text8.zip`` is.
    expected_size, expected_zip_size : int, optional
        Byte sizes checked after download and unpacking (``None`` skips the check).
    cache : str or os.PathLike, optional
        Cache folder (default :func:`cache_dir`).
    timeout : float, optional
        Seconds to wait for the server to answer (connection and each read).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        ``path`` or ``$TORCHW2V_TEXT8`` names no file, or nothing found and ``download=False``.
    OSError
        The download failed or its size is wrong.
    """
    for candidate, source in ((path, "path"), (os.environ.get("TORCHW2V_TEXT8"), "TORCHW2V_TEXT8")):
        if candidate:
            if not Path(candidate).is_file():
                raise FileNotFoundError(f"text8 file given by {source} does not exist: {candidate}")
            return Path(candidate)
    folder = Path(cache) if cache is not None else cache_dir()
    target = folder / "text8"
    if target.is_file() and (expected_size is None or target.stat().st_size == expected_size):
        return target
    if not download:
        raise FileNotFoundError(f"text8 is not in {folder} and download=False")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        archive = Path(scratch) / "text8.zip"
        _download(url, archive, timeout)
        _check_size(archive, expected_zip_size, url)
        with zipfile.ZipFile(archive) as zipped:
            zipped.extract("text8", scratch)
        unpacked = Path(scratch) / "text8"
        _check_size(unpacked, expected_size, url)
        os.replace(unpacked, target)
    logger.info("text8 cached at %s", target)
    return target


def load_text8(path=None, download=True, **kwargs):
    """text8 as a streaming gensim ``Text8Corpus`` (see :func:`text8_path` for the arguments)."""
    return Text8Corpus(str(text8_path(path, download=download, **kwargs)))


def best_available_corpus(timeout=20.0, **text8_kwargs):
    """text8 when it is here or can be downloaded, else the small embedded default corpus.

    Parameters
    ----------
    timeout : float, optional
        Seconds to wait for the text8 server before falling back (no network: a few seconds).
    **text8_kwargs
        Passed to :func:`text8_path` (``url``, ``cache``, the expected sizes).

    Returns
    -------
    (pathlib.Path, bool)
        The corpus file, and whether it is text8 (False: :func:`default_corpus`, with a warning
        saying why).

    Examples
    --------
    >>> path, is_text8 = best_available_corpus()  # doctest: +SKIP
    """
    try:
        return text8_path(timeout=timeout, **text8_kwargs), True
    except OSError as error:  # FileNotFoundError included
        logger.warning("text8 is not available (%s): using the small embedded default corpus, gensim's "
                       "lee_background.cor (59,890 words), whose figures are a smoke test, not a benchmark", error)
        return Path(default_corpus()), False


def _download(url, destination, timeout):
    """Copy ``url`` to ``destination`` with a tqdm progress bar."""
    from tqdm.auto import tqdm

    logger.info("downloading %s", url)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(destination, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=Path(url).name) as bar:
                while True:
                    block = response.read(1 << 20)
                    if not block:
                        break
                    out.write(block)
                    bar.update(len(block))
    except OSError as error:
        raise OSError(f"downloading {url} failed: {error}") from error


def _check_size(file, expected, url):
    if expected is not None and file.stat().st_size != expected:
        raise OSError(f"{file.name} from {url} has {file.stat().st_size} bytes, expected {expected}: "
                      "the download is incomplete or not text8")
