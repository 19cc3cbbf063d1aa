"""The Triton batch making against the torch ops of device_data (its reference), value for value.

With a CUDA device the kernels run compiled on it; without one, in Triton's interpreter on CPU
tensors (``tests/conftest.py``).
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from torchw2v.corpus import Chunk
from torchw2v.device_data import DeviceBatches, DeviceCorpus, WindowWorkspace, span_windows
from torchw2v.kernels import triton_available
from torchw2v.kernels.triton_windows import fused_span_windows
from torchw2v.sampling import noise_cum_table

pytestmark = [pytest.mark.skipif(not triton_available(), reason="triton is not installed"),
              pytest.mark.usefixtures("triton_interpreter")]
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _storage(spans, span, vocab, seed):
    """A corpus storage of ``spans`` spans: random ids (the sentinel ``vocab`` among them), sentences of 1-40 tokens."""
    generator = torch.Generator().manual_seed(seed)
    tokens = spans * span
    ids = torch.randint(0, vocab + 1, (tokens,), generator=generator)
    lengths = torch.randint(1, 41, (tokens,), generator=generator)
    sentences = torch.repeat_interleave(torch.arange(tokens), lengths)[:tokens]
    return torch.stack([ids, sentences]).int().to(DEVICE)


def _outputs(span, window):
    compact = torch.full((3, span + 2 * window + 1), -1, dtype=torch.int64, device=DEVICE)
    centers = torch.empty(span, dtype=torch.int64, device=DEVICE)
    contexts = torch.empty(span, 2 * window, dtype=torch.int64, device=DEVICE)
    return compact, centers, contexts, torch.zeros((), dtype=torch.int64, device=DEVICE)


@pytest.mark.parametrize("span, window, shrink", [(300, 3, True), (300, 3, False), (5000, 5, True), (64, 1, True)],
                         ids=["small", "small-fixed-reach", "several-tiles", "window-1"])
def test_windows_equal_the_torch_ops_for_the_same_draws(span, window, shrink):
    """Every span of the storage (the cursor wraps): centers, contexts, kept count and cursor equal span_windows'."""
    vocab, spans = 30, 3
    storage = _storage(spans, span, vocab, seed=span + window)
    generator = torch.Generator().manual_seed(7)
    thresholds = torch.randint(0, 2**32, (vocab + 1,), generator=generator).to(DEVICE)
    thresholds[-1] = -1  # the sentinel: never kept
    compact, centers, contexts, effective = _outputs(span, window)
    cursor = torch.tensor([1], device=DEVICE)
    expected_kept = 0
    for step in range(spans + 1):
        draws = torch.randint(0, 2**32 + 1, (span,), generator=generator).to(DEVICE)
        reach = torch.randint(1, window + 1, (span,), generator=generator).to(DEVICE)
        index = (1 + step) % spans
        tokens = torch.cat([storage[:, index * span:(index + 1) * span].long(), reach[None]])
        want_centers, want_contexts, kept = span_windows(tokens, draws, thresholds, window,
                                                         WindowWorkspace(span, window, DEVICE), shrink)
        expected_kept += int(kept)
        fused_span_windows(storage, cursor, draws, reach, thresholds, compact, centers, contexts, effective,
                           window=window, shrink_windows=shrink)
        assert torch.equal(centers, want_centers), step
        assert torch.equal(contexts, want_contexts), step
        assert int(effective) == expected_kept
        assert int(cursor) == (index + 1) % spans
    assert 0 < expected_kept < (spans + 1) * span  # some tokens dropped, some kept
    assert (centers >= 0).any() and (contexts == -1).any()


