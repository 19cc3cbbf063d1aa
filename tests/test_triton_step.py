"""The fused Triton step against the torch-op reference (objectives.py) and autograd.

With a CUDA device the kernel runs compiled on it. Without one, Triton's interpreter
(``TRITON_INTERPRET=1``) runs the kernel's programs one after another on CPU tensors, which
checks the CUDA kernel's arithmetic on a machine without a GPU (set up by ``tests/conftest.py``
and its ``triton_interpreter`` fixture). The interpreter is slow, about a millisecond per
operation of a program: the training test groups many centers per program.
"""
import json
import logging
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence
from gensim.test.utils import datapath
from scipy.stats import spearmanr

from torchw2v.batching import context_windows, subsample
from torchw2v.kernels import triton_available
from torchw2v.kernels.triton_step import fused_step
from torchw2v.objectives import RowUpdates
from torchw2v.torch_steps import NoiseSampler
from torchw2v.trainer import learning_rate
from triton_reference import objective_arguments, random_model, torch_step

pytestmark = [pytest.mark.skipif(not triton_available(), reason="triton is not installed: the fused CUDA step "
                                                                 "cannot be tested"),
              pytest.mark.usefixtures("triton_interpreter")]
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")

V, D = 48, 10  # d = 10 is padded to a block of 16: the masks are exercised


def _model(seed=0):
    return random_model(V, D, DEVICE, seed)


# Four centers whose rows never repeat (contexts, centers and noise words all distinct), one
# noise word equal to its center (not trained), -1 contexts, and one center without contexts.
CENTERS = torch.tensor([0, 1, 2, 3], device=DEVICE)
CONTEXTS = torch.tensor([[10, 11, 12, 13], [14, -1, 15, -1], [-1, -1, -1, -1], [16, 17, -1, 18]], device=DEVICE)
NEGATIVES = torch.tensor([[30, 31, 32], [33, 1, 34], [35, 36, 37], [38, 39, 40]], device=DEVICE)


def _reference(model, centers, contexts, negatives, sg, cbow_mean, objectives, lr=0.1, update=None):
    """objectives.skipgram_step / cbow_step (SGD, RowUpdates) on padded copies; returns (weights, loss)."""
    rule = RowUpdates() if update is None else update
    return torch_step(model, (centers, contexts, negatives), sg, cbow_mean, objectives, lr, lambda padded: rule)


def _fused(model, centers, contexts, negatives, sg, cbow_mean, objectives, lr=0.1, lockf=None, group=1,
           max_programs=None, loss_dtype=torch.float64):
    """fused_step on copies; returns (weights, loss)."""
    weights = {name: tensor.clone() for name, tensor in model.items()}
    loss = torch.zeros((), dtype=loss_dtype, device=DEVICE)
    kwargs = objective_arguments(weights, negatives, objectives)
    fused_step(weights["syn0"], centers, contexts, torch.tensor(lr, device=DEVICE), sg=sg, cbow_mean=cbow_mean,
               lockf=lockf, loss=loss, centers_per_program=group, max_programs=max_programs, **kwargs)
    return weights, float(loss)


def _assert_same(ours, theirs):
    for name in ("syn0", "syn1neg", "syn1"):
        torch.testing.assert_close(ours[name], theirs[name], rtol=1e-5, atol=1e-6, msg=name)


MODES = [(True, True), (False, True), (False, False)]
MODE_IDS = ["skipgram", "cbow-mean", "cbow-sum"]


@pytest.mark.parametrize("sg, cbow_mean", MODES, ids=MODE_IDS)
def test_negative_sampling_step_equals_the_reference(sg, cbow_mean):
    model = _model()
    ours, our_loss = _fused(model, CENTERS, CONTEXTS, NEGATIVES, sg, cbow_mean, {"negative"})
    theirs, their_loss = _reference(model, CENTERS[[0, 1, 3]], CONTEXTS[[0, 1, 3]], NEGATIVES[[0, 1, 3]], sg,
                                    cbow_mean, {"negative"})
    _assert_same(ours, theirs)
    assert our_loss == pytest.approx(their_loss, rel=1e-5)
    assert not torch.equal(ours["syn0"], model["syn0"]) and not torch.equal(ours["syn1neg"], model["syn1neg"])
    assert torch.equal(ours["syn1neg"][[2, 35, 36, 37]], model["syn1neg"][[2, 35, 36, 37]])  # no context words


