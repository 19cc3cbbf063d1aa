"""Tests of torchw2v.progress: the progress records of torchw2v's trainer and gensim's Word2Vec, shown as bars
per epoch or as log lines with words/s and the time left."""
import io
import itertools
import logging

import pytest
from gensim.models import Word2Vec
from gensim.models import word2vec as gensim_word2vec
from gensim.models.word2vec import LineSentence
from gensim.test.utils import datapath

from torchw2v import TorchWord2Vec
from torchw2v.progress import PROGRESS_LOGGERS, EpochProgress, progress_mode, show_progress


def _record(name, message, *args, level=logging.INFO):
    return logging.LogRecord(name, level, __file__, 1, message, args, None)


def test_progress_records_of_both_trainers_are_shown_and_dropped():
    display = EpochProgress("gensim", epochs=2, mode="log")
    ours = _record("torchw2v.trainer", "EPOCH %i - PROGRESS: at %.2f%% %s, %.0f words/s, alpha %.6f",
                   0, 25.0, "words", 1234.0, 0.02)
    theirs = _record("gensim.models.word2vec", "EPOCH %i - PROGRESS: at %.2f%% examples, %.0f words/s, in_qsize %i, "
                     "out_qsize %i", 1, 50.0, 2000.0, 3, 0)
    ours.created, theirs.created = 100.0, 112.5
    assert not display.filter(ours) and not display.filter(theirs)
    # 0.125 of the run done at t=100, 0.75 at t=112.5: 0.05 per second, 0.25 left -> 5 s
    assert display.last_line == "gensim: epoch 2/2, 50% done, 2,000 words/s, 00:05 left"


def test_other_records_pass_except_gensims_info_unless_asked():
    quiet, verbose = EpochProgress("x", 1, "log"), EpochProgress("x", 1, "log", gensim_info=True)
    epoch_end = _record("gensim.models.word2vec", "EPOCH %i: training on %i raw words", 0, 100)
    warning = _record("gensim.models.word2vec", "something odd", level=logging.WARNING)
    ours = _record("torchw2v.trainer", "EPOCH %i: training on %i raw words", 0, 100)
    assert [quiet.filter(r) for r in (epoch_end, warning, ours)] == [False, True, True]
    assert [verbose.filter(r) for r in (epoch_end, warning, ours)] == [True, True, True]


def test_log_lines_come_every_interval(caplog):
    display = EpochProgress("torchw2v", epochs=1, mode="log", interval=5.0)
    with caplog.at_level(logging.INFO, logger="torchw2v.progress"):
        for second in range(12):
            display.update(0, 100 * second / 12, 1000.0, now=float(second))
    lines = [r.getMessage() for r in caplog.records if r.name == "torchw2v.progress"]
    assert len(lines) == 3 and lines[0] == "torchw2v: epoch 1/1, 0% done, 1,000 words/s, ? left"
    assert lines[1] == "torchw2v: epoch 1/1, 42% done, 1,000 words/s, 00:07 left"


def test_bar_mode_draws_a_bar_per_epoch():
    stream = io.StringIO()
    display = EpochProgress("torchw2v", epochs=2, mode="bar", stream=stream)
    display.update(0, 50.0, 1000.0, now=0.0)
    display.update(0, 100.0, 1000.0, now=1.0)
    display.update(1, 50.0, 1500.0, now=2.0)
    display.close()
    text = stream.getvalue()
    assert "torchw2v epoch 1/2: 100%" in text and "torchw2v epoch 2/2:  50%" in text
    assert "1,500 words/s, 00:01 left" in text and "torchw2v epoch 2/2: 100%" not in text  # stopped half-way
    display.update(0, 40.0, 1000.0, now=3.0)
    display.update(1, 90.0, 1000.0, now=4.0)
    display.close(finished=True)
    assert "torchw2v epoch 2/2: 100%" in stream.getvalue()


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode"):
        EpochProgress("x", 1, "fancy")


def test_progress_mode_follows_quiet_and_the_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert (progress_mode(False, Terminal()), progress_mode(False, io.StringIO()), progress_mode(True, Terminal())) \
        == ("bar", "log", None)


@pytest.mark.parametrize("trainer", ["torchw2v", "gensim"])
def test_show_progress_catches_real_training_records_and_restores_the_loggers(trainer, caplog, monkeypatch):
    corpus = list(LineSentence(datapath("lee_background.cor")))
    clock = itertools.count()  # gensim logs progress after 1 s of an epoch: each reading of its clock is 1 s on
    monkeypatch.setattr(gensim_word2vec, "default_timer", lambda: float(next(clock)))
    if trainer == "torchw2v":
        model = TorchWord2Vec(corpus, vector_size=16, epochs=1, workers=1, device="cpu", seed=1)
    else:
        model = Word2Vec(corpus, vector_size=16, epochs=1, workers=1, seed=1)
    levels = [logging.getLogger(name).level for name in PROGRESS_LOGGERS]
    caplog.clear()
    with caplog.at_level(logging.INFO), show_progress(trainer, epochs=2, mode="log") as display:
        model.train(corpus, total_examples=model.corpus_count, epochs=2, report_delay=0.0)
    assert display.last_line.startswith(f"{trainer}: epoch 2/2, ") and " words/s, " in display.last_line
    assert "- PROGRESS: at" not in caplog.text  # shown by the display, not logged as they are
    assert f"{trainer}: epoch " in caplog.text  # the first line, at once
    assert [logging.getLogger(name).level for name in PROGRESS_LOGGERS] == levels
    assert all(display not in logging.getLogger(name).filters for name in PROGRESS_LOGGERS)
