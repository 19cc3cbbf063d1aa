"""Corpora: text8 (local, cached or downloaded), the text8 sample packaged with torchw2v, and the
tiny corpus gensim ships.

text8 is the first 10^8 bytes of an English Wikipedia dump, normalised to lowercase words
(Matt Mahoney). :func:`text8_path` finds it, in this order: a path given by the caller,
the ``TORCHW2V_TEXT8`` environment variable, the cache folder (``TORCHW2V_DATA`` or
``~/.cache/torchw2v``); else it downloads ``text8.zip`` with a progress bar, checks the
sizes, unpacks and caches it. Without text8 and without network, :func:`text8_sample` is
its first 2,000,000 words, packaged with torchw2v: :func:`best_available_corpus` picks one of
the two, and :func:`resolve_corpus` turns what a user names (a file, the word ``text8``, or
nothing) into a corpus file with a description for reports. :func:`lee_corpus` is gensim's
60,000-word corpus, for tests and examples.

>>> from torchw2v.corpus import open_corpus
>>> len(next(iter(open_corpus(lee_corpus())))) > 0
True
>>> next(iter(open_corpus(text8_sample())))[:3]
['anarchism', 'originated', 'as']
"""
import logging
import os
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from dataclasses import dataclass

from gensim.test.utils import datapath

logger = logging.getLogger(__name__)

TEXT8_URL = "http://mattmahoney.net/dc/text8.zip"
#: Bytes of the unpacked ``text8`` file.
TEXT8_SIZE = 100_000_000
#: Bytes of ``text8.zip``.
TEXT8_ZIP_SIZE = 31_344_016
#: Words in :func:`text8_sample`.
TEXT8_SAMPLE_WORDS = 2_000_000
#: Where the text8 sample lies in the installed package.
TEXT8_SAMPLE_PATH = Path(__file__).with_name("data") / "text8-2m.xz"
#: How reports credit the text8 sample.
TEXT8_SAMPLE_CREDIT = "text from Wikipedia, CC BY-SA, via Matt Mahoney's text8"


def text8_sample():
    """Path of the text8 sample packaged with torchw2v: the first 2,000,000 words of text8.

    The first 11,727,980 bytes of text8 (one line of lowercase words), xz-compressed (2.96 MB):
    text from Wikipedia, CC BY-SA, via Matt Mahoney's text8. Enough for word vectors worth
    measuring (WordSim-353 about 0.4 after 5 skip-gram epochs), small enough to ship.

    >>> text8_sample().name
    'text8-2m.xz'
    """
    return TEXT8_SAMPLE_PATH


def lee_corpus():
    """Path of the tiny corpus bundled with gensim (``lee_background.cor``: 300 news texts, 59,890 words).

    Fast enough for tests and examples, too small for meaningful word vectors.

    >>> Path(lee_corpus()).name
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


def best_available_corpus(timeout=20.0, **text8_kwargs):
    """text8 when it is here or can be downloaded, else the text8 sample packaged with torchw2v.

    Parameters
    ----------
    timeout : float, optional
        Seconds to wait for the text8 server before falling back (no network: a few seconds).
    **text8_kwargs
        Passed to :func:`text8_path` (``url``, ``cache``, the expected sizes).

    Returns
    -------
    (pathlib.Path, bool)
        The corpus file, and whether it is text8 (False: :func:`text8_sample`, with a warning
        saying why).

    Examples
    --------
    >>> path, is_text8 = best_available_corpus()  # doctest: +SKIP
    """
    try:
        return text8_path(timeout=timeout, **text8_kwargs), True
    except OSError as error:  # FileNotFoundError included
        logger.warning("text8 is not available (%s): using the text8 sample packaged with torchw2v, its first "
                       "%s words", error, f"{TEXT8_SAMPLE_WORDS:,}")
        return text8_sample(), False


@dataclass(frozen=True)
class ResolvedCorpus:
    """A corpus file and how a report names it.

    Attributes
    ----------
    path : str
        The file.
    description : str
        Markdown naming the corpus (and, for a fallback, why it was chosen and its credit).
    """

    path: str
    description: str


def resolve_corpus(corpus=None, **text8_kwargs):
    """The corpus file a user means: a path, the word ``text8``, or None for :func:`best_available_corpus`.

    Parameters
    ----------
    corpus : str or os.PathLike, optional
        A corpus file; ``"text8"`` for text8 itself (found or downloaded by :func:`text8_path`);
        None for the best available corpus.
    **text8_kwargs
        Passed to :func:`best_available_corpus` when ``corpus`` is None.

    Returns
    -------
    ResolvedCorpus

    Raises
    ------
    FileNotFoundError
        ``corpus`` names no file.

    Examples
    --------
    >>> resolve_corpus(lee_corpus()).description.endswith("lee_background.cor`")
    True
    """
    if corpus is None:
        path, is_text8 = best_available_corpus(**text8_kwargs)
        if is_text8:
            return ResolvedCorpus(os.fspath(path), f"text8 (`{path}`)")
        return ResolvedCorpus(os.fspath(path), (
            f"the text8 sample packaged with torchw2v: the first {TEXT8_SAMPLE_WORDS:,} words of text8 "
            f"({TEXT8_SAMPLE_CREDIT}), used because text8 is neither on this machine nor downloadable"))
    if os.fspath(corpus) == "text8":
        path = text8_path()
        return ResolvedCorpus(os.fspath(path), f"text8 (`{path}`)")
    if not os.path.isfile(corpus):
        raise FileNotFoundError(f"corpus file {os.fspath(corpus)!r} does not exist")
    return ResolvedCorpus(os.fspath(corpus), f"`{os.fspath(corpus)}`")


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
