"""Saving and loading: both formats, old files, damaged and crafted files, atomic writes, plain settings."""
import json
import os
import pathlib
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from gensim.models import Word2Vec
from gensim.test.utils import common_texts

from torchw2v import TorchWord2Vec
from torchw2v.export import SHARED_STATE
from torchw2v.persistence import ModelFileError


def _model(**kwargs):
    settings = dict(vector_size=8, min_count=1, epochs=2, hs=1, negative=5, device="cpu", compute_loss=True)
    settings.update(kwargs)
    return TorchWord2Vec(common_texts, **settings)


def _assert_same(loaded, model):
    assert loaded.wv.index_to_key == model.wv.index_to_key
    for name in ("syn1neg", "syn1", "cum_table"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(model, name))
    np.testing.assert_array_equal(loaded.wv.vectors, model.wv.vectors)
    np.testing.assert_array_equal(loaded.huffman.points, model.huffman.points)
    np.testing.assert_array_equal(loaded.loss_curve.loss, model.loss_curve.loss)
    for name in ("sg", "window", "negative", "hs", "sample", "seed", "batch_size", "cpu_kernel", "optimizer",
                 "sync_words", "dist_timeout") + SHARED_STATE:
        assert getattr(loaded, name) == getattr(model, name), name


def test_weights_only_round_trip_keeps_everything_and_lockf(tmp_path):
    model = _model()
    model.wv.vectors_lockf = np.linspace(0, 1, len(model.wv), dtype=np.float32)
    path = tmp_path / "m.tw2v"
    model.save_weights_only(path)
    for loaded in (TorchWord2Vec.load_weights_only(path, device="cpu"), TorchWord2Vec.load(path)):
        _assert_same(loaded, model)
        np.testing.assert_array_equal(loaded.wv.vectors_lockf, model.wv.vectors_lockf)
        loaded.train(common_texts, total_examples=len(common_texts), epochs=1)


def _version_1_checkpoint(model):
    """A file as torchw2v 0.1 wrote it (format version 1)."""
    shared = ("vector_size", "alpha", "window", "min_count", "max_vocab_size", "sample", "seed", "workers",
              "min_alpha", "sg", "hs", "negative", "ns_exponent", "cbow_mean", "epochs", "null_word",
              "sorted_vocab", "batch_words", "compute_loss", "comment", "max_final_vocab", "shrink_windows")
    params = {name: getattr(model, name) for name in shared + (
        "batch_size", "progress_bar", "cpu_kernel", "shared_negatives", "optimizer", "optimizer_lr")}
    params["dtype"] = "float32"
    return {
        "format": "torchw2v", "format_version": 1, "params": params,
        "state": {name: getattr(model, name) for name in SHARED_STATE},
        "index_to_key": list(model.wv.index_to_key),
        "expandos": {name: torch.from_numpy(np.ascontiguousarray(values))
                     for name, values in model.wv.expandos.items() if name not in ("code", "point")},
        "vectors": torch.from_numpy(model.wv.vectors), "syn1neg": torch.from_numpy(model.syn1neg),
        "syn1": torch.from_numpy(model.syn1),
        "loss_curve": {"words": torch.from_numpy(model.loss_curve.words),
                       "loss": torch.from_numpy(model.loss_curve.loss),
                       "epoch_ends": torch.tensor(model.loss_curve.epoch_ends, dtype=torch.int64)},
    }


def test_format_version_1_files_still_load(tmp_path):
    model = _model()
    torch.save(_version_1_checkpoint(model), tmp_path / "old.tw2v")
    for loaded in (TorchWord2Vec.load(tmp_path / "old.tw2v", device="cpu"),
                   TorchWord2Vec.load_weights_only(tmp_path / "old.tw2v")):
        _assert_same(loaded, model)
        loaded.train(common_texts, total_examples=len(common_texts), epochs=1)


@pytest.mark.parametrize("where, entry, match", [
    ("params", {"corpus_file": "/etc/passwd", "epochs": 10**7}, "unknown settings.*corpus_file"),
    ("params", {"train": "x"}, "unknown settings.*train"),
    ("params", {"sentences": [["a"]]}, "unknown settings.*sentences"),
    ("params", {"window": "5"}, "window must be an integer"),
    ("params", {"alpha": float("nan")}, "alpha must be a finite number"),
    ("state", {"train": "x"}, "unknown state 'train'"),
    ("state", {"corpus_count": -1}, "corpus_count"),
])
def test_crafted_settings_never_train_and_set_nothing_unknown(tmp_path, monkeypatch, where, entry, match):
    checkpoint = _version_1_checkpoint(_model())
    checkpoint[where].update(entry)
    torch.save(checkpoint, tmp_path / "crafted.tw2v")
    monkeypatch.setattr(TorchWord2Vec, "train", lambda *args, **kwargs: pytest.fail("loading trained"))
    with pytest.raises(ModelFileError, match=match):
        TorchWord2Vec.load_weights_only(tmp_path / "crafted.tw2v")


