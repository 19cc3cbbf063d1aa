"""Tests of the torchw2v command line."""
import pickle
import subprocess
import sys

import pytest
from gensim.test.utils import datapath

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
    assert calls == [(str(corpus), {"limit_words": 100, "verbose": False, "progress": "log", "sg": 1,
                                    "min_alpha": 0.001, "batch_size": 64})]
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


def test_unwritable_output_stops_before_any_training(tmp_path, capsys, monkeypatch):
    trained = []
    monkeypatch.setattr("torchw2v.TorchWord2Vec", lambda *args, **kwargs: trained.append(1))
    lee = datapath("lee_background.cor")
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o500)
    cases = [
        (["train", lee, "--out", str(tmp_path / "missing" / "m.tw2v")], "missing is not a folder"),
        (["train", lee, "--out", str(tmp_path)], "is a folder"),
        (["train", lee, "--out", str(tmp_path / "m.tw2v"), "--vectors-out", str(tmp_path / "no" / "v.txt")],
         "argument --vectors-out"),
        (["report", lee, "--out", str(datapath("lee_background.cor"))], "exists and is not a folder"),
        (["compare", lee, "--out-markdown", str(tmp_path / "missing" / "t.md")], "argument --out-markdown"),
    ]
    try:
        probe = read_only / "probe"
        writable_anyway = not _cannot_create(probe)  # root ignores the folder's permissions
        if not writable_anyway:
            cases.append((["report", lee, "--out", str(read_only / "sub" / "report")], "no file can be created"))
        for argv, message in cases:
            with pytest.raises(SystemExit) as exit_info:
                main(argv)
            assert exit_info.value.code == 2
            assert message in capsys.readouterr().err
    finally:
        read_only.chmod(0o700)
    assert trained == []


def _cannot_create(path):
    try:
        path.touch()
    except OSError:
        return True
    path.unlink()
    return False


RUNTIME_ERRORS = {
    "unavailable device": (["--device", "cuda:7"], "device"),
    "min_count above every count": (["--min-count", "1000000"], "min_count"),
}


@pytest.mark.parametrize("options, word", RUNTIME_ERRORS.values(), ids=RUNTIME_ERRORS.keys())
def test_runtime_errors_print_one_line_and_exit_1(options, word, tmp_path, capsys):
    argv = ["train", datapath("lee_background.cor"), "--out", str(tmp_path / "m.tw2v"), "--epochs", "1",
            "--workers", "1", *options]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("torchw2v train: error: ") and word in err[0]
    assert "--debug shows the traceback" in err[0] and "Traceback" not in err[0]


@pytest.mark.parametrize("option, value", [("--alpha", "0"), ("--ns-exponent", "nan"), ("--cpu-kernel", "gpu"),
                                           ("--window", "five")])
def test_settings_are_checked_by_their_spec_before_training(option, value, tmp_path, capsys):
    argv = ["train", datapath("lee_background.cor"), "--out", str(tmp_path / "m.tw2v"), option, value]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: {option[2:].replace('-', '_')}: {value!r} is not a valid value" in err
    assert not (tmp_path / "m.tw2v").exists()


def test_debug_keeps_the_traceback(tmp_path):
    corpus = tmp_path / "empty.txt"
    corpus.write_text("\n")
    with pytest.raises(Exception):  # whatever the model raises, let through
        main(["train", str(corpus), "--out", str(tmp_path / "m.tw2v"), "--debug"])


def test_empty_corpus_and_damaged_corpus_are_one_line_errors(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    assert main(["train", str(empty), "--out", str(tmp_path / "m.tw2v")]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    damaged = tmp_path / "corpus.txt.gz"
    damaged.write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(200)))
    assert main(["train", str(damaged), "--out", str(tmp_path / "m.tw2v")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "corpus.txt.gz" in err[0] and "damaged or truncated" in err[0]


class _Payload:
    """Unpickling this creates the file ``marker``: proof that code from a file ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


@pytest.mark.parametrize("name, options", [("vectors.txt", []), ("vectors.bin", []), ("model.tw2v", ["--format",
                                                                                                       "text"])])
def test_evaluate_never_unpickles_a_vectors_file(name, options, tmp_path, capsys):
    marker = tmp_path / "payload-ran"
    crafted = tmp_path / name
    crafted.write_bytes(pickle.dumps(_Payload(marker)))
    assert main(["evaluate", str(crafted), *options]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{crafted} is not a word2vec" in err[0]
    assert not marker.exists()


def test_evaluate_help_says_a_model_file_runs_code(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--format {text,binary,model}" in help_text and "runs code from it" in help_text


def test_quiet_shows_nothing_on_stderr(tmp_path):
    argv = [sys.executable, "-m", "torchw2v", "train", datapath("lee_background.cor"), "--out",
            str(tmp_path / "m.tw2v"), "--epochs", "1", "--workers", "1", "--quiet"]
    result = subprocess.run(argv, capture_output=True, text=True, check=True)
    assert result.stderr == "" and "model:" in result.stdout
    result = subprocess.run(argv[:-1], capture_output=True, text=True, check=True)
    assert "torchw2v.trainer INFO: EPOCH 0: training on" in result.stderr
