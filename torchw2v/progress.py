"""Training progress a person can follow: a bar per epoch on a terminal, log lines otherwise.

torchw2v's trainer and gensim's ``Word2Vec`` both log ``EPOCH n - PROGRESS: at p% ..., w words/s``
about once a second, at INFO, on the loggers of :data:`PROGRESS_LOGGERS`. :func:`show_progress`
catches these records while a model trains and shows them as a tqdm bar per epoch when the output
is a terminal (mode ``"bar"``), or as a log line every :data:`LOG_INTERVAL` seconds otherwise (mode
``"log"``). Each gives the words/s and the time left of the whole training, extrapolated from the
progress since the first record. The command line picks the mode with :func:`progress_mode`;
``--quiet`` gives None, which shows nothing.

>>> display = EpochProgress("torchw2v", epochs=2, mode="log")
>>> display.update(epoch=0, percent=50.0, words_per_second=1000.0, now=10.0)
>>> display.update(epoch=1, percent=0.0, words_per_second=1000.0, now=20.0)
>>> display.last_line
'torchw2v: epoch 2/2, 0% done, 1,000 words/s, 00:20 left'
"""
from __future__ import annotations

import contextlib
import logging
import math
import re
import sys
from collections.abc import Iterator
from typing import TextIO

logger = logging.getLogger(__name__)

PROGRESS_LOGGERS = ("torchw2v.trainer", "gensim.models.word2vec")
"""The loggers whose progress records :func:`show_progress` shows: torchw2v's trainer and gensim's Word2Vec."""

PROGRESS_MESSAGE = re.compile(r"EPOCH (\d+) - PROGRESS: at ([\d.]+)% \w+, ([\d.]+) (?:effective )?words/s")
"""A progress record's message: epoch (from 0), percent of the epoch done, words/s."""

LOG_INTERVAL = 5.0
"""Seconds between two progress log lines (mode ``"log"``)."""

PROGRESS_MODES = ("bar", "log")
"""How :class:`EpochProgress` shows progress: tqdm bars, or log lines."""


def progress_mode(quiet: bool, stream: TextIO | None = None) -> str | None:
    """The mode for the command line: None when ``quiet``, ``"bar"`` on a terminal, else ``"log"``.

    >>> import io
    >>> progress_mode(False, io.StringIO()), progress_mode(True)
    ('log', None)
    """
    if quiet:
        return None
    stream = sys.stderr if stream is None else stream
    return "bar" if stream.isatty() else "log"


def _duration(seconds: float | None) -> str:
    """``mm:ss`` (or ``h:mm:ss``), or ``?`` before the rate is known."""
    from tqdm import tqdm

    return "?" if seconds is None or not math.isfinite(seconds) else tqdm.format_interval(seconds)


