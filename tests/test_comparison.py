"""Tests of torchw2v.comparison: corpus detection, the Markdown table, one end-to-end run."""
import bz2
import gzip
import math

import pytest
from gensim.models.word2vec import LineSentence, Text8Corpus
from gensim.test.utils import datapath

from torchw2v import comparison
from torchw2v.comparison import (
    ComparisonResult,
    SideResult,
    WordLimitedCorpus,
    compare,
    format_table,
    is_text8_format,
    open_corpus,
)
from torchw2v.evaluation import Evaluation


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
    assert isinstance(corpus, Text8Corpus)
    assert list(corpus) == [["alpha", "beta", "gamma"] * 5]


def test_long_first_line_is_text8(tmp_path, monkeypatch):
    path = tmp_path / "long-first-line.txt"
    path.write_text("a b c d e f g h\nsecond line\n")
    assert not is_text8_format(path)
    monkeypatch.setattr(comparison, "TEXT8_LINE_BYTES", 8)
    assert is_text8_format(path)


def test_multi_line_bz2_is_line_sentence(lines_bz2):
    assert not is_text8_format(lines_bz2)
    corpus = open_corpus(lines_bz2)
    assert isinstance(corpus, LineSentence)
    assert list(corpus) == [["the", "cat", "sat"], ["on", "the", "mat"]]


def test_limit_words_cuts_every_pass(lines_bz2, text8_gz):
    corpus = open_corpus(lines_bz2, limit_words=4)
    assert list(corpus) == list(corpus) == [["the", "cat", "sat"], ["on"]]
    assert list(open_corpus(text8_gz, limit_words=2)) == [["alpha", "beta"]]
    assert list(WordLimitedCorpus([["a"]], limit=0)) == []
    with pytest.raises(ValueError):
        WordLimitedCorpus([["a"]], limit=-1)


def _side(name, wall_seconds, peak_rss_mib, spearman, accuracy):
    return SideResult(
        name=name,
        wall_seconds=wall_seconds,
        corpus_words=1_000_000,
        epochs=5,
        vocab_size=20_000,
        import_rss_mib=100.0,
        peak_rss_mib=peak_rss_mib,
        evaluation=Evaluation(spearman, spearman, 0.05, accuracy, 12_000),
    )


def test_format_table_on_hand_made_result():
    result = ComparisonResult(
        corpus_path="/data/corpus.gz",
        is_default_corpus=False,
        limit_words=None,
        settings={"sg": 1, "device": "cpu"},
        torchw2v=_side("torchw2v", 2.0, 300.0, 0.66, 0.35),
        gensim=_side("gensim", 4.0, 200.0, 0.65, math.nan),
    )
    table = format_table(result)
    assert table.endswith("\n")
    assert "`/data/corpus.gz`" in table and "`sg=1, device='cpu'`" in table
    assert "embedded default" not in table
    rows = {line.split(" | ")[0].lstrip("| "): line for line in table.splitlines() if line.startswith("| ")}
    assert rows["words/s"] == "| words/s | 2,500,000 | 1,250,000 | 2.00× |"
    assert rows["training wall time, s"] == "| training wall time, s | 2.00 | 4.00 | 0.50× |"
    assert rows["peak RSS, MiB"] == "| peak RSS, MiB | 300 | 200 | 1.50× |"
    assert rows["WordSim-353 Spearman"] == "| WordSim-353 Spearman | 0.660 | 0.650 | +0.010 |"
    assert rows["analogy accuracy, 3CosAdd (top 30,000 words)"] == (
        "| analogy accuracy, 3CosAdd (top 30,000 words) | 35.0% | – | – |")
    assert rows["analogy accuracy, 3CosMul"] == "| analogy accuracy, 3CosMul | – | – | – |"
    header, rule = table.splitlines()[2:4]
    assert header == "| | torchw2v | gensim | torchw2v vs gensim |"
    assert rule == "|---|---:|---:|---:|"


def test_format_table_says_default_corpus():
    side = _side("gensim", 1.0, 100.0, 0.5, 0.1)
    result = ComparisonResult(comparison.DEFAULT_CORPUS, True, 1000, {}, side, side)
    caption = format_table(result).splitlines()[0]
    assert "lee_background.cor" in caption and "small embedded default corpus" in caption
    assert "first 1,000 words only" in caption and "all at their defaults" in caption


def test_compare_rejects_corpus_kwargs():
    with pytest.raises(TypeError, match="corpus_path"):
        compare(sentences=[["a"]])


def test_compare_end_to_end_on_default_corpus(tmp_path):
    pytest.importorskip("torchw2v.word2vec")
    result = compare(epochs=1, vector_size=16, workers=2, device="cpu", save_model=tmp_path / "m.tw2v")
    assert result.is_default_corpus and result.corpus_path == datapath("lee_background.cor")
    assert result.settings == {"epochs": 1, "vector_size": 16, "workers": 2, "device": "cpu"}
    for side in (result.torchw2v, result.gensim):
        assert side.corpus_words == 59890 and side.epochs == 1
        assert side.wall_seconds > 0 and side.words_per_second > 0
        assert side.peak_rss_mib >= side.import_rss_mib > 0
        assert side.evaluation.analogy_questions >= 0
    assert result.torchw2v.name == "torchw2v" and result.gensim.name == "gensim"
    assert result.torchw2v.vocab_size == result.gensim.vocab_size
    assert "small embedded default corpus" in format_table(result)
    from torchw2v import TorchWord2Vec

    assert len(TorchWord2Vec.load(tmp_path / "m.tw2v", device="cpu").wv) == result.torchw2v.vocab_size
