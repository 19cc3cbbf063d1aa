"""Corpus input: argument checks, readers, corpus opening, read errors, the encoded-corpus cache and
context windows."""
import bz2
import gzip
import itertools
import lzma
from collections import Counter

import numpy as np
import pytest
from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence, PathLineSentences, Text8Corpus

from torchw2v import TorchWord2Vec, corpus as corpus_module
from torchw2v.batching import Windows, context_offsets, context_windows
from torchw2v.corpus import (
    MAX_SENTENCE_LENGTH, CorpusReadError, EncodedCorpus, LineSentenceFile, ScannedCorpus, Text8File, WordLimitedCorpus,
    check_corpus, encode_chunks, is_text8_format, iter_sentences, open_corpus, split_long,
)

SENTENCES = [["alpha", "beta", "gamma"], ["beta", "delta"], ["gamma", "gamma", "epsilon", "alpha"]]


def _generator():
    yield from SENTENCES


# ---------------------------------------------------------------------- check_corpus

BAD_ITERABLES = {
    "str": ("alpha beta gamma", TypeError, r"sentences/corpus_iterable.*got a str.*corpus_file"),
    "bytes": (b"alpha beta", TypeError, r"sentences/corpus_iterable.*got a bytes"),
    "list-of-str": (["a", "b"], TypeError, r"sentences/corpus_iterable must yield token lists.*str"),
    "list-of-bytes": ([b"a b"], TypeError, r"sentences/corpus_iterable must yield token lists.*bytes"),
    "int": (5, TypeError, r"sentences/corpus_iterable must be an iterable.*int"),
    "none-like-object": (object(), TypeError, r"sentences/corpus_iterable must be an iterable.*object"),
}


@pytest.mark.parametrize("corpus, error, message", BAD_ITERABLES.values(), ids=BAD_ITERABLES.keys())
def test_check_corpus_rejects_bad_iterables(corpus, error, message):
    with pytest.raises(error, match=message):
        check_corpus(corpus)


@pytest.mark.parametrize("make", [_generator, lambda: iter(list(SENTENCES)), lambda: map(list, SENTENCES)],
                         ids=["generator", "list_iterator", "map"])
@pytest.mark.parametrize("passes", [2, 6])
def test_check_corpus_rejects_one_shot_iterators_for_several_passes(make, passes):
    corpus = make()
    with pytest.raises(TypeError, match=rf"sentences/corpus_iterable is a one-shot .*{passes} passes"):
        check_corpus(corpus, passes=passes)
    assert list(corpus) == SENTENCES, "the check must not consume the iterator"


@pytest.mark.parametrize("make", [_generator, lambda: iter(list(SENTENCES))], ids=["generator", "iterator"])
def test_check_corpus_accepts_one_shot_iterators_for_one_pass(make):
    corpus = make()
    check_corpus(corpus, passes=1)
    assert list(corpus) == SENTENCES, "the check must not consume the iterator"


