"""Streaming corpus readers, corpus opening, input checks and the encoded-corpus cache.

A corpus is what gensim accepts: a restartable iterable of token lists (a list, gensim's
``LineSentence``, ``Text8Corpus``, ``PathLineSentences``...) or ``corpus_file``, a path to a
file in ``LineSentence`` format (plain, ``.gz``, ``.bz2`` or ``.xz``, read through smart-open).
For training, sentences longer than :data:`MAX_SENTENCE_LENGTH` tokens are split into
pieces of that length, as gensim's readers split them; the vocabulary scan and the
sentence counts see the sentences as given, as gensim's do.

:func:`open_corpus` opens a corpus file in either layout, one sentence a line
(:class:`LineSentenceFile`) or text8's single line (:class:`Text8File`); both yield what gensim's
``LineSentence`` and ``Text8Corpus`` yield, and a file that cannot be read (damaged compressed
data, text that is not UTF-8) raises a :class:`CorpusReadError` naming the file and the line or
byte offset.

Training streams the corpus: the first epoch encodes each chunk of sentences to a compact
``int32`` id array (out-of-vocabulary words dropped) and appends it to a temporary file;
later epochs read it back chunk by chunk. Memory stays bounded by one chunk, whatever the
corpus length.

>>> corpus = EncodedCorpus([["a", "b", "zz"], ["b"]], {"a": 0, "b": 1}, chunk_words=100)
>>> chunk = next(iter(corpus.chunks()))
>>> chunk.ids.tolist(), chunk.sentence_lengths.tolist(), chunk.raw_words
([0, 1, 1], [2, 1], 4)
>>> corpus.close()
"""
import itertools
import logging
import lzma
import os
import tempfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from gensim import utils

logger = logging.getLogger(__name__)

#: gensim's ``MAX_WORDS_IN_BATCH``: the longest sentence its readers yield.
MAX_SENTENCE_LENGTH = 10000

#: A first line longer than this (in bytes) marks a text8-format corpus.
TEXT8_LINE_BYTES = 1 << 20

#: Bytes :class:`Text8File` reads at a time.
READ_BLOCK_BYTES = 1 << 20

#: What the decompressors raise on damaged or truncated data (gzip: EOFError, zlib.error,
#: BadGzipFile; bz2: OSError, EOFError; xz: LZMAError, EOFError).
_READ_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError)


class CorpusReadError(ValueError):
    """A corpus file cannot be read: damaged or truncated compressed data, or text that is not UTF-8.

    The message names the file and where reading stopped (line and byte offset of the uncompressed text).
    """


def _decode(data, path, offset, line=None):
    """``data`` decoded as UTF-8, or a :class:`CorpusReadError` naming where it is not."""
    try:
        return data.decode("utf8")
    except UnicodeDecodeError as error:
        where = f"byte {offset + error.start:,}" if line is None else f"line {line:,}, byte {offset + error.start:,}"
        bad = error.object[error.start:error.end]
        raise CorpusReadError(f"{path}: {where} is not UTF-8 text ({error.reason}: {bad!r})") from None


def _read_failed(path, error, offset, line=None):
    """A :class:`CorpusReadError` for a decompression or I/O failure at ``offset`` of the uncompressed text."""
    where = f"line {line:,}, " if line is not None else ""
    return CorpusReadError(f"{path}: cannot read past {where}byte {offset:,} of its text, the file is damaged or "
                           f"truncated: {type(error).__name__}: {error}")


class LineSentenceFile:
    """Sentences of a file with one sentence a line, words separated by whitespace, as gensim's ``LineSentence``.

    Lines longer than ``max_sentence_length`` words are cut into pieces of that length; empty lines
    yield nothing. Read errors raise :class:`CorpusReadError` naming the file, the line and the byte.

    Parameters
    ----------
    path : str or os.PathLike
        The file, plain or compressed (``.gz``, ``.bz2``, ``.xz``: anything ``smart_open`` reads).
    max_sentence_length : int, optional

    Examples
    --------
    >>> from gensim.test.utils import datapath
    >>> next(iter(LineSentenceFile(datapath("lee_background.cor"))))[:3]
    ['Hundreds', 'of', 'people']
    """

    def __init__(self, path, max_sentence_length=MAX_SENTENCE_LENGTH):
        self.path = os.fspath(path)
        self.max_sentence_length = max_sentence_length

    def __iter__(self):
        with utils.open(self.path, "rb") as fin:
            line_number, offset = 0, 0
            while True:
                try:
                    line = fin.readline()
                except _READ_ERRORS as error:
                    raise _read_failed(self.path, error, offset, line_number + 1) from error
                if not line:
                    return
                line_number += 1
                words = _decode(line, self.path, offset, line_number).split()
                offset += len(line)
                for start in range(0, len(words), self.max_sentence_length):
                    yield words[start:start + self.max_sentence_length]


