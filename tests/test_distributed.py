"""Distributed training: two Gloo processes on 127.0.0.1, as ``torchrun`` would start them.

Each scenario runs ``tests/distributed_worker.py`` as two processes (ranks 0 and 1), joined
with a timeout of their own so that a failure never hangs the suite.
"""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch.distributed as dist
from gensim.models import KeyedVectors
from gensim.models.word2vec import LineSentence
from gensim.test.utils import datapath

from torchw2v import TorchWord2Vec
from torchw2v.distributed import (
    TORCHRUN_VARIABLES, CorpusDigest, DistributedTrainingError, get_world_size_and_rank, shard, vocabulary_digest,
)

WORKER = Path(__file__).with_name("distributed_worker.py")
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(WORKER.parent))
from distributed_worker import HANG_TIMEOUT, LEE_SETTINGS, ONE_SENTENCE  # noqa: E402

#: Seconds a scenario's processes may take before the test kills them.
SCENARIO_TIMEOUT = 90


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_ranks(scenario, out_dir, world_size=2, stop_with_rank_0=False):
    """Run ``scenario`` as ``world_size`` processes; returns each rank's (return code, stderr, result).

    With ``stop_with_rank_0``, the other ranks are killed once rank 0 has exited.
    """
    env = {**os.environ, "WORLD_SIZE": str(world_size), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port()),
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    processes = []
    for rank in range(world_size):
        with open(out_dir / f"stderr{rank}.txt", "w") as stderr:
            processes.append(subprocess.Popen([sys.executable, str(WORKER), scenario, str(out_dir)],
                                              env={**env, "RANK": str(rank), "LOCAL_RANK": str(rank)},
                                              stdout=subprocess.DEVNULL, stderr=stderr))
    try:
        processes[0].wait(timeout=SCENARIO_TIMEOUT)
        for process in processes[1:]:
            if stop_with_rank_0 and process.poll() is None:
                process.kill()
            process.wait(timeout=SCENARIO_TIMEOUT)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    outcomes = []
    for rank, process in enumerate(processes):
        result = out_dir / f"rank{rank}.json"
        outcomes.append((process.returncode, (out_dir / f"stderr{rank}.txt").read_text(),
                         json.loads(result.read_text()) if result.exists() else None))
    return outcomes


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The ``train`` scenario's output folder and per-rank outcomes."""
    out_dir = tmp_path_factory.mktemp("distributed")
    outcomes = run_ranks("train", out_dir)
    for rank, (code, stderr, _) in enumerate(outcomes):
        assert code == 0, f"rank {rank} failed:\n{stderr[-3000:]}"
    return out_dir, outcomes


def test_training_finishes_with_the_whole_corpus_counted_on_every_rank(trained):
    _, outcomes = trained
    lee = list(LineSentence(datapath("lee_background.cor")))
    for _, _, result in outcomes:
        assert result["corpus_count"] == len(lee)
        assert result["corpus_total_words"] == sum(map(len, lee))
        assert result["raw"] == LEE_SETTINGS["epochs"] * sum(map(len, lee))
    assert outcomes[0][2]["index_to_key"] == outcomes[1][2]["index_to_key"]


def test_every_rank_ends_with_the_same_weights(trained):
    out_dir, _ = trained
    for name in ("vectors", "syn1neg", "tiny", "device"):
        np.testing.assert_array_equal(np.load(out_dir / f"{name}-rank0.npy"), np.load(out_dir / f"{name}-rank1.npy"))
    device_path = np.load(out_dir / "device-rank0.npy")
    assert np.isfinite(device_path).all() and np.abs(device_path).max() > 0.05  # trained, not the initial vectors


def _similarities(wv, words):
    vectors = wv[words]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors @ vectors.T)[np.triu_indices(len(words), 1)]


def test_quality_is_close_to_a_single_process_run(trained):
    """The cosine similarities among 300 frequent words correlate with a single process's as
    two single-process runs with different seeds do (about 0.97 for both, measured on seeds
    1-3; averaging the ranks' weights instead of summing their changes gives about 0.65, and
    synchronising once per epoch about 0.87); and gensim's sanity check holds."""
    out_dir, outcomes = trained
    keys = outcomes[0][2]["index_to_key"]
    distributed = KeyedVectors(LEE_SETTINGS["vector_size"])
    distributed.add_vectors(keys, np.load(out_dir / "vectors-rank0.npy"))
    lee = list(LineSentence(datapath("lee_background.cor")))
    single = TorchWord2Vec(lee, **LEE_SETTINGS).wv
    assert set(single.index_to_key) == set(keys)
    words = single.index_to_key[10:310]
    correlation = np.corrcoef(_similarities(single, words), _similarities(distributed, words))[0, 1]
    assert correlation > 0.93
    neighbours = [word for word, _ in distributed.most_similar("attacks", topn=len(keys))]
    assert neighbours.index("bombings") < 50


def test_vectors_lockf_freezes_rows_on_every_rank(trained):
    out_dir, _ = trained
    for rank in (0, 1):
        moved = np.load(out_dir / f"frozen-moved-rank{rank}.npy")
        assert (moved[:2] == 0).all() and (moved[2:] > 0).all(), (rank, moved)


def test_only_rank_0_logs_progress(trained):
    _, outcomes = trained
    assert "EPOCH 0: training on" in outcomes[0][1]
    assert "EPOCH" not in outcomes[1][1] and "INFO" not in outcomes[1][1]


def test_only_rank_0_writes_and_the_file_loads_without_torch_distributed(trained):
    out_dir, _ = trained
    assert not (out_dir / "model-rank1.tw2v").exists()
    assert not dist.is_initialized()
    model = TorchWord2Vec.load(out_dir / "model-rank0.tw2v", device="cpu")
    assert model.dist_context is None
    np.testing.assert_array_equal(model.wv.vectors, np.load(out_dir / "vectors-rank0.npy"))
    model.train([["attacks", "bombings"]], total_examples=1, epochs=1)


