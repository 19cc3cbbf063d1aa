"""The fused Triton step with capped row sums against the torch-op step it reproduces.

``fused_step(..., row_sums=RowSums(...))`` must make the updates of :func:`torchw2v.objectives.skipgram_step`
and :func:`~torchw2v.objectives.cbow_step` with :class:`torchw2v.objectives.RowUpdates`: repeated rows
summed from the batch's starting values up to their caps, and skip-gram's Newton bound on repeated
input rows. Without a GPU the kernels run in Triton's interpreter on CPU tensors (``tests/conftest.py``).
"""
from collections import Counter

import numpy as np
import pytest
import torch

from torchw2v.kernels import triton_available
from torchw2v.kernels.triton_row_sums import RowSums
from torchw2v.kernels.triton_step import fused_step
from torchw2v.objectives import RowUpdates
from triton_reference import objective_arguments, random_model, torch_step

pytestmark = [pytest.mark.skipif(not triton_available(), reason="triton is not installed"),
              pytest.mark.usefixtures("triton_interpreter")]
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")

V, D, B = 40, 12, 24
#: The caps of syn0, syn1neg and syn1: below the repeats of the batch below, so every cap is hit.
CAPS = (2.0, 3.0, 5.0)
#: A learning rate at which the summed steps of repeated rows overshoot: the Newton bound shrinks them.
LR = 2.0


def _model():
    return random_model(V, D, DEVICE)


def _batch(seed=1):
    """Every center has context words; contexts drawn from 6 words and noise from 8: dense repeats."""
    generator = torch.Generator().manual_seed(seed)
    centers = torch.randint(0, V, (B,), generator=generator)
    contexts = torch.randint(0, 6, (B, 4), generator=generator)
    contexts[::3, 2:] = -1  # missing context words
    negatives = torch.randint(0, 8, (B, 3), generator=generator)
    return centers.to(DEVICE), contexts.to(DEVICE), negatives.to(DEVICE)


def _fused(weights, batch, sg, cbow_mean, objectives, row_sums, lr=LR):
    centers, contexts, negatives = batch
    loss = torch.zeros((), dtype=torch.float64, device=DEVICE)
    kwargs = objective_arguments(weights, negatives, objectives)
    fused_step(weights["syn0"], centers, contexts, torch.tensor(lr, device=DEVICE), sg=sg, cbow_mean=cbow_mean,
               loss=loss, row_sums=row_sums, **kwargs)
    return float(loss)


def _row_sums(weights, objectives, sg, caps=CAPS):
    return RowSums(weights["syn0"], weights["syn1neg"] if "negative" in objectives else None,
                   weights["syn1"] if "hs" in objectives else None,
                   (caps[0], caps[1] if "negative" in objectives else None, caps[2] if "hs" in objectives else None),
                   newton_bound=sg and "hs" in objectives)


def _reference(model, batch, sg, cbow_mean, objectives, caps=CAPS, lr=LR):
    """The torch step on padded copies, with the same caps (and the bound for skip-gram HS)."""
    def rule(padded):
        return RowUpdates(cap=caps[0], caps={padded["syn1neg"]: caps[1], padded["syn1"]: caps[2]})

    return torch_step(model, batch, sg, cbow_mean, objectives, lr, rule, bound=sg and "hs" in objectives)


def _assert_same(ours, theirs):
    for name in ("syn0", "syn1neg", "syn1"):
        torch.testing.assert_close(ours[name], theirs[name], rtol=1e-5, atol=1e-5, msg=name)  # steps of about 1


CASES = [(True, True, {"hs"}), (True, True, {"hs", "negative"}), (True, True, {"negative"}),
         (False, True, {"hs"}), (False, False, {"hs", "negative"}), (False, True, {"negative"})]
CASE_IDS = ["skipgram-hs", "skipgram-hs-negative", "skipgram-negative", "cbow-mean-hs", "cbow-sum-hs-negative",
            "cbow-mean-negative"]