class Text8File:
    """Sentences of a text8-format file (one huge line of words), as gensim's ``Text8Corpus``.

    The words are cut into sentences of ``max_sentence_length`` words. The file is read in blocks of
    :data:`READ_BLOCK_BYTES`; read errors raise :class:`CorpusReadError` naming the file and the byte.

    Parameters
    ----------
    path : str or os.PathLike
        The file, plain or compressed (``.gz``, ``.bz2``, ``.xz``).
    max_sentence_length : int, optional

    Examples
    --------
    >>> from torchw2v.datasets import text8_sample
    >>> [len(sentence) for sentence in itertools.islice(Text8File(text8_sample()), 2)]
    [10000, 10000]
    """

    def __init__(self, path, max_sentence_length=MAX_SENTENCE_LENGTH):
        self.path = os.fspath(path)
        self.max_sentence_length = max_sentence_length

    def __iter__(self):
        size = self.max_sentence_length
        sentence, rest, offset = [], b"", 0  # offset: bytes of the file before ``rest``
        with utils.open(self.path, "rb") as fin:
            while True:
                try:
                    block = fin.read(READ_BLOCK_BYTES)
                except _READ_ERRORS as error:
                    raise _read_failed(self.path, error, offset + len(rest)) from error
                text = rest + block
                # the last word may go on in the next block: keep it for then
                cut = max(text.rfind(b" "), text.rfind(b"\n")) + 1 if block else len(text)
                sentence.extend(_decode(text[:cut], self.path, offset).split())
                rest, offset = text[cut:], offset + cut
                full = len(sentence) - len(sentence) % size if block else len(sentence)
                for start in range(0, full, size):
                    yield sentence[start:start + size]
                sentence = sentence[full:]
                if not block:
                    return


def is_text8_format(path) -> bool:
    """Tell whether a corpus file is in the text8 format: one huge line of space-separated words.

    Parameters
    ----------
    path : str or os.PathLike
        The corpus file, plain or compressed (``.gz``, ``.bz2``, ``.xz``: anything ``smart_open`` reads).

    Returns
    -------
    bool
        True when the first line is longer than :data:`TEXT8_LINE_BYTES` or the file has a single line.

    Examples
    --------
    >>> from gensim.test.utils import datapath
    >>> is_text8_format(datapath("lee_background.cor"))
    False
    """
    path = os.fspath(path)
    with utils.open(path, "rb") as fin:
        try:
            first_line = fin.readline(TEXT8_LINE_BYTES + 1)
            return len(first_line) > TEXT8_LINE_BYTES or fin.readline(1) == b""
        except _READ_ERRORS as error:
            raise _read_failed(path, error, 0, 1) from error


class WordLimitedCorpus:
    """A restartable corpus that stops after its first ``limit`` words, cutting the last sentence.

    Parameters
    ----------
    corpus : iterable of list of str
        The restartable corpus to take the prefix of.
    limit : int
        How many words to yield on each pass.

    Examples
    --------
    >>> list(WordLimitedCorpus([["a", "b"], ["c", "d", "e"], ["f"]], limit=3))
    [['a', 'b'], ['c']]
    """

    def __init__(self, corpus, limit):
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        self.corpus = corpus
        self.limit = limit

    def __iter__(self):
        remaining = self.limit
        for sentence in self.corpus:
            if remaining <= 0:
                break
            kept = sentence[:remaining]
            remaining -= len(kept)
            yield kept