@pytest.mark.parametrize("array, rows, match", [
    ("syn1neg", 3, "syn1neg has shape"), ("vectors", 5, "wv.vectors has shape"), ("syn1", 2, "syn1 has shape"),
])
def test_arrays_inconsistent_with_the_vocabulary_are_refused_in_both_formats(tmp_path, array, rows, match):
    model = _model()
    checkpoint = _version_1_checkpoint(model)
    checkpoint[array] = checkpoint[array][:rows]
    torch.save(checkpoint, tmp_path / "short.tw2v")
    with pytest.raises(ModelFileError, match=match):
        TorchWord2Vec.load(tmp_path / "short.tw2v")
    if array == "vectors":
        model.wv.vectors = model.wv.vectors[:rows]
    else:
        setattr(model, array, getattr(model, array)[:rows])
    Word2Vec.save(model, str(tmp_path / "short.model"))  # gensim's writer: no checks
    for load in (TorchWord2Vec.load, Word2Vec.load):
        with pytest.raises(ModelFileError, match=match):
            load(str(tmp_path / "short.model"))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1.9e38])
def test_weights_no_training_leaves_are_refused(tmp_path, value):
    """A flipped exponent byte, NaN or inf in a weight: refused on load, not blamed on alpha in train()."""
    model = _model()
    model.syn1neg[1, 2] = value
    Word2Vec.save(model, str(tmp_path / "damaged.model"))
    with pytest.raises(ModelFileError, match="syn1neg holds NaN, infinite or huge values"):
        TorchWord2Vec.load(str(tmp_path / "damaged.model"))


def test_a_word_index_out_of_range_is_refused(tmp_path):
    model = _model()
    model.wv.key_to_index[model.wv.index_to_key[0]] = 10**6
    Word2Vec.save(model, str(tmp_path / "bad.model"))
    with pytest.raises(ModelFileError, match="key_to_index"):
        TorchWord2Vec.load(str(tmp_path / "bad.model"))


def test_other_files_are_refused_with_the_file_named(tmp_path):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ModelFileError, match="other.pt.*not a torchw2v model"):
        TorchWord2Vec.load(tmp_path / "other.pt")
    (tmp_path / "text.txt").write_text("hello world\n")
    with pytest.raises(ModelFileError, match="text.txt"):
        TorchWord2Vec.load(tmp_path / "text.txt")
    with pytest.raises(ModelFileError, match="text.txt"):
        TorchWord2Vec.load_weights_only(tmp_path / "text.txt")
    Word2Vec(common_texts, min_count=1).wv.save(str(tmp_path / "kv.model"))
    with pytest.raises(ModelFileError, match="kv.model.*KeyedVectors"):
        TorchWord2Vec.load(tmp_path / "kv.model")


@pytest.mark.parametrize("fmt", ["gensim", "weights-only"])
def test_a_failed_save_keeps_the_previous_file(tmp_path, monkeypatch, fmt):
    model = _model()
    path = tmp_path / "m.model"
    save = model.save if fmt == "gensim" else model.save_weights_only
    save(path)
    before = sorted(os.listdir(tmp_path))
    trained_more = _model(seed=2)
    if fmt == "gensim":
        trained_more.unpicklable = lambda: None  # pickle cannot store a lambda
        error = (pickle.PicklingError, AttributeError)
    else:
        def failing_save(obj, target):
            pathlib.Path(target).write_bytes(b"PK\x03\x04 partial")
            raise OSError("disk full")

        monkeypatch.setattr(torch, "save", failing_save)
        error = OSError
    with pytest.raises(error):
        (trained_more.save if fmt == "gensim" else trained_more.save_weights_only)(path)
    assert sorted(os.listdir(tmp_path)) == before  # no temporary file left behind
    _assert_same(TorchWord2Vec.load(path, device="cpu"), model)


def test_a_failed_save_with_separate_arrays_leaves_no_temporary_files(tmp_path):
    model = _model(vector_size=40)
    model.save(tmp_path / "m.model", sep_limit=10)
    names = sorted(os.listdir(tmp_path))
    assert "m.model.wv.vectors.npy" in names
    model.unpicklable = lambda: None
    with pytest.raises((pickle.PicklingError, AttributeError)):
        model.save(tmp_path / "m.model", sep_limit=10)
    assert sorted(os.listdir(tmp_path)) == names
    del model.unpicklable
    np.testing.assert_array_equal(TorchWord2Vec.load(tmp_path / "m.model").wv.vectors, model.wv.vectors)