@pytest.mark.parametrize("objectives", [{"hs"}, {"hs", "negative"}], ids=["hs", "hs-negative"])
@pytest.mark.parametrize("sg, cbow_mean", MODES, ids=MODE_IDS)
def test_hierarchical_softmax_steps_equal_the_reference(sg, cbow_mean, objectives):
    """Every path shares the root: one center per step (G = 1), or a batch in one program (G = 4)."""
    model = _model()
    single = _fused(model, torch.tensor([3, -1], device=DEVICE), CONTEXTS[[3, 0]], NEGATIVES[[3, 0]], sg,
                    cbow_mean, objectives)
    _assert_same(single[0], _reference(model, CENTERS[[3]], CONTEXTS[[3]], NEGATIVES[[3]], sg, cbow_mean,
                                       objectives)[0])
    rows = [0, 1, 3]
    ours, our_loss = _fused(model, CENTERS[rows], CONTEXTS[rows], NEGATIVES[rows], sg, cbow_mean, objectives,
                            group=4)
    theirs, their_loss = _reference(model, CENTERS[rows], CONTEXTS[rows], NEGATIVES[rows], sg, cbow_mean,
                                    objectives)
    _assert_same(ours, theirs)
    assert our_loss == pytest.approx(their_loss, rel=1e-5)
    assert not torch.equal(ours["syn1"], model["syn1"])


def test_groups_of_centers_and_bounded_programs_pad_and_skip_padding_centers():
    model = _model()
    centers = torch.tensor([-1, 0, 1, -1, 3], device=DEVICE)
    contexts, negatives = CONTEXTS[[0, 0, 1, 1, 3]], NEGATIVES[[2, 0, 1, 3, 3]]
    reference = _reference(model, CENTERS[[0, 1, 3]], CONTEXTS[[0, 1, 3]], NEGATIVES[[0, 1, 3]], True, True,
                           {"negative"})
    for group, max_programs in ((1, None), (2, None), (8, None), (1, 2), (2, 1)):
        ours = _fused(model, centers, contexts, negatives, True, True, {"negative"}, group=group,
                      max_programs=max_programs)
        _assert_same(ours[0], reference[0])
        assert ours[1] == pytest.approx(reference[1], rel=1e-5)


def _uncapped(weights, rows, deltas):
    """The reference's update rule without its repeat cap."""
    RowUpdates(cap=math.inf)(weights, rows, deltas)


@pytest.mark.parametrize("sg, cbow_mean", MODES, ids=MODE_IDS)
def test_rows_repeated_across_programs_are_summed_without_a_cap(sg, cbow_mean):
    """16 centers share context row 40 and noise word 41. In one program (G = 16) they start from
    the same values: the batched reference without its repeat cap. In one program training them
    one after another (max_programs=1), or in 16 programs run in order (Triton's interpreter), each
    sees the updates before it: 16 reference steps in a row."""
    model = _model()
    centers = torch.arange(16, device=DEVICE)
    contexts = torch.stack([torch.full((16,), 40, device=DEVICE), 16 + centers], dim=1)
    negatives = torch.stack([torch.full((16,), 41, device=DEVICE), 32 + centers], dim=1)
    batched, _ = _fused(model, centers, contexts, negatives, sg, cbow_mean, {"negative"}, group=16)
    _assert_same(batched, _reference(model, centers, contexts, negatives, sg, cbow_mean, {"negative"},
                                     update=_uncapped)[0])
    capped, _ = _reference(model, centers, contexts, negatives, sg, cbow_mean, {"negative"},
                           update=RowUpdates(cap=8.0))  # 16 repeats: over this cap
    assert not torch.allclose(batched["syn1neg"][41], capped["syn1neg"][41], rtol=1e-3, atol=0)
    steps = model
    for i in range(16):
        steps, _ = _reference(steps, centers[i:i + 1], contexts[i:i + 1], negatives[i:i + 1], sg, cbow_mean,
                              {"negative"})
    _assert_same(_fused(model, centers, contexts, negatives, sg, cbow_mean, {"negative"}, max_programs=1)[0], steps)
    if DEVICE.type == "cpu":  # on a GPU the programs overlap: no fixed order to compare with
        _assert_same(_fused(model, centers, contexts, negatives, sg, cbow_mean, {"negative"})[0], steps)