def open_corpus(path, *, limit_words=None):
    """Open a corpus file as a streaming, restartable iterable of sentences.

    Parameters
    ----------
    path : str or os.PathLike
        The corpus file, plain or compressed (``.gz``, ``.bz2``, ``.xz``). A text8-format file (see
        :func:`is_text8_format`) is read as :class:`Text8File`, cut into 10,000-word sentences; any
        other file as :class:`LineSentenceFile`: one sentence per line, words separated by whitespace.
        (:func:`torchw2v.datasets.resolve_corpus` turns the word ``text8`` into a path.)
    limit_words : int, optional
        Yield only the first ``limit_words`` words of the corpus on each pass.

    Returns
    -------
    iterable of list of str
        The sentences, read from disk anew on each pass.

    Raises
    ------
    FileNotFoundError
        No such file.

    Examples
    --------
    >>> from gensim.test.utils import datapath
    >>> corpus = open_corpus(datapath("lee_background.cor"), limit_words=5)
    >>> list(corpus)
    [['Hundreds', 'of', 'people', 'have', 'been']]
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"corpus file {path!r} does not exist")
    if is_text8_format(path):
        logger.debug("%s is in the text8 format: one sentence every %d words", path, MAX_SENTENCE_LENGTH)
        corpus = Text8File(path)
    else:
        logger.debug("%s has one sentence a line", path)
        corpus = LineSentenceFile(path)
    return corpus if limit_words is None else WordLimitedCorpus(corpus, limit_words)


def check_corpus(corpus_iterable=None, corpus_file=None, passes=1):
    """Raise a clear error when the corpus arguments cannot be trained on.

    Parameters
    ----------
    corpus_iterable : iterable of list of str, optional
        Sentences as token lists.
    corpus_file : str or os.PathLike, optional
        Path to a ``LineSentence``-format file.
    passes : int, optional
        How many times the corpus will be iterated; one-shot iterators allow only one.

    Raises
    ------
    TypeError
        Neither or both corpus arguments given, a string where token lists were
        expected, or a one-shot generator asked for several passes.
    FileNotFoundError
        ``corpus_file`` does not exist.

    Examples
    --------
    >>> check_corpus([["hello", "world"]])
    >>> check_corpus("hello world")
    Traceback (most recent call last):
    ...
    TypeError: sentences/corpus_iterable must be an iterable of token lists, got a str; \