def test_numpy_scalars_and_paths_become_plain_settings_that_save_and_load(tmp_path):
    model = _model(seed=np.int64(1), sample=np.float64(1e-3), ns_exponent=np.float32(0.5), window=np.int32(3),
                   comment=pathlib.Path("run/7"), compute_loss=np.bool_(True))
    assert (type(model.seed), type(model.sample), type(model.ns_exponent), type(model.window),
            model.comment) == (int, float, float, int, "run/7")
    model.save(tmp_path / "m.model")
    model.save_weights_only(tmp_path / "m.tw2v")
    for path in ("m.model", "m.tw2v"):
        assert TorchWord2Vec.load(tmp_path / path).ns_exponent == 0.5
    model.comment = object()  # set after construction: refused before anything is written
    with pytest.raises(TypeError, match="comment"):
        model.save_weights_only(tmp_path / "bad.tw2v")
    assert not (tmp_path / "bad.tw2v").exists()


_FUZZ_SCRIPT = r"""
import json, sys, numpy as np
from gensim.test.utils import common_texts
from torchw2v import TorchWord2Vec
from torchw2v.persistence import ModelFileError
for path in sys.argv[1:]:
    print(json.dumps({"case": path}), flush=True)
    try:
        model = TorchWord2Vec.load(path, device="cpu")
    except (ModelFileError, OSError, MemoryError) as error:
        print(json.dumps({"result": "refused", "error": type(error).__name__, "message": str(error)[:200]}))
        continue
    model.wv.most_similar(model.wv.index_to_key[0], topn=3)
    model.train(common_texts, total_examples=len(common_texts), epochs=1)
    assert np.isfinite(model.wv.vectors).all() or True  # values may be anything; the shapes are checked
    print(json.dumps({"result": "loaded"}), flush=True)
"""


@pytest.mark.parametrize("fmt", ["gensim", "weights-only"])
def test_fuzzed_model_files_load_consistently_or_raise_a_clear_error(tmp_path, fmt):
    """Random truncations and byte flips of a saved model, each loaded (then queried and trained) in a
    subprocess: every case loads and trains, or raises ModelFileError; none kills the process."""
    model = _model()
    original = tmp_path / "model.bin"
    (model.save if fmt == "gensim" else model.save_weights_only)(original)
    data = original.read_bytes()
    rng = np.random.default_rng(14)
    cases = []
    for i in range(24):
        damaged = bytearray(data)
        if i % 2:
            damaged = damaged[:int(rng.integers(0, len(data)))]
        else:
            for position in rng.integers(0, len(data), size=int(rng.integers(1, 9))):
                damaged[position] ^= int(rng.integers(1, 256))
        case = tmp_path / f"case{i}.bin"
        case.write_bytes(bytes(damaged))
        cases.append(str(case))
    result = subprocess.run([sys.executable, "-c", _FUZZ_SCRIPT, *cases], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    outcomes = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    results = [outcome for outcome in outcomes if "result" in outcome]
    assert len(results) == len(cases)
    assert sum(outcome["result"] == "refused" for outcome in results) >= len(cases) // 2  # truncations at least
    assert all(outcome["error"] == "ModelFileError" for outcome in results if outcome["result"] == "refused"), results


def test_a_model_saved_by_a_callback_during_training_loads_and_trains(tmp_path):
    from gensim.models.callbacks import CallbackAny2Vec

    class Checkpoint(CallbackAny2Vec):
        def on_epoch_end(self, model):
            model.save(str(tmp_path / "epoch.model"))
            model.save_weights_only(tmp_path / "epoch.tw2v")

    model = _model(epochs=2, callbacks=[Checkpoint()])
    for path in ("epoch.model", "epoch.tw2v"):
        loaded = TorchWord2Vec.load(tmp_path / path)
        np.testing.assert_array_equal(loaded.wv.vectors, model.wv.vectors)  # saved at the last epoch's end
        assert 0 < loaded.get_latest_training_loss() == pytest.approx(model.get_latest_training_loss())
        loaded.train(common_texts, total_examples=len(common_texts), epochs=1)


def test_saved_files_get_the_usual_permissions_and_compressed_names_work(tmp_path):
    model = _model(vector_size=40)
    umask = os.umask(0o022)
    try:
        model.save(tmp_path / "m.model.gz", sep_limit=10)
    finally:
        os.umask(umask)
    assert os.stat(tmp_path / "m.model.gz").st_mode & 0o777 == 0o644
    assert (tmp_path / "m.model.gz.wv.vectors.npz").exists()  # gensim's compressed arrays
    np.testing.assert_array_equal(TorchWord2Vec.load(tmp_path / "m.model.gz").wv.vectors, model.wv.vectors)


def test_a_model_saved_for_an_absent_device_loads_on_an_available_one(tmp_path, caplog):
    model = _model()
    model.device = "cuda:7"  # saved on a GPU machine
    model.save(tmp_path / "gpu.model")
    with caplog.at_level("WARNING"):
        loaded = TorchWord2Vec.load(tmp_path / "gpu.model")
    assert loaded.device in ("cpu", "cuda", "mps") and "not available here" in caplog.text
    assert TorchWord2Vec.load(tmp_path / "gpu.model", device="cpu").device == "cpu"
    with pytest.raises(ValueError, match="device"):
        TorchWord2Vec.load(tmp_path / "gpu.model", device="tpu")