@pytest.mark.parametrize("sg, cbow_mean", MODES, ids=MODE_IDS)
def test_lockf_scales_the_input_rows_updates_only(sg, cbow_mean):
    model = _model()
    lockf = torch.ones(V, device=DEVICE)
    lockf[[10, 14, 16]] = 0.0
    lockf[[11, 17]] = 0.25
    rows = [0, 1, 3]
    free, _ = _fused(model, CENTERS[rows], CONTEXTS[rows], NEGATIVES[rows], sg, cbow_mean, {"negative"})
    locked, _ = _fused(model, CENTERS[rows], CONTEXTS[rows], NEGATIVES[rows], sg, cbow_mean, {"negative"},
                       lockf=lockf)
    torch.testing.assert_close(locked["syn0"] - model["syn0"], (free["syn0"] - model["syn0"]) * lockf[:, None])
    assert torch.equal(locked["syn0"][[10, 14, 16]], model["syn0"][[10, 14, 16]])
    assert torch.equal(locked["syn1neg"], free["syn1neg"])


def _autograd_loss(model, center, context, negatives, sg, cbow_mean, objectives):
    """The summed logistic loss of one center's window, as a function of leaf tensors."""
    leaves = {name: model[name].clone().requires_grad_(True) for name in ("syn0", "syn1neg", "syn1")}
    words = context[context >= 0]
    inputs = leaves["syn0"][words]  # (n, d)
    if not sg:
        inputs = inputs.mean(dim=0, keepdim=True) if cbow_mean else inputs.sum(dim=0, keepdim=True)
    loss = 0.0
    if "negative" in objectives:
        rows = torch.cat([center[None], negatives[negatives != center]])
        labels = (torch.arange(len(rows), device=DEVICE) == 0).float()
        signs = 2 * labels - 1
        loss = loss - torch.nn.functional.logsigmoid(signs * (inputs @ leaves["syn1neg"][rows].T)).sum()
    if "hs" in objectives:
        length = int(model["path_lengths"][center])
        nodes, codes = model["points"][center, :length], model["codes"][center, :length]
        signs = 1 - 2 * codes  # label 1 - code
        loss = loss - torch.nn.functional.logsigmoid(signs * (inputs @ leaves["syn1"][nodes].T)).sum()
    loss.backward()
    return {name: torch.zeros_like(leaf) if leaf.grad is None else leaf.grad for name, leaf in leaves.items()}, words


@pytest.mark.parametrize("objectives", [{"negative"}, {"hs"}, {"hs", "negative"}], ids=["sgns", "hs", "both"])
@pytest.mark.parametrize("sg, cbow_mean", MODES, ids=MODE_IDS)
def test_updates_are_minus_autograds_gradients(sg, cbow_mean, objectives):
    """At lr = 1 an update is minus the gradient; CBOW's context rows get the hidden vector's update
    (``n`` times their gradient with the mean, ``1/n`` times with the sum, as gensim)."""
    model = _model(seed=1)
    center, context, negatives = CENTERS[1], CONTEXTS[1], NEGATIVES[1]
    ours, _ = _fused(model, center[None], context[None], negatives[None], sg, cbow_mean, objectives, lr=1.0)
    gradients, words = _autograd_loss(model, center, context, negatives, sg, cbow_mean, objectives)
    scale = 1.0 if sg else (len(words) if cbow_mean else 1.0 / len(words))
    for name, factor in (("syn0", scale), ("syn1neg", 1.0), ("syn1", 1.0)):
        torch.testing.assert_close(ours[name] - model[name], -factor * gradients[name], rtol=1e-4, atol=1e-6,
                                   msg=name)
    assert gradients["syn0"][words].abs().min() > 0