pass a file path as corpus_file=... or wrap the text as [text.split()]
    """
    if corpus_iterable is None and corpus_file is None:
        raise TypeError("either sentences/corpus_iterable or corpus_file must be given")
    if corpus_iterable is not None and corpus_file is not None:
        raise TypeError("give either sentences/corpus_iterable or corpus_file, not both")
    if corpus_file is not None:
        if not isinstance(corpus_file, (str, os.PathLike)):
            raise TypeError(f"corpus_file must be a path, got {type(corpus_file).__name__}")
        if not os.path.isfile(corpus_file):
            raise FileNotFoundError(f"corpus_file {os.fspath(corpus_file)!r} is not a file")
        return
    if isinstance(corpus_iterable, (str, bytes)):
        raise TypeError(
            f"sentences/corpus_iterable must be an iterable of token lists, got a {type(corpus_iterable).__name__}; "
            "pass a file path as corpus_file=... or wrap the text as [text.split()]"
        )
    if not isinstance(corpus_iterable, Iterable):
        raise TypeError(
            f"sentences/corpus_iterable must be an iterable of token lists, got {type(corpus_iterable).__name__}"
        )
    if isinstance(corpus_iterable, Iterator) and passes > 1:
        raise TypeError(
            f"sentences/corpus_iterable is a one-shot {type(corpus_iterable).__name__} but training needs "
            f"{passes} passes (vocabulary scan and epochs); pass a restartable iterable such as a list, "
            "gensim's LineSentence, or a class whose __iter__ opens the data anew"
        )
    if isinstance(corpus_iterable, Iterator):
        return  # peeking would consume the user's only pass
    first = next(iter(corpus_iterable), None)
    if isinstance(first, (str, bytes)):
        raise TypeError(
            "sentences/corpus_iterable must yield token lists, but its first item is a "
            f"{type(first).__name__} ({first[:30]!r}); use [sentence.split() for sentence in ...]"
        )


def iter_sentences(corpus_iterable=None, corpus_file=None):
    """Yield the corpus's sentences as token lists, checking that they are token lists.

    ``corpus_file`` is read as gensim's ``LineSentence`` reads it (:class:`LineSentenceFile`, which
    splits lines longer than :data:`MAX_SENTENCE_LENGTH`); other sentences come as the iterable gives them.

    >>> list(iter_sentences([["a", "b"]]))
    [['a', 'b']]
    """
    source = LineSentenceFile(corpus_file) if corpus_file is not None else corpus_iterable
    for sentence in source:
        if isinstance(sentence, (str, bytes)):
            raise TypeError(
                "sentences/corpus_iterable must yield token lists, got a "
                f"{type(sentence).__name__} ({sentence[:30]!r})"
            )
        yield sentence


def split_long(sentence):
    """Pieces of at most :data:`MAX_SENTENCE_LENGTH` tokens, as gensim's readers split lines.

    (gensim's trainer cuts an in-memory sentence off after that many words; here the rest
    is trained on as further pieces.)

    >>> [len(piece) for piece in split_long(["w"] * 25000)]
    [10000, 10000, 5000]
    """
    if len(sentence) <= MAX_SENTENCE_LENGTH:
        return [sentence]
    return [sentence[start:start + MAX_SENTENCE_LENGTH] for start in range(0, len(sentence), MAX_SENTENCE_LENGTH)]


@dataclass
class Chunk:
    """Encoded sentences of one chunk of the corpus.

    Attributes
    ----------
    ids : numpy.ndarray of int32
        Vocabulary indices of the in-vocabulary tokens, sentence after sentence.
    sentence_lengths : numpy.ndarray of int32
        In-vocabulary tokens per sentence piece (sums to ``len(ids)``); windows never cross
        these boundaries. Sentences over :data:`MAX_SENTENCE_LENGTH` tokens are several pieces.
    raw_words : int
        Raw tokens in the chunk, out-of-vocabulary ones included.
    sentences : int
        Sentences in the chunk, as the corpus yielded them.
    """

    ids: np.ndarray
    sentence_lengths: np.ndarray
    raw_words: int
    sentences: int


def sentence_groups(sentences, chunk_words):
    """Sentences grouped into chunks of about ``chunk_words`` raw tokens (a chunk ends on a sentence end).

    Yields
    ------
    (list of str, list of int, int)
        The chunk's tokens, its sentence pieces' lengths (:func:`split_long`) and its sentence count.

    >>> [group[1:] for group in sentence_groups([["a"], ["b", "a"], ["c"]], 2)]
    [([1, 2], 2), ([1], 1)]
    """
    sentences = iter(sentences)
    while True:
        tokens, raw_lengths, count = [], [], 0
        for sentence in sentences:
            count += 1
            for piece in split_long(sentence):
                tokens.extend(piece)
                raw_lengths.append(len(piece))
            if len(tokens) >= chunk_words:
                break
        if not count:
            return
        yield tokens, raw_lengths, count


def _known_words(ids, raw_lengths, sentences):
    """The chunk of ``ids`` (-1: out of the vocabulary, dropped) in pieces of ``raw_lengths`` tokens."""
    known = ids >= 0
    sentence_of_token = np.repeat(np.arange(len(raw_lengths)), raw_lengths)
    lengths = np.bincount(sentence_of_token[known], minlength=len(raw_lengths)).astype(np.int32)
    return Chunk(ids=ids[known], sentence_lengths=lengths, raw_words=len(ids), sentences=sentences)


def encode_chunks(sentences, key_to_index, chunk_words):
    """Group sentences into chunks of about ``chunk_words`` raw tokens and encode them.

    >>> [c.ids.tolist() for c in encode_chunks([["a"], ["b", "a"]], {"a": 0, "b": 1}, 1)]
    [[0], [1, 0]]
    """
    for tokens, raw_lengths, count in sentence_groups(sentences, chunk_words):
        ids = np.fromiter(map(key_to_index.get, tokens, itertools.repeat(-1)), dtype=np.int32, count=len(tokens))
        yield _known_words(ids, raw_lengths, count)


class ScannedCorpus:
    """The corpus as the vocabulary scan read it, recorded as ids in the order the words were first
    seen, so that the first epoch needs neither to read nor to split the text again.

    :meth:`count` counts the words (for the scan) while writing each chunk's ids to a temporary
    file; :meth:`chunks` gives the chunks :func:`encode_chunks` would give for the final vocabulary.

    Parameters
    ----------
    chunk_words : int
        Raw tokens per chunk, as the training's (:func:`sentence_groups`).
    cache_dir : str, optional
        Folder for the temporary id file (default: the system's temporary folder).

    Examples
    --------
    >>> scanned = ScannedCorpus(chunk_words=2)
    >>> scanned.count([["b", "a"], ["zz", "b"]])
    Counter({'b': 2, 'a': 1, 'zz': 1})
    >>> [c.ids.tolist() for c in scanned.chunks({"a": 0, "b": 1})]
    [[1, 0], [1]]
    >>> scanned.close()
    """

    def __init__(self, chunk_words, cache_dir=None):
        self.chunk_words = chunk_words
        self._file = tempfile.TemporaryFile(prefix="torchw2v-scan-", dir=cache_dir)
        self._table = []  # per chunk: (offset in int32 items, tokens, pieces, sentences)
        self._words = []  # by first-seen id
        self.word_types = 0  # seen so far

    def count(self, sentences):
        """Count the words of ``sentences`` (iterated once) and record them.

        Returns
        -------
        collections.Counter
            Each word's count, in the order the words were first seen (as ``Counter.update`` gives).
        """
        index = defaultdict(itertools.count().__next__)  # a new word gets the next id, all in C
        counts, size = np.zeros(0, dtype=np.int64), 0
        for tokens, raw_lengths, sentences_in_chunk in sentence_groups(sentences, self.chunk_words):
            ids = np.fromiter(map(index.__getitem__, tokens), dtype=np.int32, count=len(tokens))
            seen = np.bincount(ids, minlength=len(index))
            counts = np.concatenate([counts, np.zeros(len(seen) - len(counts), dtype=np.int64)]) + seen
            self._file.write(ids.tobytes())
            self._file.write(np.asarray(raw_lengths, dtype=np.int32).tobytes())
            self._table.append((size, len(ids), len(raw_lengths), sentences_in_chunk))
            size += len(ids) + len(raw_lengths)
            self.word_types = len(index)
        self._file.flush()
        self._words = list(index)
        return Counter(dict(zip(self._words, counts.tolist())))

    def chunks(self, key_to_index):
        """The recorded chunks with the ids of ``key_to_index`` (other words dropped)."""
        final_ids = np.fromiter(map(key_to_index.get, self._words, itertools.repeat(-1)), dtype=np.int32,
                                count=len(self._words))
        for start, n_ids, pieces, sentences in self._table:
            self._file.seek(4 * start)
            data = np.fromfile(self._file, dtype=np.int32, count=n_ids + pieces)
            yield _known_words(final_ids[data[:n_ids]], data[n_ids:], sentences)

    def close(self):
        """Delete the temporary id file."""
        self._file.close()


class EncodedCorpus:
    """A corpus encoded to vocabulary ids once, replayed from a temporary file afterwards.

    Parameters
    ----------
    sentences : iterable of list of str
        Iterated once, on the first call of :meth:`chunks`.
    key_to_index : dict of (str, int)
        The vocabulary; other tokens are dropped.
    chunk_words : int
        Raw tokens per chunk (the last chunk may be shorter, a chunk ends on a sentence end).
    cache_dir : str, optional
        Folder for the temporary id file (default: the system's temporary folder).
    scanned : ScannedCorpus, optional
        The same corpus as the vocabulary scan recorded it: the first pass encodes the recording
        instead of ``sentences`` (which then are not read), and closes it.

    Examples
    --------
    >>> corpus = EncodedCorpus([["a"], ["a", "a"]], {"a": 0}, chunk_words=1)
    >>> [c.ids.tolist() for c in corpus.chunks()] == [c.ids.tolist() for c in corpus.chunks()]
    True
    >>> corpus.close()
    """

    def __init__(self, sentences, key_to_index, chunk_words, cache_dir=None, scanned=None):
        self._sentences = sentences
        self._scanned = scanned
        self._key_to_index = key_to_index
        self._chunk_words = chunk_words
        self._cache_dir = cache_dir
        self._file = None
        self._table = []  # per chunk: (offset in int32 items, ids, pieces, sentences, raw words)
        self._complete = False

    def chunks(self):
        """Iterate over the corpus's :class:`Chunk` objects: encoding on the first pass, replaying after."""
        if self._complete:
            yield from self._replay()
        else:
            yield from self._encode_and_record()

    def _encode_and_record(self):
        self._close_file()
        self._file = tempfile.TemporaryFile(prefix="torchw2v-ids-", dir=self._cache_dir)
        self._table, size = [], 0
        if self._scanned is not None:
            chunks = self._scanned.chunks(self._key_to_index)
        else:
            chunks = encode_chunks(self._sentences, self._key_to_index, self._chunk_words)
        for chunk in chunks:
            self._file.write(chunk.ids.tobytes())
            self._file.write(chunk.sentence_lengths.tobytes())
            pieces = len(chunk.sentence_lengths)
            self._table.append((size, len(chunk.ids), pieces, chunk.sentences, chunk.raw_words))
            size += len(chunk.ids) + pieces
            yield chunk
        self._file.flush()
        self._complete = True
        self._drop_scanned()

    def _drop_scanned(self):
        if self._scanned is not None:
            self._scanned.close()
            self._scanned = None

    def _replay(self):
        for start, n_ids, pieces, sentences, raw_words in self._table:
            self._file.seek(4 * start)
            data = np.fromfile(self._file, dtype=np.int32, count=n_ids + pieces)
            yield Chunk(ids=data[:n_ids], sentence_lengths=data[n_ids:], raw_words=raw_words, sentences=sentences)

    def close(self):
        """Delete the temporary id file (and the scan's recording, if still held)."""
        self._close_file()
        self._drop_scanned()

    def _close_file(self):
        if self._file is not None:
            self._file.close()
            self._file = None
        self._complete = False
