"""The report folder, and the evaluate/report subcommands that use it."""
import pytest
from gensim.models import Word2Vec
from gensim.test.utils import common_texts, datapath

from torchw2v.cli import main
from torchw2v.datasets import lee_corpus
from torchw2v.evaluation import evaluate
from torchw2v.report import neighbours_table, worked_analogies, write_report
from torchw2v.vector_files import load_word_vectors

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    return write_report(lee_corpus(), folder, with_gensim=False, epochs=2, vector_size=24, workers=1, device="cpu",
                        seed=3)


def test_report_folder_has_markdown_figures_and_model(report):
    assert sorted(path.name for path in report.folder.iterdir()) == [
        "frequency.png", "loss.png", "model.tw2v", "report.md", "wordsim353.png"]  # no PCA: Lee lacks the words
    for path in report.figures.values():
        assert path.read_bytes().startswith(PNG_SIGNATURE)
    text = report.markdown.read_text()
    for section in ("# torchw2v training report\n\n**Verdict.** torchw2v trained at ", "## Machine and versions",
                    "## Quality of the word vectors", "## Nearest neighbours", "## Analogies (3CosAdd)", "![",
                    "lee_background.cor", "59,890 words × 2 epochs", "CPU core", "gensim 4.", "Python 3."):
        assert section in text
    assert "## torchw2v and gensim" not in text and "side by side" not in text and report.comparison is None
    assert "gensim was not trained for comparison" in text


def test_report_scores_input_average_and_concatenated_vectors(report):
    from torchw2v import TorchWord2Vec

    model = TorchWord2Vec.load(report.folder / "model.tw2v", device="cpu")
    assert list(report.scores) == ["input", "average", "concat"]
    assert report.scores["input"] == evaluate(model.wv, restrict_vocab=30000)
    assert report.scores["average"] == evaluate(model.keyed_vectors("average"), restrict_vocab=30000)
    assert all(s.wordsim_pairs_total == 353 and 0 < s.wordsim_pairs < 353 for s in report.scores.values())
    assert len(model.loss_curve.words) > 0  # the loss is always recorded for the figure


def test_worked_analogies_answer_with_most_similar():
    model = Word2Vec(common_texts, min_count=1, vector_size=8, seed=1, workers=1)
    (expression, answers), = worked_analogies(model.wv, examples=((("graph", "user"), ("trees",), "eps"),), topn=2)
    assert expression == "graph - trees + user = eps?"
    assert answers == [(w, pytest.approx(s)) for w, s in
                       model.wv.most_similar(positive=["graph", "user"], negative=["trees"], topn=2)]


def test_neighbours_table_puts_the_sides_in_columns():
    table = neighbours_table({"torchw2v": {"king": [("queen", 0.75)]},
                              "gensim": {"king": [("prince", 0.7)], "paris": [("rome", 0.6)]}})
    assert table == ["| word | torchw2v | gensim |", "|---|---|---|", "| king | queen (0.75) | prince (0.70) |",
                     "| paris | not in the vocabulary | rome (0.60) |"]


def test_report_command_with_gensim_prints_table_and_folder(tmp_path, capsys):
    argv = ["report", datapath("lee_background.cor"), "--out", str(tmp_path / "r"), "--epochs", "1",
            "--vector-size", "16", "--workers", "1", "--device", "cpu"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "| words/s |" in out and f"report written to {tmp_path / 'r' / 'report.md'}" in out
    text = (tmp_path / "r" / "report.md").read_text()
    assert "## torchw2v and gensim, same corpus and settings" in text
    assert "as fast as gensim** with **" in text and "its peak memory**, and its word vectors score" in text
    assert "| word | torchw2v | gensim |" in text and "| gensim, input vectors |" in text
    assert sorted(path.name for path in (tmp_path / "r").iterdir()) == [
        "frequency.png", "gensim-vectors.bin", "loss.png", "model.tw2v", "report.md", "wordsim353.png"]


def test_evaluate_command_on_a_model_and_on_word2vec_files(report, tmp_path, capsys):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("# my pairs\nthe\tof\t3.0\nsaid\twas\t5.5\nthe\tzzzz\t1.0\n")
    model_path = str(report.folder / "model.tw2v")
    assert main(["evaluate", model_path, "--pairs", str(pairs), "--neighbours", "the", "notaword"]) == 0
    out = capsys.readouterr().out
    assert "| WordSim-353 Spearman |" in out and "| analogies, 3CosMul |" in out
    assert f"| {pairs} Spearman |" in out and "67% of pairs" in out
    assert "| the |" in out and "notaword" not in out
    text_vectors = tmp_path / "v.txt"
    load_word_vectors(model_path, kind="concat").save_word2vec_format(str(text_vectors))
    assert load_word_vectors(str(text_vectors)).vector_size == 48
    binary = tmp_path / "v.bin"
    load_word_vectors(model_path).save_word2vec_format(str(binary), binary=True)
    assert main(["evaluate", str(binary), "--neighbours"]) == 0
    assert "24 dimensions" in capsys.readouterr().out
    with pytest.raises(ValueError, match="is not a word2vec text file"):
        load_word_vectors(str(pairs))


def test_report_help_is_complete(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for option in ("CORPUS", "--out", "--no-gensim", "--limit-words", "--sg", "--optimizer", "best available corpus"):
        assert option in help_text


@pytest.mark.parametrize("ours, phrase", [((0.45, 0.085), "score as gensim's do"),
                                          ((0.50, 0.100), "score higher than gensim's"),
                                          ((0.40, 0.050), "score lower than gensim's"),
                                          ((0.50, 0.050), "score differently from gensim's")])
def test_verdict_states_speed_memory_and_quality_against_gensim(ours, phrase):
    import math
    from types import SimpleNamespace

    from torchw2v.comparison import ComparisonResult, SideResult
    from torchw2v.datasets import ResolvedCorpus
    from torchw2v.evaluation import Evaluation
    from torchw2v.report import _verdict

    def side(name, seconds, rss, spearman, accuracy):
        return SideResult(name, seconds, 2_000_000, 5, 21_681, 116.0, rss,
                          Evaluation(spearman, spearman, 303, 353, accuracy, math.nan, 8_995))

    comparison = ComparisonResult("s.xz", "the sample", None, {"sg": 1}, side("torchw2v", 25.0, 180.0, *ours),
                                  side("gensim", 50.0, 150.0, 0.44, 0.08))
    model = SimpleNamespace(corpus_total_words=2_000_000, epochs=5, sg=1, negative=5, hs=0, vector_size=100,
                            window=5, min_count=5, sample=0.001, alpha=0.025, workers=3)
    text = _verdict(ResolvedCorpus("s.xz", "the sample"), model, comparison, {}, None)
    assert text.startswith("**Verdict.** torchw2v trained **2.00× as fast as gensim** with **1.20× its peak "
                           f"memory**, and its word vectors {phrase}: WordSim-353 Spearman {ours[0]:.3f} against 0.440 (")
    assert "Corpus: the sample; 2,000,000 words × 5 epochs. Settings: skip-gram with negative sampling" in text
    assert "400,000 against 200,000 words/s (25.0 s against 50.0 s" in text and "180 against 150 MiB" in text