@pytest.mark.parametrize("loss_dtype", [torch.float32, torch.float64])
def test_loss_accumulates_onto_the_given_tensor(loss_dtype):
    model = _model()
    rows = [0, 1, 3]
    weights = {name: tensor.clone() for name, tensor in model.items()}
    loss = torch.full((), 2.0, dtype=loss_dtype, device=DEVICE)
    fused_step(weights["syn0"], CENTERS[rows], CONTEXTS[rows], torch.tensor(0.1, device=DEVICE), sg=True,
               cbow_mean=True, syn1neg=weights["syn1neg"], negatives=NEGATIVES[rows], loss=loss)
    _, their_loss = _reference(model, CENTERS[rows], CONTEXTS[rows], NEGATIVES[rows], True, True, {"negative"})
    assert loss.dtype == loss_dtype and float(loss) == pytest.approx(2.0 + their_loss, rel=1e-5)


def test_bad_arguments_raise_clear_errors(monkeypatch):
    model = _model()
    syn0, syn1neg, lr = model["syn0"], model["syn1neg"], torch.tensor(0.1, device=DEVICE)
    common = dict(sg=True, cbow_mean=True)
    cases = [
        (dict(syn0=syn0.double()), "syn0 must be a 2-d float32"),
        (dict(contexts=CONTEXTS[:2]), "contexts must be"),
        (dict(centers=CENTERS.float()), "centers must be a 1-d integer"),
        (dict(lr=0.1), "lr must be a 0-d float32 tensor"),
        (dict(negatives=NEGATIVES[:1]), "negatives must be"),
        (dict(syn1neg=syn1neg[:, :4]), "syn1neg has rows of 4"),
        (dict(syn1neg=None, negatives=None), "needs an objective"),
        (dict(syn1=model["syn1"]), "missing ['points', 'codes', 'path_lengths']"),
        (dict(lockf=torch.ones(3, device=DEVICE)), "lockf must be"),
        (dict(loss=torch.zeros(1, device=DEVICE)), "loss must be a 0-d"),
        (dict(negatives=NEGATIVES.cpu() if DEVICE.type == "cuda" else NEGATIVES.to("meta")), "negatives is on"),
        (dict(centers_per_program=3), "centers_per_program must be a power of two"),
        (dict(max_programs=0), "max_programs must be at least 1"),
    ]
    for change, message in cases:
        arguments = dict(syn0=syn0, centers=CENTERS, contexts=CONTEXTS, lr=lr, syn1neg=syn1neg, negatives=NEGATIVES)
        arguments.update(change)
        with pytest.raises(ValueError) as error:
            fused_step(**arguments, **common)
        assert message in str(error.value)
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    cpu = {name: tensor.cpu() for name, tensor in model.items()}
    with pytest.raises(RuntimeError, match="TRITON_INTERPRET=1"):
        fused_step(cpu["syn0"], CENTERS.cpu(), CONTEXTS.cpu(), lr.cpu(), syn1neg=cpu["syn1neg"],
                   negatives=NEGATIVES.cpu(), **common)


LEE = list(LineSentence(datapath("lee_background.cor")))
LEE_SETTINGS = dict(vector_size=32, window=4, negative=5, min_count=5, epochs=3, workers=1)


def _similarities(wv, words):
    vectors = wv[words] / np.linalg.norm(wv[words], axis=1, keepdims=True)
    return (vectors @ vectors.T)[np.triu_indices(len(words), 1)]


