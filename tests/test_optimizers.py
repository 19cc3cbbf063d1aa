"""Sparse-row Adam against torch.optim.Adam, and Adam training through the facade."""
import numpy as np
import pytest
import torch
from gensim.models.word2vec import LineSentence
from gensim.test.utils import datapath

from test_objectives import CENTERS, CONTEXTS, NEGATIVES, _padded_weights, skipgram_pair_loss
from torchw2v import TorchWord2Vec
from torchw2v.objectives import negative_targets, skipgram_step
from torchw2v.optimizers import SparseRowAdam


def test_touched_rows_follow_torch_adam_and_untouched_rows_keep_their_moments():
    gen = torch.Generator().manual_seed(0)
    weights = torch.randn(6, 3, dtype=torch.float64, generator=gen)
    reference = weights.clone().requires_grad_()
    torch_adam = torch.optim.Adam([reference], lr=0.01)
    ours = SparseRowAdam([weights], lr=0.01)
    for rows in (torch.tensor([0, 1, 1, 2, 3, 4, 5]), torch.tensor([5, 4, 3, 2, 1, 0, 0, 0])):
        gradients = torch.randn(len(rows), 3, dtype=torch.float64, generator=gen)
        dense = torch.zeros_like(weights).index_add_(0, rows, gradients)
        torch_adam.zero_grad()
        reference.grad = dense
        torch_adam.step()
        ours.update(weights, rows, -gradients)
        torch.testing.assert_close(weights, reference.detach())
    # lazy: a row absent from a batch is not moved, and its moments are not decayed
    before = weights.clone()
    moments = ours._state[id(weights)].first.clone()
    ours.update(weights, torch.tensor([2, 2, 0]), torch.ones(3, 3, dtype=torch.float64),
                present=torch.tensor([True, True, False]))
    changed = (weights != before).any(dim=1).tolist()
    assert changed == [False, False, True, False, False, False]
    torch.testing.assert_close(ours._state[id(weights)].first[[0, 1, 3, 4, 5]], moments[[0, 1, 3, 4, 5]])


def test_skipgram_step_with_adam_applies_adam_to_the_autograd_gradient():
    gen = torch.Generator().manual_seed(1)
    syn0, syn1neg = _padded_weights(gen)
    w0, w1 = syn0.clone().requires_grad_(), syn1neg.clone().requires_grad_()
    skipgram_pair_loss(w0, w1, CENTERS, CONTEXTS, NEGATIVES).backward()
    torch.optim.Adam([w0, w1], lr=0.003).step()  # the first step: rows without gradient do not move
    adam = SparseRowAdam([syn0, syn1neg], lr=0.003)
    skipgram_step(syn0, CONTEXTS, [negative_targets(syn1neg, CENTERS, NEGATIVES)], 1.0,
                  lambda weights, rows, deltas: adam.update(weights, rows, deltas, lr=torch.tensor(0.003)))
    # the padding rows moved (the step clears them afterwards); every real row is Adam's
    torch.testing.assert_close(syn0[:-1], w0.detach()[:-1])
    torch.testing.assert_close(syn1neg[:-1], w1.detach()[:-1])


def test_adam_rejects_bad_settings():
    with pytest.raises(ValueError, match="learning rate"):
        SparseRowAdam([torch.zeros(2, 2)], lr=0)
    with pytest.raises(ValueError, match="betas"):
        SparseRowAdam([torch.zeros(2, 2)], lr=0.1, betas=(1.0, 0.9))


@pytest.mark.parametrize("sg", [1, 0])
def test_adam_trains_to_gensims_sanity_floor_on_lee(sg):
    """gensim's model_sanity check ('bombings' near 'attacks'), trained with Adam instead of SGD."""
    lee = list(LineSentence(datapath("lee_background.cor")))
    model = TorchWord2Vec(lee, vector_size=50, window=4, negative=15, min_count=5, epochs=5, workers=1,
                          sg=sg, seed=1, device="cpu", optimizer="adam", optimizer_lr=0.01, batch_size=128)
    assert model.cpu_kernel == "torch"
    ranked = [word for word, _ in model.wv.most_similar("attacks", topn=len(model.wv))]
    assert ranked.index("bombings") < 50


@pytest.mark.parametrize("kwargs, match", [
    (dict(optimizer="adagrad"), "optimizer"),
    (dict(optimizer="adam", optimizer_lr=0), "optimizer_lr"),
    (dict(optimizer="adam", cpu_kernel="native"), "cpu_kernel"),
])
def test_optimizer_arguments_are_checked(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TorchWord2Vec(device="cpu", **kwargs)


def test_adam_setting_survives_save_and_load(tmp_path):
    model = TorchWord2Vec([["a", "b", "c"]] * 20, vector_size=4, min_count=1, epochs=1, device="cpu",
                          optimizer="adam", optimizer_lr=0.005)
    model.save(tmp_path / "m.tw2v")
    loaded = TorchWord2Vec.load(tmp_path / "m.tw2v", device="cpu")
    assert (loaded.optimizer, loaded.optimizer_lr) == ("adam", 0.005)
    np.testing.assert_array_equal(loaded.wv.vectors, model.wv.vectors)
