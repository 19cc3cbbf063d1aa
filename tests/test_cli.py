"""Tests of the torchw2v command line."""
import pytest

from torchw2v import cli
from torchw2v.cli import SUBCOMMANDS, build_parser, main


def test_compare_help_lists_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--help"])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    for option in (
        "CORPUS", "--vector-size", "--window", "--min-count", "--sample", "--negative", "--sg", "--hs",
        "--cbow-mean", "--epochs", "--alpha", "--min-alpha", "--workers", "--seed", "--device",
        "--batch-size", "--limit-words", "--out-markdown",
    ):
        assert option in help_text


def test_top_level_help_lists_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in SUBCOMMANDS)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["no-such-subcommand"],
        ["compare", "--no-such-option"],
        ["compare", "--epochs", "zero"],
        ["compare", "--epochs", "0"],
        ["compare", "--sg", "2"],
        ["compare", "--sample", "-1"],
        ["compare", "/no/such/corpus.txt"],
        ["train", "/no/such/corpus.txt", "--out", "m.tw2v"],
        ["train", "--out", "m.tw2v"],
        ["compare", "--optimizer", "rmsprop"],
    ],
)
def test_argument_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_compare_passes_given_settings_only(monkeypatch, tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("a b c\n")
    calls = []

    def fake_compare(corpus_path, **kwargs):
        calls.append((corpus_path, kwargs))
        return "result"

    monkeypatch.setattr(cli, "compare", fake_compare)
    monkeypatch.setattr(cli, "format_table", lambda result: f"| {result} |\n")
    out_markdown = tmp_path / "table.md"
    argv = ["compare", str(corpus), "--sg", "1", "--min-alpha", "0.001", "--batch-size", "64",
            "--limit-words", "100", "--out-markdown", str(out_markdown)]
    assert main(argv) == 0
    assert calls == [(str(corpus), {"limit_words": 100, "verbose": False, "sg": 1, "min_alpha": 0.001,
                                    "batch_size": 64})]
    assert capsys.readouterr().out == "| result |\n"
    assert out_markdown.read_text() == "| result |\n"


def test_compare_without_corpus_uses_default():
    args = build_parser().parse_args(["compare"])
    assert args.corpus is None and args.subcommand is SUBCOMMANDS["compare"]


def test_train_saves_the_model_and_word2vec_vectors(tmp_path, capsys):
    from gensim.models import KeyedVectors
    from gensim.test.utils import datapath

    from torchw2v import TorchWord2Vec

    out = tmp_path / "lee.tw2v"
    argv = ["train", datapath("lee_background.cor"), "--out", str(out), "--epochs", "1", "--vector-size", "16",
            "--device", "cpu", "--compute-loss", "--vectors", "average", "--workers", "1", "--shrink-windows", "0",
            "--max-vocab-size", "100000"]
    assert main(argv) == 0
    model = TorchWord2Vec.load(out, device="cpu")
    assert (model.vector_size, model.epochs, model.workers, model.shrink_windows) == (16, 1, 1, False)
    assert model.max_vocab_size == 100000
    assert len(model.loss_curve.words) > 0
    vectors = KeyedVectors.load_word2vec_format(str(tmp_path / "lee.vectors.txt"))
    assert vectors.index_to_key == model.wv.index_to_key
    import numpy as np

    np.testing.assert_allclose(vectors.vectors, (model.wv.vectors + model.syn1neg) / 2, atol=1e-5)
    assert str(tmp_path / "lee.vectors.txt") in capsys.readouterr().out


def test_train_help_lists_every_main_argument(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = capsys.readouterr().out
    for option in ("CORPUS", "--out", "--vector-size", "--ns-exponent", "--max-final-vocab", "--optimizer",
                   "--optimizer-lr", "--compute-loss", "--vectors", "--vectors-out", "--binary", "--device",
                   "--max-vocab-size", "--shrink-windows", "--batch-words", "--dtype", "--distributed",
                   "--sync-words", "--dist-timeout"):
        assert option in help_text