def _train_lee_with_fused_steps(settings, batch=4096, group=1024):
    """Train on gensim's Lee corpus with the host's batching padded to a fixed shape and fused steps.

    Each program takes ``group`` centers that share their starting values: far staler than a GPU's
    in-flight programs, and without any repeat cap.
    """
    model = Word2Vec(**dict(settings, seed=3))
    model.build_vocab(LEE)
    wv, window, epochs = model.wv, settings["window"], settings["epochs"]
    sentences = [[wv.key_to_index[word] for word in sentence if word in wv.key_to_index] for sentence in LEE]
    ids = np.concatenate(sentences)
    lengths = np.array([len(sentence) for sentence in sentences])
    sample_ints = np.array([wv.get_vecattr(word, "sample_int") for word in wv.index_to_key], dtype=np.uint32)
    syn0 = torch.from_numpy(wv.vectors).to(DEVICE, copy=True)
    syn1neg = torch.zeros_like(syn0)
    sampler = NoiseSampler(model.cum_table, DEVICE, seed=3)
    rng = np.random.default_rng(3)
    lr, loss = torch.zeros((), device=DEVICE), torch.zeros((), dtype=torch.float64, device=DEVICE)
    centers = torch.full((batch,), -1, device=DEVICE)
    contexts = torch.full((batch, 2 * window), -1, device=DEVICE)
    for epoch in range(epochs):
        windows = context_windows(*subsample(ids, lengths, sample_ints, rng), window, True, rng)
        order = rng.permutation(len(windows.centers))
        for start in range(0, len(order), batch):
            rows = order[start:start + batch]
            centers.fill_(-1)
            contexts.fill_(-1)
            centers[:len(rows)] = torch.from_numpy(windows.centers[rows])
            contexts[:len(rows)] = torch.from_numpy(windows.contexts[rows])
            lr.fill_(learning_rate(model.alpha, model.min_alpha, (epoch + start / len(order)) / epochs))
            fused_step(syn0, centers, contexts, lr, sg=settings["sg"], cbow_mean=settings.get("cbow_mean", 1),
                       syn1neg=syn1neg, negatives=sampler.draw((batch, settings["negative"])), loss=loss,
                       centers_per_program=group)
    wv.vectors[:] = syn0.cpu().numpy()
    return wv, float(loss)


@pytest.mark.parametrize("settings", [dict(sg=1), dict(sg=0, cbow_mean=1, alpha=0.05)], ids=["skipgram", "cbow"])
def test_training_the_lee_corpus_agrees_with_gensim_as_gensim_agrees_with_itself(settings):
    """Similarities among 300 frequent words (ranks 20-320) agree with gensim's as much as two gensim seeds do."""
    settings = dict(LEE_SETTINGS, **settings)
    ours, loss = _train_lee_with_fused_steps(settings)
    gensims = [Word2Vec(LEE, seed=seed, **settings).wv for seed in (1, 2)]
    words = ours.index_to_key[20:320]
    ours_with = [spearmanr(_similarities(ours, words), _similarities(theirs, words))[0] for theirs in gensims]
    gensim_with_gensim = spearmanr(_similarities(gensims[0], words), _similarities(gensims[1], words))[0]
    assert np.isfinite(loss) and loss > 0
    assert min(ours_with) > gensim_with_gensim - 0.08, (ours_with, gensim_with_gensim)


_COMPILE_AND_REPORT = """
import json, os, re, subprocess, sys, tempfile
import triton
from torchw2v.kernels import triton_row_sums
from torchw2v.kernels.triton_step import compile_ahead, kernel_constants
cuobjdump = os.path.join(triton.__path__[0], "backends", "nvidia", "bin", "cuobjdump")
report = {}
for name, (k, depth, sg, cbow_mean, accumulate, line_terms) in json.loads(sys.argv[1]).items():
    if name.startswith("apply"):
        kernel = triton_row_sums.compile_ahead(100, bound=line_terms)
    else:
        constants = kernel_constants(100, 10, k, depth, sg=sg, cbow_mean=cbow_mean, lockf=True,
                                     loss=not line_terms, accumulate=accumulate)
        kernel = compile_ahead(dict(constants, LINE_TERMS=line_terms))
    with tempfile.NamedTemporaryFile(suffix=".cubin") as cubin:
        cubin.write(kernel.asm["cubin"])
        cubin.flush()
        usage = subprocess.run([cuobjdump, "-res-usage", cubin.name], capture_output=True, text=True, check=True)
    report[name] = dict(usage=re.findall(r"(REG|STACK|LOCAL):(\\d+)", usage.stdout),
                        atomics=sorted(set(re.findall(r"atom\\.[\\w.]+", kernel.asm["ptx"]))))
print(json.dumps(report))
"""