class EpochProgress(logging.Filter):
    """Shows the progress records of a training run, and keeps them out of the log.

    Used as a filter on the loggers of :data:`PROGRESS_LOGGERS` (see :func:`show_progress`): a
    progress record updates the display and is dropped; other records pass, except gensim's INFO
    records when ``gensim_info`` is False (gensim's logger has to be at INFO for its progress records).

    Parameters
    ----------
    label : str
        Who trains, such as ``"torchw2v"`` or ``"gensim"``: starts each bar and line.
    epochs : int
        Epochs of the run, for the overall progress and the time left.
    mode : {"bar", "log"}
        A tqdm bar per epoch (on ``stream``), or an INFO line on this module's logger every ``interval`` seconds.
    gensim_info : bool, optional
        Let gensim's other INFO records through.
    interval : float, optional
        Seconds between log lines.
    stream : file, optional
        Where the bars go (default: standard error).

    Attributes
    ----------
    last_line : str or None
        The latest progress line shown (the bar's text in mode ``"bar"``).
    """

    def __init__(self, label: str, epochs: int, mode: str, *, gensim_info: bool = False,
                 interval: float = LOG_INTERVAL, stream: TextIO | None = None) -> None:
        super().__init__()
        if mode not in PROGRESS_MODES:
            raise ValueError(f"mode must be one of {', '.join(PROGRESS_MODES)}, got {mode!r}")
        self.label, self.epochs, self.mode = label, max(int(epochs), 1), mode
        self.gensim_info, self.interval, self.stream = gensim_info, interval, stream
        self.last_line: str | None = None
        self._first: tuple[float, float] | None = None  # (time, fraction done) of the first record
        self._last_log = -math.inf
        self._bar = None
        self._bar_epoch = -1

    def filter(self, record: logging.LogRecord) -> bool:
        """Show and drop a progress record; let other records through (see the class)."""
        match = PROGRESS_MESSAGE.match(record.getMessage())
        if match is None:
            return record.levelno >= logging.WARNING or self.gensim_info or not record.name.startswith("gensim")
        self.update(int(match[1]), float(match[2]), float(match[3]), record.created)
        return False

    def update(self, epoch: int, percent: float, words_per_second: float, now: float) -> None:
        """Show that ``percent`` of epoch ``epoch`` (from 0) is done, at ``words_per_second``, at time ``now``."""
        done = min((epoch + percent / 100) / self.epochs, 1.0)
        if self._first is None:
            self._first = (now, done)
        start, start_done = self._first
        left = (1 - done) * (now - start) / (done - start_done) if done > start_done and now > start else None
        status = f"{words_per_second:,.0f} words/s, {_duration(left)} left"
        if self.mode == "log":
            self.last_line = f"{self.label}: epoch {epoch + 1}/{self.epochs}, {percent:.0f}% done, {status}"
            if now - self._last_log >= self.interval:
                self._last_log = now
                logger.info("%s", self.last_line)
            return
        if epoch != self._bar_epoch:
            self._close_bar(finished=True)  # the previous epoch is over
            self._open_bar(epoch)
        self._bar.postfix = [status]  # a list: tqdm adds no ", " before it
        self._bar.update(round(percent, 1) - self._bar.n)
        self._bar.refresh()
        self.last_line = f"{self._bar.desc} {percent:.0f}% {status}"

    def _open_bar(self, epoch: int) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(total=100, desc=f"{self.label} epoch {epoch + 1}/{self.epochs}", leave=True,
                         file=self.stream if self.stream is not None else sys.stderr, dynamic_ncols=True,
                         postfix=[""], bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix[0]}")
        self._bar_epoch = epoch

    def _close_bar(self, finished: bool) -> None:
        if self._bar is not None:
            if finished:
                self._bar.update(100 - self._bar.n)
            self._bar.close()
            self._bar = None

    def close(self, finished: bool = False) -> None:
        """Finish the display: close the open bar, filled when the training ``finished``."""
        self._close_bar(finished)


@contextlib.contextmanager
def show_progress(label: str, epochs: int, mode: str | None, *, gensim_info: bool = False,
                  stream: TextIO | None = None) -> Iterator[EpochProgress | None]:
    """Show the progress of the training runs within the ``with`` block (see :class:`EpochProgress`).

    Sets the loggers of :data:`PROGRESS_LOGGERS` to INFO and filters them; in mode ``"bar"``, log
    records are written through tqdm so that they do not break the bars. Everything is restored on exit.
    With ``mode=None`` nothing changes.

    Examples
    --------
    >>> from gensim.models import Word2Vec
    >>> from gensim.test.utils import common_texts
    >>> with show_progress("gensim", epochs=1, mode="log") as display:
    ...     model = Word2Vec(common_texts, min_count=1, epochs=1)
    >>> display is not None
    True
    """
    if mode is None:
        yield None
        return
    display = EpochProgress(label, epochs, mode, gensim_info=gensim_info, stream=stream)
    loggers = [logging.getLogger(name) for name in PROGRESS_LOGGERS]
    levels = [each.level for each in loggers]
    for each in loggers:
        each.setLevel(logging.INFO)
        each.addFilter(display)
    if mode == "bar":
        from tqdm.contrib.logging import logging_redirect_tqdm

        redirect = logging_redirect_tqdm()
    else:
        redirect = contextlib.nullcontext()
    try:
        with redirect:
            yield display
        display.close(finished=True)
    finally:
        display.close()
        for each, level in zip(loggers, levels):
            each.removeFilter(display)
            each.setLevel(level)