def test_a_shard_may_be_empty(trained):
    """A one-sentence corpus: rank 1 counts and trains nothing, and still ends with rank 0's model."""
    _, outcomes = trained
    single = TorchWord2Vec(min_count=1, device="cpu")
    single.build_vocab(ONE_SENTENCE)
    for _, _, result in outcomes:
        assert result["tiny_corpus_count"] == 1
        assert result["tiny_index_to_key"] == single.wv.index_to_key


@pytest.mark.parametrize("scenario", ["rank1_dies", "rank1_hangs"])
def test_a_dead_or_hung_rank_stops_the_others_with_a_clear_error(tmp_path, scenario):
    (code, stderr, result), (code1, _, _) = run_ranks(scenario, tmp_path, stop_with_rank_0=True)
    assert code == 0, stderr[-3000:]
    if scenario == "rank1_dies":
        assert code1 == 3
    assert result["error"] is not None, "rank 0 trained without its peer"
    assert "rank 0 of 2" in result["error"] and f"dist_timeout={HANG_TIMEOUT:g}s" in result["error"]
    # the missing rank is named, with what became of it and the last call it entered
    if scenario == "rank1_dies":
        assert "rank 1 died or is frozen (no heartbeat for" in result["error"]
    else:
        assert "rank 1 is alive but has not reached this call" in result["error"]
    assert "its last collective call: #" in result["error"] or "(its last: #" in result["error"]
    assert "comparing the vocabularies" in result["error"]
    assert result["seconds"] < HANG_TIMEOUT + 5


def test_ranks_with_different_settings_refuse_to_train_naming_the_setting(tmp_path):
    outcomes = run_ranks("settings_differ", tmp_path)
    for rank, (code, stderr, result) in enumerate(outcomes):
        assert code == 0, stderr[-3000:]
        assert result["error"] is not None and not result["trained"]
        assert f"rank {rank} of 2" in result["error"]
        assert "epochs (rank 0: 1; rank 1: 2)" in result["error"]


def test_when_rank_0_dies_the_others_say_that_the_store_it_holds_is_gone(tmp_path):
    (code0, _, _), (code, stderr, result) = run_ranks("rank0_dies", tmp_path)
    assert code0 == 3 and code == 0, stderr[-3000:]
    assert "rank 1 of 2" in result["error"] and "the process group's store does not answer" in result["error"]
    assert "rank 0 (or torchrun's agent, which may hold the store) has stopped" in result["error"]
    assert result["seconds"] < HANG_TIMEOUT + 5


def test_ranks_reading_different_corpora_of_the_same_size_stop_naming_the_ranks(tmp_path):
    """One word differs: build_vocab stops on every rank; train() (after a vocabulary built together)
    stops after its first epoch."""
    outcomes = run_ranks("corpus_differs", tmp_path)
    for rank, (code, stderr, result) in enumerate(outcomes):
        assert code == 0, stderr[-3000:]
        for when in ("build_vocab", "the first epoch of train()"):
            error = result["build_vocab" if when == "build_vocab" else "train"]
            assert f"rank {rank} of 2: ranks [1] read a different corpus from rank 0's in {when}" in error
            assert "rank 0: 40 sentences" in error and "rank 1: 40 sentences" in error
            assert ("train a fresh model" in error) == (when != "build_vocab")


def test_corpus_digest_sees_every_token_in_order():
    def summary(sentences):
        digest = CorpusDigest()
        list(shard(sentences, 0, 2, digest))  # every sentence read counts, not only the shard's
        return digest.summary()

    same = summary([["a", "b"], ["c"], ["d"]])
    assert same == summary([["a", "b"], ["c"], ["d"]]) and same[:2] == (3, 4)
    for other in ([["a", "b"], ["c"], ["e"]], [["b", "a"], ["c"], ["d"]], [["a"], ["b", "c"], ["d"]],
                  [["ab"], ["c"], ["d"]]):
        assert summary(other) != same


def test_distributed_without_a_process_group_says_how_to_launch(monkeypatch):
    for name in TORCHRUN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(DistributedTrainingError, match="torchrun --nproc_per_node"):
        TorchWord2Vec(distributed=True, device="cpu")


@pytest.mark.parametrize("kwargs, match", [
    (dict(sync_words=0), "sync_words"),
    (dict(sync_words=1.5), "sync_words"),
    (dict(dist_timeout=0), "dist_timeout"),
    (dict(dist_timeout="60"), "dist_timeout"),
])
def test_invalid_distributed_arguments_raise_naming_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TorchWord2Vec(device="cpu", **kwargs)


def test_sharding_deals_sentences_round_robin():
    sentences = [[str(i)] for i in range(5)]
    shards = [list(shard(sentences, rank, 2)) for rank in range(2)]
    assert shards == [[["0"], ["2"], ["4"]], [["1"], ["3"]]]
    assert list(shard(sentences[:1], 1, 2)) == []


def test_without_a_process_group_this_is_rank_0_of_1():
    assert get_world_size_and_rank() == (1, 0)


def test_vocabulary_digest_sees_words_order_and_counts():
    first, second = TorchWord2Vec(min_count=1, device="cpu"), TorchWord2Vec(min_count=1, device="cpu")
    first.build_vocab([["a", "b", "a"]])
    second.build_vocab([["a", "b", "a"]])
    assert vocabulary_digest(first.wv) == vocabulary_digest(second.wv)
    second.build_vocab([["a", "b", "b", "a", "a"]])
    assert vocabulary_digest(first.wv) != vocabulary_digest(second.wv)