def test_kernel_compiles_for_an_h100_without_spilling_and_with_relaxed_atomics(monkeypatch):
    """ptxas (shipped with triton) compiles it for sm_90 in a process without the interpreter: the
    Hogwild step, the row-sum passes of hierarchical softmax and their apply kernel."""
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    configs = {"skipgram-negative": (5, None, True, True, False, False),
               "cbow-mean-negative": (5, None, False, True, False, False),
               "cbow-sum-hs-negative": (5, 24, False, False, False, False),
               "skipgram-hs-row-sums": (None, 24, True, True, True, False),
               "skipgram-hs-line-terms": (None, 24, True, True, True, True),
               "cbow-mean-hs-row-sums": (None, 24, False, True, True, False),
               "apply": (None, None, False, False, False, False), "apply-bounded": (None, None, True, True, False, True)}
    result = subprocess.run([sys.executable, "-c", _COMPILE_AND_REPORT, json.dumps(configs)], capture_output=True,
                            text=True, env=dict(os.environ), timeout=300)
    if "No such file" in result.stderr and "cuobjdump" in result.stderr:
        pytest.skip("this triton build ships no CUDA tools")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report) == set(configs)
    for name, compiled in report.items():
        usage = {key: int(value) for key, value in compiled["usage"]}
        assert usage["REG"] > 0 and usage["STACK"] == 0 and usage.get("LOCAL", 0) == 0, (name, usage)
        if not name.startswith("apply"):  # the apply kernel stores, without atomics
            assert compiled["atomics"] and all(".relaxed." in atomic for atomic in compiled["atomics"]), compiled


@pytest.mark.parametrize("sg, hs", [(1, 0), (0, 0), (1, 1), (0, 1)], ids=["skipgram", "cbow", "skipgram-hs", "cbow-hs"])
def test_the_device_path_trains_with_the_fused_kernel_when_chosen(sg, hs):
    """TorchWord2Vec(cuda_kernel="triton") runs every update through fused_step (here in the
    interpreter, on CPU tensors): the loss is recorded, the weights move, the padding rows stay zero."""
    from gensim.test.utils import common_texts

    from torchw2v import TorchWord2Vec
    from torchw2v import torch_steps

    calls = []
    original = torch_steps.TorchSteps._fused_update

    def counted(self, *args):
        calls.append(self.kernel)
        return original(self, *args)

    sentences = common_texts * 3
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch_steps.TorchSteps, "_fused_update", counted)
        patch.setattr(torch_steps, "SPAN_TOKENS", 64)  # no padded span slots: the interpreter pays per program
        model = TorchWord2Vec(vector_size=8, min_count=1, epochs=1, workers=1, sg=sg, seed=3, device=str(DEVICE),
                              cpu_kernel="torch", cuda_kernel="triton", batch_size=32, sample=0, hs=hs,
                              negative=0 if hs else 5)
        model.build_vocab(sentences)
        before = model.wv.vectors.copy()
        model.train(sentences, total_examples=len(sentences), epochs=1, compute_loss=True)
    assert calls and set(calls) == {"triton"}
    assert model.get_latest_training_loss() > 0
    assert not np.allclose(model.wv.vectors, before)


def test_cuda_kernel_choice_is_checked(caplog):
    from torchw2v import TorchWord2Vec
    from torchw2v.config import resolve_cuda_kernel

    assert resolve_cuda_kernel("auto", "cpu", "float32", "sgd") == "torch"
    assert resolve_cuda_kernel("torch", "cuda", "float32", "sgd") == "torch"
    with caplog.at_level(logging.INFO, logger="torchw2v.config"):
        assert resolve_cuda_kernel("auto", "cuda", "float64", "sgd") == "torch"
    assert "the fused kernel trains float32 weights, not float64" in caplog.text
    assert resolve_cuda_kernel("auto", "cuda", "float32", "sgd") == "triton"  # hierarchical softmax too
    with pytest.raises(ValueError, match="cuda_kernel='triton' cannot run here: the fused kernel applies SGD"):
        TorchWord2Vec(device="cpu", cuda_kernel="triton", optimizer="adam")
    with pytest.raises(ValueError, match="cuda_kernel must be one of"):
        TorchWord2Vec(device="cpu", cuda_kernel="cudnn")
