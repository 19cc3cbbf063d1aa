"""Tests of torchw2v.figures: each function writes a readable PNG and checks its input."""
import logging
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from gensim.models import KeyedVectors
from gensim.models.word2vec import LineSentence
from gensim.test.utils import datapath
from matplotlib.image import imread

from torchw2v.evaluation import WordPairsResult
from torchw2v.figures import (
    DPI,
    FIGSIZE,
    PANEL_WIDTH,
    PCA_WORD_GROUPS,
    plot_frequency_rank,
    plot_pca,
    plot_training_loss,
    plot_word_pairs,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path, panels=1):
    """``path`` is a non-blank PNG of the figure size for ``panels`` panels side by side."""
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = imread(path)
    width = FIGSIZE[0] if panels == 1 else PANEL_WIDTH * panels
    assert image.shape == (round(FIGSIZE[1] * DPI), round(width * DPI), 4)
    assert image[..., :3].std() > 0.05  # something is drawn on the white background


def _pairs(human, cosine):
    human, cosine = np.asarray(human, dtype=float), np.asarray(cosine, dtype=float)
    words = tuple(f"w{i}" for i in range(len(human)))
    return WordPairsResult("pairs.txt", 0.8, 0.8, len(human), len(human) + 3, words, words, human, cosine)


@pytest.fixture(scope="module")
def pca_wv():
    """Random vectors for the default PCA words, some left out, "France" only capitalised."""
    words = [word for group in PCA_WORD_GROUPS.values() for word in group if word not in {"princess", "moscow"}]
    keys = ["France" if word == "france" else word for word in words]
    wv = KeyedVectors(vector_size=8)
    wv.add_vectors(keys, np.random.default_rng(0).standard_normal((len(keys), 8)).astype(np.float32))
    return wv


def test_frequency_rank_plot_of_the_lee_corpus(tmp_path):
    counts = Counter(word for sentence in LineSentence(datapath("lee_background.cor")) for word in sentence)
    path = plot_frequency_rank(list(counts.values()), min_count=5, path=tmp_path / "ranks.png")
    assert path == tmp_path / "ranks.png"
    assert_png(path)


def test_frequency_rank_plot_with_nothing_dropped(tmp_path):
    assert_png(plot_frequency_rank([3, 2, 2, 1], min_count=1, path=tmp_path / "ranks.png"))


@pytest.mark.parametrize("counts", [[], [3, 0, 1]])
def test_frequency_rank_plot_rejects_bad_counts(counts, tmp_path):
    with pytest.raises(ValueError, match="positive count"):
        plot_frequency_rank(counts, min_count=1, path=tmp_path / "ranks.png")


def test_training_loss_plot(tmp_path):
    words = np.arange(1, 301) * 10_000
    losses = 3 + 2 * np.exp(-np.arange(300) / 50) + np.random.default_rng(0).normal(0, 0.2, 300)
    path = plot_training_loss(words, losses, epoch_boundaries=[1_000_000, 2_000_000, 3_000_000],
                              path=str(tmp_path / "loss.png"))
    assert_png(path)


def test_training_loss_plot_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="same length"):
        plot_training_loss([1, 2, 3], [1.0, 2.0], [], tmp_path / "loss.png")
    with pytest.raises(ValueError, match="smoothing"):
        plot_training_loss([1, 2], [1.0, 2.0], [], tmp_path / "loss.png", smoothing=1.0)
    assert not (tmp_path / "loss.png").exists()


def test_word_pairs_plot_one_panel_per_side(tmp_path):
    human = np.linspace(0, 10, 50)
    cosine = human / 12 + np.random.default_rng(0).normal(0, 0.1, 50)
    assert_png(plot_word_pairs({"mine": _pairs(human, cosine)}, tmp_path / "one.png", title="My pairs"))
    sides = {"torchw2v": _pairs(human, cosine), "gensim": _pairs(human, cosine[::-1])}
    assert_png(plot_word_pairs(sides, tmp_path / "two.png"), panels=2)
    assert_png(plot_word_pairs({"one pair": _pairs([3.0], [0.2])}, tmp_path / "tiny.png"))  # no line through 1 point
    with pytest.raises(ValueError, match="at least one"):
        plot_word_pairs({}, tmp_path / "bad.png")


def test_pca_plot_skips_missing_words(pca_wv, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="torchw2v.evaluation"):
        path = plot_pca(pca_wv, PCA_WORD_GROUPS, tmp_path / "pca.png")
    assert_png(path)
    assert "princess" in caplog.text and "moscow" in caplog.text
    assert "france" not in caplog.text  # found as "France"


def test_pca_plot_of_a_word_list(pca_wv, tmp_path):
    assert_png(plot_pca(pca_wv, ["king", "queen", "man", "woman"], tmp_path / "pca.png"))


def test_pca_plot_side_by_side_shows_the_words_of_every_side(pca_wv, tmp_path, caplog):
    other = KeyedVectors(vector_size=8)
    keys = [key for key in pca_wv.index_to_key if key != "paris"]
    other.add_vectors(keys, np.random.default_rng(1).standard_normal((len(keys), 8)).astype(np.float32))
    with caplog.at_level(logging.WARNING, logger="torchw2v.evaluation"):
        path = plot_pca({"torchw2v": pca_wv, "gensim": other}, PCA_WORD_GROUPS, tmp_path / "pca.png")
    assert_png(path, panels=2)
    assert "paris" in caplog.text  # missing on one side: left out of both panels


def test_pca_plot_needs_three_words(pca_wv, tmp_path):
    with pytest.raises(ValueError, match="at least 3 words"):
        plot_pca(pca_wv, ["king", "queen", "princess"], tmp_path / "pca.png")


def test_figures_leave_pyplot_alone(tmp_path):
    code = (
        "import sys\n"
        "from torchw2v.figures import plot_frequency_rank\n"
        f"plot_frequency_rank([3, 2, 1], 2, {str(tmp_path / 'p.png')!r})\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
