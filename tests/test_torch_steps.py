"""The device path: no host synchronisation in a step, one shape for every step, and training end to end."""
import numpy as np
import pytest
import torch
from gensim.models.word2vec import LineSentence
from gensim.test.utils import datapath
from torch.utils._python_dispatch import TorchDispatchMode

from torchw2v import TorchWord2Vec
from torchw2v.torch_steps import TorchSteps, span_tokens

LEE = list(LineSentence(datapath("lee_background.cor")))

#: aten ops that wait for a CUDA device (their result is needed on the host).
SYNCING_OPS = ("aten::item", "aten::_local_scalar_dense", "aten::nonzero", "aten::masked_select", "aten::unique",
               "aten::_unique", "aten::_unique2", "aten::unique_consecutive", "aten::unique_dim",
               "aten::repeat_interleave")

CONFIGS = [dict(sg=1), dict(sg=0), dict(sg=0, cbow_mean=0, hs=1), dict(sg=1, hs=1, negative=0),
           dict(sg=1, optimizer="adam")]


def _train(report_delay=1.0, **kwargs):
    settings = dict(vector_size=16, min_count=5, epochs=2, workers=1, seed=1, device="cpu", cpu_kernel="torch",
                    batch_size=512)
    settings.update(kwargs)
    model = TorchWord2Vec(**settings)
    model.build_vocab(LEE)
    model.train(LEE, total_examples=model.corpus_count, epochs=model.epochs, compute_loss=True,
                report_delay=report_delay)
    return model


@pytest.mark.parametrize("settings", CONFIGS, ids=lambda s: "-".join(f"{k}{v}" for k, v in s.items()))
def test_no_step_waits_for_the_device(monkeypatch, settings):
    """torch.profiler records every op; none of those that wait for a device runs inside a step,
    and outside the steps they run only for the progress checks and at the epochs' ends."""
    run = TorchSteps.run

    def recorded_run(self, alpha):
        with torch.profiler.record_function("torchw2v.step"):
            run(self, alpha)

    monkeypatch.setattr(TorchSteps, "run", recorded_run)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
        model = _train(report_delay=3600.0, **settings)
    events = profile.events()
    steps = [e for e in events if e.name == "torchw2v.step"]
    assert len(steps) >= 4
    syncing = [e for e in events if e.name in SYNCING_OPS]
    in_steps = []
    for event in syncing:
        parent = event.cpu_parent
        while parent is not None:
            if parent.name == "torchw2v.step":
                in_steps.append(event.name)
                break
            parent = parent.cpu_parent
    assert in_steps == []
    assert len(syncing) <= 12 * model.epochs  # epoch ends: divergence check, word counts, loss


@pytest.mark.parametrize("settings", CONFIGS[:3], ids=["sg", "cbow", "cbow-sum-hs"])
def test_every_step_of_an_epoch_sees_the_same_shapes(settings):
    """The same ops on the same shapes at every step: a CUDA graph can capture the step."""
    model = _train(epochs=1, **settings)
    from torchw2v.config import TrainingConfig
    from torchw2v.corpus import EncodedCorpus
    from torchw2v.torch_steps import TorchWeights
    from torchw2v.trainer import TrainingTables

    config = TrainingConfig(sg=model.sg, hs=bool(model.hs), negative=model.negative, cbow_mean=bool(model.cbow_mean),
                            batch_size=512)
    tables = TrainingTables(model.wv.expandos["sample_int"], model.cum_table if model.negative else None,
                            model.huffman)
    steps = TorchSteps(config, TorchWeights.allocate(model.wv.vectors, model.syn1neg, model.syn1, "cpu"), tables)
    corpus = EncodedCorpus(LEE, model.wv.key_to_index, chunk_words=10_000)
    signatures = []
    for _ in steps.epoch(corpus):
        with _ShapeRecorder() as recorder:
            steps.run(0.01)
        signatures.append(tuple(recorder.calls))
    corpus.close()
    # after the first step, which allocates the update rule's buffers (before a graph is captured)
    assert len(signatures) >= 3 and len(set(signatures[1:])) == 1


class _ShapeRecorder(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.calls = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        shapes = tuple(tuple(a.shape) for a in args if isinstance(a, torch.Tensor))
        self.calls.append((str(func), shapes))
        return func(*args, **(kwargs or {}))


def test_span_is_a_multiple_of_the_batch():
    assert span_tokens(512) == 16384 and span_tokens(100_000) == 100_000 and span_tokens(3000) % 3000 == 0


@pytest.mark.parametrize("settings", CONFIGS, ids=lambda s: "-".join(f"{k}{v}" for k, v in s.items()))
def test_device_path_learns_on_lee(settings):
    """gensim's own sanity check on the Lee corpus, with the settings of gensim's tests (its CBOW
    needs them to pass): 'bombings' among the neighbours of 'attacks'."""
    lee = dict(alpha=0.05, window=8, negative=15, epochs=10) if not settings["sg"] else dict(epochs=8)
    lee.update(settings)
    if lee.get("optimizer"):
        lee["optimizer_lr"] = 0.01
    model = _train(vector_size=50, min_count=5, batch_size=256, **lee)
    ranked = [word for word, _ in model.wv.most_similar("attacks", topn=len(model.wv))]
    assert ranked.index("bombings") < 50
    assert np.isfinite(model.wv.vectors).all()
    assert model.get_latest_training_loss() > 0


def _species_list():
    """Lee's corpus with a long list of species, as text8 has: "agave X agave Y var Z agave ...", the
    names below ``min_count``, so "agave" (and "var", "maguey") repeat densely after it."""
    rng = np.random.default_rng(0)
    listing = []
    for i in range(3000):
        listing += ["agave", f"species{i}"]
        if rng.random() < 0.15:
            listing += ["var", f"variety{i}"]
        if rng.random() < 0.05:
            listing += ["maguey"]
    return LEE[:150] + [listing]


def test_dense_repeats_do_not_run_away_in_skipgram_hs(monkeypatch):
    """Every repeat of "agave" follows the same Huffman path, so its summed updates point one way; the
    Newton bound on repeated input rows keeps it where sequential SGD (gensim) keeps it, and without
    the bound the same run diverges in its first epochs."""
    from gensim.models import Word2Vec

    from torchw2v.objectives import RowUpdates
    from torchw2v.trainer import TrainingDiverged

    corpus = _species_list()
    settings = dict(vector_size=50, window=5, sg=1, hs=1, negative=0, min_count=5, epochs=20, workers=1, seed=1)
    model = TorchWord2Vec(corpus, device="cpu", cpu_kernel="torch", batch_size=64, **settings)
    gensim_norms = np.linalg.norm(Word2Vec(corpus, **settings).wv.vectors, axis=1)
    norms = np.linalg.norm(model.wv.vectors, axis=1)
    assert norms.max() < 1.5 * gensim_norms.max(), (norms.max(), gensim_norms.max())
    assert norms[model.wv.key_to_index["agave"]] < 2 * gensim_norms[model.wv.key_to_index["agave"]]
    monkeypatch.setattr(RowUpdates, "newton_bound", lambda self, *args: None)
    with pytest.raises(TrainingDiverged):
        TorchWord2Vec(corpus, device="cpu", cpu_kernel="torch", batch_size=64, **settings)
