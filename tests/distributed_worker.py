"""One rank of the distributed tests: ``python tests/distributed_worker.py SCENARIO OUT_DIR``.

Started by ``tests/test_distributed.py`` with torchrun's environment variables (``RANK``,
``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``); writes what it observed to
``OUT_DIR/rank<RANK>.json`` (and arrays next to it) for the test to check.

Scenarios
---------
train
    The Lee corpus model of the quality tests, synchronised at every chunk, saved by every
    rank (only rank 0 may write); the same on the device path (``cpu_kernel="torch"``); then
    models on a one-sentence corpus (rank 1's shard is empty),
    one of them with rows frozen by ``vectors_lockf``.
settings_differ
    Rank 1 asks for 2 epochs, rank 0 for 1: both refuse to train, naming ``epochs`` and the ranks.
corpus_differs
    The ranks read corpora of the same size, one word different: ``build_vocab`` stops on both;
    then, after a vocabulary built together, so does ``train()`` after its first epoch.
rank1_dies, rank1_hangs, rank0_dies
    Rank 1 (rank 0) builds the vocabulary with the other, then exits, or sleeps past the timeout;
    the other trains and records the error it stops with.
"""
import json
import logging
import os
import sys
import time

import numpy as np
from gensim.models.word2vec import LineSentence
from gensim.test.utils import datapath

from torchw2v import TorchWord2Vec
from torchw2v.distributed import DistributedTrainingError

#: The settings of the Lee model (those of tests/test_word2vec.py's quality test), with small
#: chunks (``batch_size``, ``batch_words``) and a synchronisation at every chunk.
LEE_SETTINGS = dict(vector_size=50, window=4, negative=15, min_count=5, epochs=10, workers=1, device="cpu", seed=1,
                    sg=1, batch_size=128, batch_words=2000)

#: Seconds rank 0 waits for a hung rank 1 in the ``rank1_hangs`` scenario.
HANG_TIMEOUT = 3.0

ONE_SENTENCE = [["alpha", "beta", "gamma", "delta", "alpha", "beta", "gamma", "alpha"] * 5]


def train(out_dir, rank):
    lee = list(LineSentence(datapath("lee_background.cor")))
    model = TorchWord2Vec(distributed=True, sync_words=2000, dist_timeout=60, **LEE_SETTINGS)
    model.build_vocab(lee)
    trained, raw = model.train(lee, total_examples=model.corpus_count, epochs=model.epochs)
    model.save(os.path.join(out_dir, f"model-rank{rank}.tw2v"))
    np.save(os.path.join(out_dir, f"vectors-rank{rank}.npy"), model.wv.vectors)
    np.save(os.path.join(out_dir, f"syn1neg-rank{rank}.npy"), model.syn1neg)

    # the device path (torch ops, batches made on the device), synchronised the same way
    device_path = TorchWord2Vec(lee, distributed=True, sync_words=2000, dist_timeout=60, cpu_kernel="torch",
                                **dict(LEE_SETTINGS, epochs=2, batch_size=256))
    np.save(os.path.join(out_dir, f"device-rank{rank}.npy"), device_path.wv.vectors)

    tiny = TorchWord2Vec(ONE_SENTENCE, vector_size=8, min_count=1, epochs=3, workers=1, device="cpu",
                         distributed=True, dist_timeout=60)
    np.save(os.path.join(out_dir, f"tiny-rank{rank}.npy"), tiny.wv.vectors)

    frozen = TorchWord2Vec(vector_size=8, min_count=1, workers=1, device="cpu", distributed=True, dist_timeout=60)
    frozen.build_vocab(ONE_SENTENCE)
    frozen.wv.vectors_lockf = np.ones(len(frozen.wv), dtype=np.float32)
    frozen.wv.vectors_lockf[:2] = 0  # gensim's vectors_lockf: the first two rows never move
    before = frozen.wv.vectors.copy()
    frozen.train(ONE_SENTENCE, total_examples=frozen.corpus_count, epochs=3)
    np.save(os.path.join(out_dir, f"frozen-moved-rank{rank}.npy"), np.abs(frozen.wv.vectors - before).max(axis=1))
    return {"index_to_key": model.wv.index_to_key, "corpus_count": model.corpus_count,
            "corpus_total_words": model.corpus_total_words, "trained": trained, "raw": raw,
            "tiny_index_to_key": tiny.wv.index_to_key, "tiny_corpus_count": tiny.corpus_count}


def fault(rank, hang, failing_rank=1):
    lee = list(LineSentence(datapath("lee_background.cor")))[:40]
    model = TorchWord2Vec(vector_size=10, min_count=1, epochs=2, workers=1, device="cpu", distributed=True,
                          dist_timeout=HANG_TIMEOUT)
    model.build_vocab(lee)
    if rank == failing_rank:
        if hang:
            time.sleep(60)  # killed by the test long before
        os._exit(3)
    start = time.perf_counter()
    try:
        model.train(lee, total_examples=model.corpus_count, epochs=model.epochs)
    except DistributedTrainingError as error:
        return {"error": str(error), "seconds": time.perf_counter() - start}
    return {"error": None, "seconds": time.perf_counter() - start}


def settings_differ(rank):
    """Rank 1 trains more epochs than rank 0: both stop before training, naming the setting."""
    lee = list(LineSentence(datapath("lee_background.cor")))[:40]
    model = TorchWord2Vec(vector_size=10, min_count=1, epochs=1, workers=1, device="cpu", distributed=True,
                          dist_timeout=60)
    model.build_vocab(lee)
    before = model.wv.vectors.copy()
    try:
        model.train(lee, total_examples=model.corpus_count, epochs=1 + rank)
    except DistributedTrainingError as error:
        return {"error": str(error), "trained": bool((model.wv.vectors != before).any())}
    return {"error": None}


def corpus_differs(rank):
    """Rank 1's corpus has one word changed: same sentences, same raw words, different content."""
    lee = list(LineSentence(datapath("lee_background.cor")))[:40]
    other = [list(sentence) for sentence in lee]
    other[7][3] = "changed"
    mine = other if rank == 1 else lee
    settings = dict(vector_size=10, min_count=1, epochs=1, workers=1, device="cpu", distributed=True, dist_timeout=60)
    outcome = {}
    model = TorchWord2Vec(**settings)
    try:
        model.build_vocab(mine)
    except DistributedTrainingError as error:
        outcome["build_vocab"] = str(error)
    model = TorchWord2Vec(**settings)
    model.build_vocab(lee + [["changed"]])
    try:
        model.train(mine, total_examples=len(mine), epochs=2)
    except DistributedTrainingError as error:
        outcome["train"] = str(error)
    return outcome


def main(scenario, out_dir):
    rank = int(os.environ["RANK"])
    logging.basicConfig(level=logging.INFO, format=f"rank {rank} %(name)s %(levelname)s: %(message)s")
    if scenario == "train":
        result = train(out_dir, rank)
    elif scenario == "settings_differ":
        result = settings_differ(rank)
    elif scenario == "corpus_differs":
        result = corpus_differs(rank)
    else:
        result = fault(rank, hang=scenario == "rank1_hangs", failing_rank=0 if scenario == "rank0_dies" else 1)
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as fout:
        json.dump(result, fout)


if __name__ == "__main__":
    main(*sys.argv[1:])