def test_check_corpus_accepts_restartable_corpora(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a b\nc\n")
    check_corpus(SENTENCES, passes=10)
    check_corpus([], passes=10)
    check_corpus(LineSentence(str(path)), passes=10)
    check_corpus(tuple(SENTENCES), passes=3)
    check_corpus(corpus_file=str(path), passes=10)
    check_corpus(corpus_file=path, passes=10)  # os.PathLike


def test_check_corpus_both_neither_missing(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a b\n")
    with pytest.raises(TypeError, match=r"either sentences/corpus_iterable or corpus_file must be given"):
        check_corpus()
    with pytest.raises(TypeError, match=r"sentences/corpus_iterable or corpus_file, not both"):
        check_corpus(SENTENCES, corpus_file=str(path))
    missing = tmp_path / "missing.txt"
    with pytest.raises(FileNotFoundError, match=r"corpus_file .*missing\.txt.* is not a file"):
        check_corpus(corpus_file=str(missing))
    with pytest.raises(FileNotFoundError, match=r"corpus_file"):
        check_corpus(corpus_file=str(tmp_path))  # a folder is not a file
    with pytest.raises(TypeError, match=r"corpus_file must be a path"):
        check_corpus(corpus_file=5)


@pytest.mark.parametrize("corpus, error, message", BAD_ITERABLES.values(), ids=BAD_ITERABLES.keys())
def test_constructor_rejects_bad_iterables(corpus, error, message):
    with pytest.raises(error, match=message):
        TorchWord2Vec(sentences=corpus, min_count=1, device="cpu")
    with pytest.raises(error, match=message):
        TorchWord2Vec(min_count=1, device="cpu").build_vocab(corpus)


def test_constructor_rejects_generator_before_any_work():
    started = []

    def sentences():
        started.append(True)
        yield from SENTENCES

    corpus = sentences()
    with pytest.raises(TypeError, match=r"sentences/corpus_iterable is a one-shot generator.*6 passes"):
        TorchWord2Vec(sentences=corpus, min_count=1, device="cpu")  # default epochs=5
    assert not started, "the generator was consumed before the error"
    with pytest.raises(TypeError, match=r"sentences/corpus_iterable is a one-shot list_iterator.*2 passes"):
        TorchWord2Vec(sentences=iter(SENTENCES), min_count=1, epochs=1, device="cpu")


def test_build_vocab_accepts_a_generator_and_train_rejects_it():
    model = TorchWord2Vec(min_count=1, vector_size=4, device="cpu")
    model.build_vocab(_generator())
    assert sorted(model.wv.index_to_key) == ["alpha", "beta", "delta", "epsilon", "gamma"]
    with pytest.raises(TypeError, match=r"sentences/corpus_iterable is a one-shot generator"):
        model.train(_generator(), total_examples=3, epochs=2)


def test_constructor_both_neither_missing(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a b\n")
    with pytest.raises(TypeError, match=r"not both"):
        TorchWord2Vec(sentences=SENTENCES, corpus_file=str(path), min_count=1, device="cpu")
    with pytest.raises(FileNotFoundError, match=r"corpus_file"):
        TorchWord2Vec(corpus_file=str(tmp_path / "nope.txt"), min_count=1, device="cpu")
    model = TorchWord2Vec(min_count=1, device="cpu")  # neither: an untrained model, as gensim
    assert len(model.wv) == 0
    with pytest.raises(TypeError, match=r"either sentences/corpus_iterable or corpus_file must be given"):
        model.build_vocab()


# ---------------------------------------------------------------------- readers


def test_long_sentences_split_for_training_as_gensims_readers(tmp_path):
    long = ["t%d" % i for i in range(25_000)]
    pieces = [piece for s in [long, ["x"] * MAX_SENTENCE_LENGTH, ["y"]] for piece in split_long(s)]
    assert [len(s) for s in pieces] == [10_000, 10_000, 5_000, 10_000, 1]
    assert list(itertools.chain(*pieces[:3])) == long
    path = tmp_path / "long.txt"
    path.write_text(" ".join(long) + "\n")
    assert list(LineSentence(str(path))) == pieces[:3]
    assert list(iter_sentences(corpus_file=str(path))) == pieces[:3]
    vocab = {word: i for i, word in enumerate(long + ["x", "y"])}
    chunks = list(encode_chunks([long, ["x"] * MAX_SENTENCE_LENGTH, ["y"]], vocab, chunk_words=10**6))
    assert [c.sentences for c in chunks] == [3]  # sentences as given, for total_examples
    assert chunks[0].sentence_lengths.tolist() == [10_000, 10_000, 5_000, 10_000, 1]


def test_iter_sentences_rejects_strings_met_later():
    with pytest.raises(TypeError, match=r"sentences/corpus_iterable must yield token lists.*str"):
        list(iter_sentences([["ok"], "not a token list"]))


def _write_lines(path, lines):
    data = "".join(line + "\n" for line in lines).encode("utf8")
    if str(path).endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(data)
    elif str(path).endswith(".bz2"):
        with bz2.open(path, "wb") as f:
            f.write(data)
    elif str(path).endswith(".xz"):
        with lzma.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


def _random_lines(seed, n_lines=60, vocab=40):
    rng = np.random.default_rng(seed)
    words = ["w%d" % i for i in range(vocab)] + ["héllo", "naïve", "日本"]
    lines = []
    for _ in range(n_lines):
        n = int(rng.integers(0, 15))
        lines.append("  ".join(words[i] for i in rng.integers(0, len(words), size=n)))
    lines.append(" ".join(words[i % len(words)] for i in range(12_345)))  # split by the reader
    return lines


@pytest.mark.parametrize("name", ["corpus.txt", "corpus.txt.gz", "corpus.txt.bz2", "corpus.txt.xz"])
def test_corpus_file_formats_equal_linesentence(tmp_path, name):
    path = tmp_path / name
    _write_lines(path, _random_lines(1))
    expected = list(LineSentence(str(path)))
    assert len(expected) > 50 and [len(s) for s in expected[-2:]] == [10_000, 2_345]
    assert list(iter_sentences(corpus_file=str(path))) == expected
    ours = TorchWord2Vec(min_count=2, vector_size=8, device="cpu")
    ours.build_vocab(corpus_file=str(path))
    theirs = Word2Vec(min_count=2, vector_size=8)
    theirs.build_vocab(LineSentence(str(path)))  # gensim's corpus_file refuses compressed files
    assert ours.wv.index_to_key == theirs.wv.index_to_key
    np.testing.assert_array_equal(ours.wv.expandos["count"], theirs.wv.expandos["count"])
    assert (ours.corpus_count, ours.corpus_total_words) == (theirs.corpus_count, theirs.corpus_total_words)


def test_corpus_file_trains_through_constructor(tmp_path):
    path = tmp_path / "corpus.txt.gz"
    _write_lines(path, _random_lines(2, n_lines=200))
    model = TorchWord2Vec(corpus_file=path, min_count=1, epochs=1, vector_size=8, workers=1, device="cpu")
    theirs = Word2Vec(min_count=1, vector_size=8)
    theirs.build_vocab(LineSentence(str(path)))
    assert model.wv.index_to_key == theirs.wv.index_to_key
    assert model.corpus_count == theirs.corpus_count and model.train_count == 1


# ---------------------------------------------------------------------- opening corpus files

@pytest.fixture
def text8_gz(tmp_path):
    """A gzipped text8-style file: one line of space-separated words, no newline."""
    path = tmp_path / "tiny-text8.gz"
    with gzip.open(path, "wt") as fout:
        fout.write(" ".join(["alpha", "beta", "gamma"] * 5))
    return path


@pytest.fixture
def lines_bz2(tmp_path):
    """A bzip2-compressed file of one sentence a line."""
    path = tmp_path / "tiny-lines.bz2"
    with bz2.open(path, "wt") as fout:
        fout.write("the cat sat\non the mat\n")
    return path


def test_single_line_gz_is_text8(text8_gz):
    assert is_text8_format(text8_gz)
    corpus = open_corpus(text8_gz)
    assert isinstance(corpus, Text8File)
    assert list(corpus) == [["alpha", "beta", "gamma"] * 5]


def test_long_first_line_is_text8(tmp_path, monkeypatch):
    path = tmp_path / "long-first-line.txt"
    path.write_text("a b c d e f g h\nsecond line\n")
    assert not is_text8_format(path)
    monkeypatch.setattr(corpus_module, "TEXT8_LINE_BYTES", 8)
    assert is_text8_format(path)


def test_multi_line_bz2_is_line_sentence(lines_bz2):
    assert not is_text8_format(lines_bz2)
    corpus = open_corpus(lines_bz2)
    assert isinstance(corpus, LineSentenceFile)
    assert list(corpus) == [["the", "cat", "sat"], ["on", "the", "mat"]]


def test_limit_words_cuts_every_pass(lines_bz2, text8_gz):
    corpus = open_corpus(lines_bz2, limit_words=4)
    assert list(corpus) == list(corpus) == [["the", "cat", "sat"], ["on"]]
    assert list(open_corpus(text8_gz, limit_words=2)) == [["alpha", "beta"]]
    assert list(WordLimitedCorpus([["a"]], limit=0)) == []
    with pytest.raises(ValueError):
        WordLimitedCorpus([["a"]], limit=-1)


def test_open_corpus_names_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        open_corpus(tmp_path / "nope.txt")


@pytest.mark.parametrize("block_bytes", [5, 64, 1 << 20])
def test_text8_file_yields_what_text8corpus_yields(tmp_path, monkeypatch, block_bytes):
    rng = np.random.default_rng(7)
    words = ["w%d" % i for i in range(50)] + ["naïve", "日本"]
    path = tmp_path / "text8.xz"
    with lzma.open(path, "wt", encoding="utf8") as fout:
        fout.write(" " + " ".join(words[i] for i in rng.integers(0, len(words), size=23_456)))
    monkeypatch.setattr(corpus_module, "READ_BLOCK_BYTES", block_bytes)
    ours = list(Text8File(path))
    assert ours == list(Text8Corpus(str(path)))
    assert [len(s) for s in ours] == [10_000, 10_000, 3_456]


def test_line_file_names_the_line_and_byte_of_invalid_utf8(tmp_path):
    path = tmp_path / "latin1.txt.gz"
    with gzip.open(path, "wb") as fout:
        fout.write("first line\nsecond naïve line\n".encode("latin-1"))
    with pytest.raises(CorpusReadError, match=r"latin1\.txt\.gz: line 2, byte 20 is not UTF-8"):
        list(open_corpus(path))
    with pytest.raises(CorpusReadError, match="line 2, byte 20"):  # corpus_file, as TorchWord2Vec reads it
        TorchWord2Vec(corpus_file=path, min_count=1, device="cpu")


def test_text8_file_names_the_byte_of_invalid_utf8(tmp_path, monkeypatch):
    path = tmp_path / "text8-latin1"
    path.write_bytes(b" alpha beta " * 100 + "caf\xe9".encode("latin-1") + b" gamma")
    monkeypatch.setattr(corpus_module, "READ_BLOCK_BYTES", 64)
    with pytest.raises(CorpusReadError, match=r"text8-latin1: byte 1,203 is not UTF-8"):
        list(open_corpus(path))


@pytest.mark.parametrize("suffix, opener", [(".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)])
@pytest.mark.parametrize("layout", ["lines", "text8"])
def test_truncated_compressed_files_name_the_file_and_offset(tmp_path, suffix, opener, layout):
    text = ("alpha beta gamma\n" * 20_000) if layout == "lines" else " alpha beta gamma" * 70_000
    whole = tmp_path / ("whole" + suffix)
    with opener(whole, "wt") as fout:
        fout.write(text)
    data = whole.read_bytes()
    cut = tmp_path / ("cut" + suffix)
    cut.write_bytes(data[:len(data) // 2])
    reader = LineSentenceFile if layout == "lines" else Text8File
    where = r"line [\d,]+, byte [\d,]+" if layout == "lines" else r"byte [\d,]+"
    message = rf"cut{suffix}: cannot read past {where} of its text, the file is damaged or truncated"
    with pytest.raises(CorpusReadError, match=message):
        list(reader(cut))
    with pytest.raises(CorpusReadError, match=rf"cut{suffix}: cannot read past"):  # bz2: already on opening
        list(open_corpus(cut))


def _assert_trains_like_gensims_vocab(corpus):
    ours = TorchWord2Vec(corpus, min_count=1, epochs=1, vector_size=8, workers=1, device="cpu")
    theirs = Word2Vec(min_count=1, vector_size=8)
    theirs.build_vocab(corpus)
    assert ours.wv.index_to_key == theirs.wv.index_to_key
    np.testing.assert_array_equal(ours.wv.expandos["count"], theirs.wv.expandos["count"])
    assert (ours.corpus_count, ours.corpus_total_words) == (theirs.corpus_count, theirs.corpus_total_words)
    assert ours.train_count == 1 and np.all(np.isfinite(ours.wv.vectors))
    return ours


def test_text8corpus_trains_with_gensims_vocabulary(tmp_path):
    rng = np.random.default_rng(3)
    words = ["anarchism", "originated", "as", "a", "term", "of", "abuse", "first", "used", "against"]
    tokens = [words[i] for i in rng.zipf(1.6, size=23_456) % len(words)]
    path = tmp_path / "text8"
    path.write_text(" " + " ".join(tokens))  # text8: one line, leading space, no newline
    corpus = Text8Corpus(str(path))
    assert [len(s) for s in corpus] == [10_000, 10_000, 3_456]
    model = _assert_trains_like_gensims_vocab(corpus)
    assert model.corpus_count == 3 and model.corpus_total_words == 23_456


def test_pathlinesentences_trains_with_gensims_vocabulary(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    _write_lines(folder / "b.txt", _random_lines(4, n_lines=30))
    _write_lines(folder / "a.txt.gz", _random_lines(5, n_lines=30))
    _write_lines(folder / "c.txt.bz2", ["only in c", "c c c"])
    corpus = PathLineSentences(str(folder))
    model = _assert_trains_like_gensims_vocab(corpus)
    assert "only" in model.wv.key_to_index
    assert model.corpus_count == len(list(corpus))


# ---------------------------------------------------------------------- EncodedCorpus


def _random_corpus(seed, n_sentences=300, vocab=30):
    rng = np.random.default_rng(seed)
    return [["w%d" % i for i in rng.integers(0, vocab, size=int(rng.integers(0, 12)))]
            for _ in range(n_sentences)]


def _key_to_index(vocab=30, drop=(3, 7, 11)):
    keys = ["w%d" % i for i in range(vocab) if i not in drop]
    return {k: i for i, k in enumerate(keys)}


def _as_tuples(chunks):
    return [(c.ids.tolist(), c.sentence_lengths.tolist(), c.raw_words, c.sentences) for c in chunks]


@pytest.mark.parametrize("chunk_words", [1, 17, 50, 10_000])
def test_encoded_corpus_replays_the_first_pass_exactly(tmp_path, chunk_words):
    sentences = _random_corpus(0)
    key_to_index = _key_to_index()
    corpus = EncodedCorpus(sentences, key_to_index, chunk_words=chunk_words, cache_dir=str(tmp_path))
    try:
        first = list(corpus.chunks())
        second = list(corpus.chunks())
        third = list(corpus.chunks())
    finally:
        corpus.close()
    for chunk in first + second:
        assert chunk.ids.dtype == np.int32 and chunk.sentence_lengths.dtype == np.int32
    assert _as_tuples(first) == _as_tuples(second) == _as_tuples(third)

    # contents: OOV tokens dropped from ids and lengths but counted in raw_words
    tokens = [t for s in sentences for t in s]
    assert any(t not in key_to_index for t in tokens)
    ids = np.concatenate([c.ids for c in first])
    assert ids.tolist() == [key_to_index[t] for t in tokens if t in key_to_index]
    lengths = np.concatenate([c.sentence_lengths for c in first])
    assert lengths.tolist() == [sum(t in key_to_index for t in s) for s in sentences]
    assert sum(c.raw_words for c in first) == len(tokens)
    assert sum(c.sentences for c in first) == len(sentences)
    for chunk in first:
        assert chunk.sentence_lengths.sum() == len(chunk.ids) and len(chunk.sentence_lengths) == chunk.sentences

    # chunking: every chunk but the last reaches chunk_words, and ends at the first sentence that does
    position = 0
    for i, chunk in enumerate(first):
        raw = [len(s) for s in sentences[position:position + chunk.sentences]]
        position += chunk.sentences
        assert sum(raw) == chunk.raw_words
        if i < len(first) - 1:
            assert chunk.raw_words >= chunk_words
            assert chunk.raw_words - raw[-1] < chunk_words
    assert position == len(sentences)
    if chunk_words >= 10_000:
        assert len(first) == 1


@pytest.mark.parametrize("chunk_words", [1, 17, 10_000])
def test_scanned_corpus_gives_the_chunks_and_counts_of_reading_the_text(tmp_path, chunk_words):
    sentences = _random_corpus(3) + [[], ["w1"] * (MAX_SENTENCE_LENGTH + 5), ["w40", "w2"]]
    key_to_index = _key_to_index()
    scanned = ScannedCorpus(chunk_words, cache_dir=str(tmp_path))
    counts = scanned.count(iter(sentences))
    expected = Counter()
    for sentence in sentences:
        expected.update(sentence)
    assert list(counts.items()) == list(expected.items())  # same counts, same first-seen order
    from_text = _as_tuples(encode_chunks(sentences, key_to_index, chunk_words))
    assert _as_tuples(scanned.chunks(key_to_index)) == from_text
    corpus = EncodedCorpus(None, key_to_index, chunk_words, scanned=scanned)  # the text is never read
    assert _as_tuples(corpus.chunks()) == from_text == _as_tuples(corpus.chunks())
    assert scanned._file.closed  # dropped after the first pass
    corpus.close()


def test_encoded_corpus_close_removes_the_file_and_re_encodes(tmp_path):
    sentences = _random_corpus(1)
    corpus = EncodedCorpus(sentences, _key_to_index(), chunk_words=40, cache_dir=str(tmp_path))
    first = _as_tuples(corpus.chunks())
    handle = corpus._file
    assert handle is not None and not handle.closed
    corpus.close()
    assert handle.closed and corpus._file is None
    assert list(tmp_path.iterdir()) == []
    again = _as_tuples(corpus.chunks())  # encodes anew from the restartable corpus
    assert again == first and corpus._file is not handle
    corpus.close()
    corpus.close()  # idempotent


def test_encoded_corpus_interrupted_first_pass_starts_over():
    sentences = _random_corpus(2)
    corpus = EncodedCorpus(sentences, _key_to_index(), chunk_words=20)
    complete = _as_tuples(EncodedCorpus(sentences, _key_to_index(), chunk_words=20).chunks())
    partial = list(itertools.islice(corpus.chunks(), 2))
    assert _as_tuples(partial) == complete[:2]
    assert _as_tuples(corpus.chunks()) == complete
    assert _as_tuples(corpus.chunks()) == complete
    corpus.close()


def test_encoded_corpus_edge_cases():
    key_to_index = {"a": 0, "b": 1}
    empty = EncodedCorpus([], key_to_index, chunk_words=5)
    assert list(empty.chunks()) == [] and list(empty.chunks()) == []
    empty.close()
    all_oov = EncodedCorpus([["x", "y"], [], ["z"]], key_to_index, chunk_words=100)
    first, second = _as_tuples(all_oov.chunks()), _as_tuples(all_oov.chunks())
    assert first == second == [([], [0, 0, 0], 3, 3)]
    all_oov.close()


class StreamedCorpus:
    """A restartable corpus generated on the fly, counting the tokens it has produced."""

    WORDS = ["v%d" % i for i in range(1000)]

    def __init__(self, n_sentences):
        self.n_sentences = n_sentences
        self.produced = 0

    def __iter__(self):
        words = self.WORDS
        for i in range(self.n_sentences):
            sentence = [words[(i * 7 + j * 13) % 1000] for j in range(1 + i % 9)]
            self.produced += len(sentence)
            yield sentence


def test_encoded_corpus_streams_a_large_corpus_in_bounded_chunks():
    stream = StreamedCorpus(200_000)
    key_to_index = {w: i for i, w in enumerate(StreamedCorpus.WORDS[:900])}  # 100 OOV words
    chunk_words = 8192
    corpus = EncodedCorpus(iter_sentences(stream), key_to_index, chunk_words=chunk_words)
    consumed = sentences = n_chunks = 0
    try:
        for chunk in corpus.chunks():
            consumed += chunk.raw_words
            sentences += chunk.sentences
            n_chunks += 1
            # bounded: at most chunk_words plus one sentence (<= 9 tokens) per chunk ...
            assert chunk.raw_words <= chunk_words + 8
            # ... and nothing read ahead: the encoder holds only the current chunk's tokens
            assert stream.produced == consumed
            assert len(chunk.ids) < chunk.raw_words
        assert sentences == 200_000 and consumed == stream.produced
        assert n_chunks >= consumed // (chunk_words + 8)
        produced = stream.produced
        replayed = sum(c.raw_words for c in corpus.chunks())
        assert replayed == consumed and stream.produced == produced, "the replay must not re-read the corpus"
    finally:
        corpus.close()


def test_encode_chunks_is_lazy():
    stream = StreamedCorpus(1000)
    chunks = encode_chunks(iter(stream), {"v1": 0}, chunk_words=10)
    assert stream.produced == 0
    first = next(chunks)
    assert 10 <= stream.produced == first.raw_words < 19


# ---------------------------------------------------------------------- context windows


def _random_ids_and_lengths(seed, n_sentences=40):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 12, size=n_sentences)
    lengths[:3] = [0, 1, 2]
    ids = rng.integers(0, 50, size=int(lengths.sum()))
    return ids, lengths


def _reference_windows(ids, lengths, window, reaches=None):
    """Brute force: centers with their contexts in offset order -1, +1, -2, +2, ..., padded with -1."""
    centers, contexts, out_reach = [], [], []
    start = 0
    k = 0
    for length in lengths:
        for p in range(start, start + length):
            if length < 2:
                continue
            reach = window if reaches is None else int(reaches[k])
            k += 1
            row = []
            for distance in range(1, window + 1):
                for sign in (-1, 1):
                    q = p + sign * distance
                    row.append(int(ids[q]) if distance <= reach and start <= q < start + length else -1)
            centers.append(int(ids[p]))
            contexts.append(row)
            out_reach.append(reach)
        start += length
    return centers, contexts, out_reach


@pytest.mark.parametrize("window", [1, 2, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_context_windows_without_shrinking_equal_brute_force(window, seed):
    ids, lengths = _random_ids_and_lengths(seed)
    windows = context_windows(ids, lengths, window=window, shrink_windows=False, rng=np.random.default_rng(0))
    centers, contexts, reach = _reference_windows(ids, lengths, window)
    assert windows.centers.tolist() == centers
    assert windows.contexts.tolist() == contexts
    assert windows.reach.tolist() == reach == [window] * len(centers)
    assert windows.contexts.shape == (len(centers), 2 * window)
    assert np.all(np.any(windows.contexts >= 0, axis=1))


@pytest.mark.parametrize("window", [2, 5])
def test_context_windows_with_shrinking_equal_brute_force_for_their_reach(window):
    ids, lengths = _random_ids_and_lengths(5)
    windows = context_windows(ids, lengths, window=window, shrink_windows=True, rng=np.random.default_rng(1))
    assert np.all((windows.reach >= 1) & (windows.reach <= window))
    centers, contexts, _ = _reference_windows(ids, lengths, window, reaches=windows.reach)
    assert windows.centers.tolist() == centers
    assert windows.contexts.tolist() == contexts


def test_context_windows_handles_empty_input():
    windows = context_windows(np.zeros(0, np.int64), np.zeros(0, np.int64), window=3, shrink_windows=True,
                              rng=np.random.default_rng(0))
    assert len(windows.centers) == 0 and windows.contexts.shape == (0, 6)
    windows = context_windows(np.array([4]), np.array([1]), window=3, shrink_windows=False,
                              rng=np.random.default_rng(0))
    assert len(windows.centers) == 0


def test_shrunk_reach_is_uniform_on_one_to_window():
    window, n = 5, 60_000
    ids = np.arange(n) % 97
    lengths = np.full(n // 20, 20)
    windows = context_windows(ids, lengths, window=window, shrink_windows=True, rng=np.random.default_rng(11))
    assert len(windows.reach) == n
    observed = np.bincount(windows.reach, minlength=window + 1)
    assert observed[0] == 0 and len(observed) == window + 1
    expected = n / window
    chi2 = float(np.sum((observed[1:] - expected) ** 2 / expected))
    assert chi2 < 25.0, observed  # 4 degrees of freedom: p < 1e-4
    assert np.all(np.abs(observed[1:] - expected) < 0.03 * expected)
    other = context_windows(ids, lengths, window=window, shrink_windows=True, rng=np.random.default_rng(12))
    assert not np.array_equal(other.reach, windows.reach)
    same = context_windows(ids, lengths, window=window, shrink_windows=True, rng=np.random.default_rng(11))
    np.testing.assert_array_equal(same.reach, windows.reach)


def test_context_offsets_are_nearest_first():
    assert context_offsets(3).tolist() == [-1, 1, -2, 2, -3, 3]