@pytest.mark.parametrize("sg, cbow_mean, objectives", CASES, ids=CASE_IDS)
def test_capped_fused_steps_equal_the_torch_step(sg, cbow_mean, objectives):
    """Two steps in a row (the workspace is reset between them) equal two torch steps, loss included;
    every cap is reached, and the result differs from uncapped sums."""
    model = _model()
    batch = _batch()
    centers, contexts, negatives = batch
    assert max(Counter(contexts[contexts >= 0].tolist()).values()) > CAPS[0]
    assert max(Counter(negatives.flatten().tolist()).values()) > CAPS[1]
    ours = {name: tensor.clone() for name, tensor in model.items()}
    row_sums = _row_sums(ours, objectives, sg)
    theirs, expected = model, []
    for step_batch in (batch, _batch(seed=2)):
        loss = _fused(ours, step_batch, sg, cbow_mean, objectives, row_sums)
        theirs, their_loss = _reference(theirs, step_batch, sg, cbow_mean, objectives)
        expected.append((loss, their_loss))
        _assert_same(ours, theirs)
        for buffer in row_sums.buffers():
            if buffer is not None:
                assert not buffer.sums.any() and not buffer.counts.any() and (buffer.touched == -1).all()
        assert not row_sums.n_touched.any()
        assert row_sums.terms is None or not row_sums.terms.any()
    for loss, their_loss in expected:
        assert loss == pytest.approx(their_loss, rel=1e-5)
    uncapped, _ = _reference(model, batch, sg, cbow_mean, objectives, caps=(float("inf"),) * 3)
    once, _ = _reference(model, batch, sg, cbow_mean, objectives)
    assert not torch.allclose(uncapped["syn0"], once["syn0"], rtol=1e-4, atol=1e-5)


def test_the_newton_bound_changes_skipgram_hs_and_is_skipgrams_only():
    """Without the bound the same step differs (the bound's pass shrinks the repeated rows' steps), and
    CBOW refuses it."""
    model = _model()
    bounded = {name: tensor.clone() for name, tensor in model.items()}
    _fused(bounded, _batch(), True, True, {"hs"}, _row_sums(bounded, {"hs"}, True))
    plain = {name: tensor.clone() for name, tensor in model.items()}
    no_bound = RowSums(plain["syn0"], None, plain["syn1"], (CAPS[0], None, CAPS[2]))
    _fused(plain, _batch(), True, True, {"hs"}, no_bound)
    assert not torch.allclose(bounded["syn0"], plain["syn0"], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(bounded["syn1"], plain["syn1"])  # the bound moves input rows only
    with pytest.raises(ValueError, match="Newton bound of row_sums is skip-gram's"):
        _fused(plain, _batch(), False, True, {"hs"}, _row_sums(plain, {"hs"}, True))


def test_row_sums_for_other_matrices_are_refused():
    model = _model()
    other = {name: tensor.clone() for name, tensor in model.items()}
    with pytest.raises(ValueError, match="row_sums was made for another syn0"):
        _fused(model, _batch(), True, True, {"hs"}, _row_sums(other, {"hs"}, True))
    with pytest.raises(ValueError, match="row_sums has no buffer for syn1neg, which the step trains"):
        _fused(model, _batch(), True, True, {"hs", "negative"}, _row_sums(model, {"hs"}, True))
    with pytest.raises(ValueError, match="RowSums needs syn0"):
        RowSums(model["syn0"], caps=(None, None, None))


def test_the_device_path_with_hierarchical_softmax_trains_as_the_torch_ops(monkeypatch):
    """TorchSteps with kernel="triton" and hierarchical softmax (the row sums, skip-gram's bound) makes
    the torch-op path's batches and updates: one epoch of both gives the same weights."""
    from gensim.test.utils import common_texts

    from torchw2v import TorchWord2Vec, torch_steps

    monkeypatch.setattr(torch_steps, "SPAN_TOKENS", 64)  # few padded slots: the interpreter pays per program
    sentences = [sentence for sentence in common_texts * 4 if len(sentence) > 1]  # every center has a context
    trained = {}
    for sg in (1, 0):
        for kernel in ("torch", "triton"):
            model = TorchWord2Vec(vector_size=8, min_count=1, epochs=1, workers=1, sg=sg, seed=3, device=str(DEVICE),
                                  cpu_kernel="torch", cuda_kernel=kernel, batch_size=32, sample=0, hs=1, negative=0,
                                  window=3)
            model.build_vocab(sentences)
            model.train(sentences, total_examples=len(sentences), epochs=1)
            trained[sg, kernel] = (model.wv.vectors.copy(), model.syn1.copy())
        for ours, theirs in zip(trained[sg, "triton"], trained[sg, "torch"]):
            np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
