"""Tests of torchw2v.comparison: the Markdown table, one end-to-end run."""
import math

import numpy as np
import pytest
from gensim.models import KeyedVectors
from gensim.test.utils import datapath

from torchw2v.comparison import ComparisonResult, SideResult, compare, format_table
from torchw2v.datasets import lee_corpus
from torchw2v.evaluation import Evaluation


def _side(name, wall_seconds, peak_rss_mib, spearman, accuracy):
    return SideResult(
        name=name,
        wall_seconds=wall_seconds,
        corpus_words=1_000_000,
        epochs=5,
        vocab_size=20_000,
        import_rss_mib=100.0,
        peak_rss_mib=peak_rss_mib,
        evaluation=Evaluation(spearman, spearman, 340, 353, accuracy, math.nan, 12_000),
    )


def test_format_table_on_hand_made_result():
    result = ComparisonResult(
        corpus_path="/data/corpus.gz",
        corpus_description="`/data/corpus.gz`",
        limit_words=None,
        settings={"sg": 1, "device": "cpu"},
        torchw2v=_side("torchw2v", 2.0, 300.0, 0.66, 0.35),
        gensim=_side("gensim", 4.0, 200.0, 0.65, math.nan),
    )
    table = format_table(result)
    assert table.endswith("\n")
    assert "`/data/corpus.gz`" in table and "`sg=1, device='cpu'`" in table
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


def test_format_table_caption_describes_the_corpus():
    side = _side("gensim", 1.0, 100.0, 0.5, 0.1)
    result = ComparisonResult("/x/text8-2m.xz", "the text8 sample (Wikipedia, CC BY-SA)", 1000, {}, side, side)
    caption = format_table(result).splitlines()[0]
    assert caption.startswith("Corpus: the text8 sample (Wikipedia, CC BY-SA), first 1,000 words only.")
    assert "all at their defaults" in caption


def test_compare_rejects_corpus_kwargs():
    with pytest.raises(TypeError, match="corpus_path"):
        compare(sentences=[["a"]])


def test_compare_end_to_end_on_the_lee_corpus(tmp_path):
    result = compare(lee_corpus(), epochs=1, vector_size=16, workers=2, device="cpu", save_model=tmp_path / "m.tw2v",
                     save_gensim_vectors=tmp_path / "gensim.bin")
    assert result.corpus_path == datapath("lee_background.cor") and result.corpus_description.endswith(".cor`")
    assert result.settings == {"epochs": 1, "vector_size": 16, "workers": 2, "device": "cpu"}
    for side in (result.torchw2v, result.gensim):
        assert side.corpus_words == 59890 and side.epochs == 1
        assert side.wall_seconds > 0 and side.words_per_second > 0
        assert side.peak_rss_mib >= side.import_rss_mib > 0
        assert side.evaluation.analogy_questions >= 0
    assert result.torchw2v.name == "torchw2v" and result.gensim.name == "gensim"
    assert result.torchw2v.vocab_size == result.gensim.vocab_size
    from torchw2v import TorchWord2Vec

    model = TorchWord2Vec.load(tmp_path / "m.tw2v", device="cpu")
    gensim_vectors = KeyedVectors.load_word2vec_format(str(tmp_path / "gensim.bin"), binary=True)
    assert model.wv.index_to_key == gensim_vectors.index_to_key and len(model.wv) == result.torchw2v.vocab_size
    assert not np.allclose(model.wv.vectors, gensim_vectors.vectors)  # each side saved its own