@pytest.mark.parametrize("streamed", [False, True], ids=["resident", "streamed"])
def test_device_batches_make_the_same_batches_with_either_kernel(streamed):
    """DeviceBatches(kernel="triton") gives the torch ops' batches, noise words and effective words, span
    after span, for a resident corpus and one streamed in double-buffered chunks (cursor jumps)."""
    rng = np.random.default_rng(0)
    vocab, span = 20, 512
    lengths = rng.integers(1, 60, 100).astype(np.int32)
    chunks = [Chunk(rng.integers(0, vocab, int(lengths[:50].sum())).astype(np.int32), lengths[:50], 9999, 50),
              Chunk(rng.integers(0, vocab, int(lengths[50:].sum())).astype(np.int32), lengths[50:], 9999, 50)]
    sample_ints = rng.integers(2**30, 2**32, vocab).astype(np.uint32)
    made = {}
    for kernel in ("torch", "triton"):
        corpus = DeviceCorpus(lambda: chunks, vocab_size=vocab, device=DEVICE, span=span,
                              budget_bytes=2 * 2 * span * 8 if streamed else None)
        assert corpus.streamed == streamed
        batches = DeviceBatches(corpus, sample_ints, window=4, shrink_windows=True,
                                cum_table=noise_cum_table(np.arange(1, vocab + 1), 0.75), negative=3, seed=5,
                                kernel=kernel)
        made[kernel] = []
        for _ in range(2):  # two epochs: the cursor goes back to the first span
            for _span in batches.epoch():
                batches.fill()
                made[kernel].append((batches.centers.clone(), batches.contexts.clone(), batches.negatives.clone()))
        made[kernel].append(int(batches.effective_words))
    assert made["torch"][-1] == made["triton"][-1] > 0
    assert len(made["torch"]) == len(made["triton"]) > 4
    for want, got in zip(made["torch"][:-1], made["triton"][:-1]):
        assert all(torch.equal(a, b) for a, b in zip(want, got))


def test_bad_buffers_are_named():
    span, window = 16, 2
    storage = _storage(2, span, 5, seed=0)
    compact, centers, contexts, effective = _outputs(span, window)
    draws = torch.zeros(span, dtype=torch.int64, device=DEVICE)
    thresholds = torch.zeros(6, dtype=torch.int64, device=DEVICE)
    cursor = torch.zeros(1, dtype=torch.int64, device=DEVICE)
    arguments = dict(storage=storage, cursor=cursor, keep_draws=draws, reach=draws.clone(), thresholds=thresholds,
                     compact=compact, centers=centers, contexts=contexts, effective_words=effective)
    for name, bad, message in [("contexts", contexts[:, :3], "contexts must be a contiguous torch.int64 tensor"),
                               ("storage", storage.long(), "storage must be a contiguous torch.int32"),
                               ("compact", compact[:, 1:], "compact must be"),
                               ("storage", storage[:, :span + 1].contiguous(), "multiple of the span")]:
        with pytest.raises(ValueError, match=message):
            fused_span_windows(**dict(arguments, **{name: bad}), window=window, shrink_windows=True)


_COMPILE_AND_REPORT = """
import json, os, re, subprocess, sys, tempfile
import triton
from torchw2v.kernels.triton_windows import compile_ahead
cuobjdump = os.path.join(triton.__path__[0], "backends", "nvidia", "bin", "cuobjdump")
report = {}
for span in json.loads(sys.argv[1]):
    for name, kernel in compile_ahead(span, 5).items():
        with tempfile.NamedTemporaryFile(suffix=".cubin") as cubin:
            cubin.write(kernel.asm["cubin"])
            cubin.flush()
            usage = subprocess.run([cuobjdump, "-res-usage", cubin.name], capture_output=True, text=True, check=True)
        report[f"{name}-{span}"] = re.findall(r"(REG|STACK|LOCAL):(\\d+)", usage.stdout)
print(json.dumps(report))
"""


def test_kernels_compile_for_an_h100_without_spilling(monkeypatch):
    """ptxas (shipped with triton) compiles both programs for sm_90 in a process without the interpreter."""
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    result = subprocess.run([sys.executable, "-c", _COMPILE_AND_REPORT, json.dumps([16384, 65536])],
                            capture_output=True, text=True, env=dict(os.environ), timeout=300)
    if "No such file" in result.stderr and "cuobjdump" in result.stderr:
        pytest.skip("this triton build ships no CUDA tools")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report) == {"compact-16384", "windows-16384", "compact-65536", "windows-65536"}
    for name, usage in report.items():
        usage = {key: int(value) for key, value in usage}
        assert 0 < usage["REG"] <= 128 and usage["STACK"] == 0 and usage.get("LOCAL", 0) == 0, (name, usage)
