"""Vocabulary building with gensim's exact rules.

Counting (``scan_vocab``) and trimming, sorting and subsampling thresholds
(``prepare_vocab``) follow ``gensim.models.Word2Vec`` step by step, and store their
result in a ``gensim.models.KeyedVectors`` (``index_to_key``, ``key_to_index`` and the
``count`` and ``sample_int`` attributes), so the vocabulary is identical to gensim's for
the same corpus and settings.

>>> from gensim.models import KeyedVectors
>>> scan = scan_vocab([["a", "b", "a"], ["a", "c"]])
>>> scan.total_words, scan.corpus_count, dict(scan.raw_vocab)
(5, 2, {'a': 3, 'b': 1, 'c': 1})
>>> wv = KeyedVectors(4)
>>> report = prepare_vocab(wv, scan.raw_vocab, min_count=1, sample=0)
>>> wv.index_to_key, wv.expandos["count"].tolist()  # gensim's order: ties of 1 come out reversed
(['a', 'c', 'b'], [3, 1, 1])
"""
import logging
from collections import Counter
from dataclasses import dataclass

import numpy as np
from gensim.utils import keep_vocab_item, prune_vocab

from torchw2v.sampling import downsample_ints, keep_probabilities

logger = logging.getLogger(__name__)

#: The padding pseudo-word gensim adds when ``null_word=1``.
NULL_WORD = "\0"


@dataclass
class VocabScan:
    """Raw counts of one pass over a corpus.

    Attributes
    ----------
    raw_vocab : dict of (str, int)
        Count of every word seen (after ``max_vocab_size`` pruning, if any).
    total_words : int
        Raw words in the corpus.
    corpus_count : int
        Sentences in the corpus.
    """

    raw_vocab: dict
    total_words: int
    corpus_count: int


def scan_vocab(sentences, max_vocab_size=None, trim_rule=None, progress_per=10000, record=None):
    """Count words, pruning as gensim does whenever ``max_vocab_size`` is exceeded.

    Parameters
    ----------
    sentences : iterable of list of str
        The corpus (already checked by :mod:`torchw2v.corpus`).
    max_vocab_size : int, optional
        When more word types than this are held, drop those with count below an
        increasing threshold (gensim's ``utils.prune_vocab``).
    trim_rule : callable, optional
        gensim's ``trim_rule(word, count, min_count)``, also applied while pruning.
    progress_per : int, optional
        Log progress every this many sentences.
    record : torchw2v.corpus.ScannedCorpus, optional
        Count through it, which also records the corpus as ids for the first epoch (not with
        ``max_vocab_size``: pruned words would have no count).

    Returns
    -------
    VocabScan

    Examples
    --------
    >>> scan_vocab([["x"]] * 3).raw_vocab["x"]
    3
    """
    if record is not None and max_vocab_size:
        raise ValueError("a scan that prunes its counts (max_vocab_size) cannot record the corpus")
    totals = VocabScan(raw_vocab=Counter(), total_words=0, corpus_count=0)
    vocab = totals.raw_vocab  # update() counts a sentence in C; insertion order (ties) as gensim's dict

    def checked():
        for sentence_no, sentence in enumerate(sentences):
            if sentence_no % progress_per == 0:
                logger.info(
                    "PROGRESS: at sentence #%i, processed %i words, keeping %i word types",
                    sentence_no, totals.total_words, len(vocab) if record is None else record.word_types,
                )
            if sentence is None or isinstance(sentence, (str, bytes)):  # Counter.update would skip or split them
                raise TypeError(f"sentence #{sentence_no} of the corpus is {type(sentence).__name__} "
                                f"{sentence!r:.40}, not a list of tokens")
            totals.total_words += len(sentence)
            totals.corpus_count = sentence_no + 1
            yield sentence

    if record is not None:
        vocab = totals.raw_vocab = record.count(checked())
    else:
        min_reduce = 1
        for sentence in checked():
            vocab.update(sentence)
            if max_vocab_size and len(vocab) > max_vocab_size:
                prune_vocab(vocab, min_reduce, trim_rule=trim_rule)
                min_reduce += 1
    logger.info(
        "collected %i word types from a corpus of %i raw words and %i sentences",
        len(vocab), totals.total_words, totals.corpus_count,
    )
    return totals


def effective_min_count(raw_vocab, min_count, max_final_vocab=None):
    """The ``min_count`` gensim applies once ``max_final_vocab`` is taken into account.

    >>> effective_min_count({"a": 5, "b": 3, "c": 1}, min_count=1, max_final_vocab=2)
    2
    """
    if max_final_vocab is None:
        return min_count
    by_count = sorted(raw_vocab.keys(), key=lambda word: raw_vocab[word], reverse=True)
    calc_min_count = 1
    if max_final_vocab < len(by_count):
        calc_min_count = raw_vocab[by_count[max_final_vocab]] + 1
    return max(calc_min_count, min_count)


def prepare_vocab(
    wv, raw_vocab, min_count, sample, max_final_vocab=None, trim_rule=None,
    sorted_vocab=True, null_word=False, update=False, dry_run=False,
):
    """Trim, sort and threshold the vocabulary into ``wv`` as gensim's ``prepare_vocab``.

    Parameters
    ----------
    wv : gensim.models.KeyedVectors
        Receives ``index_to_key``, ``key_to_index`` and the ``count`` and ``sample_int``
        attributes. With ``update=True`` it must hold the existing vocabulary.
    raw_vocab : dict of (str, int)
        Counts from :func:`scan_vocab` or ``build_vocab_from_freq``.
    min_count : int
        Discard words rarer than this (unless ``trim_rule`` keeps them).
    sample : float
        Subsampling threshold (see :func:`torchw2v.sampling.downsample_ints`).
    max_final_vocab : int, optional
        Raise the effective ``min_count`` so at most about this many words remain.
    trim_rule : callable, optional
        gensim's ``trim_rule(word, count, min_count)``.
    sorted_vocab : bool, optional
        Sort by descending count (ties in gensim's order, the last seen first), as gensim.
    null_word : bool, optional
        Append gensim's ``'\\0'`` padding word.
    update : bool, optional
        Add new words to the existing vocabulary and add the new counts to old words.
    dry_run : bool, optional
        Only report what would be kept.

    Returns
    -------
    dict
        gensim's report values plus ``effective_min_count``.

    Examples
    --------
    >>> from gensim.models import KeyedVectors
    >>> wv = KeyedVectors(2)
    >>> prepare_vocab(wv, {"a": 2, "b": 1}, min_count=2, sample=0)["num_retained_words"]
    1
    """
    effective = effective_min_count(raw_vocab, min_count, max_final_vocab)
    drop_unique = drop_total = 0
    if not update:
        retain_words, retain_total = [], 0
        for word, count in raw_vocab.items():
            if keep_vocab_item(word, count, effective, trim_rule=trim_rule):
                retain_words.append(word)
                retain_total += count
            else:
                drop_unique += 1
                drop_total += count
        if not dry_run:
            wv.index_to_key = list(retain_words)
            wv.key_to_index = {word: i for i, word in enumerate(retain_words)}
            wv.expandos = {}
            wv.allocate_vecattrs(attrs=["count"], types=[np.int64])
            wv.expandos["count"][:] = [raw_vocab[word] for word in retain_words]
    else:
        new_words, new_total, old_words, old_total = [], 0, [], 0
        for word, count in raw_vocab.items():
            if keep_vocab_item(word, count, effective, trim_rule=trim_rule):
                if wv.has_index_for(word):
                    old_words.append(word)
                    old_total += count
                else:
                    new_words.append(word)
                    new_total += count
            else:
                drop_unique += 1
                drop_total += count
        if not dry_run:
            for word in new_words:
                wv.key_to_index[word] = len(wv.index_to_key)
                wv.index_to_key.append(word)
            wv.allocate_vecattrs(attrs=["count"], types=[np.int64])
            wv.expandos["count"][:] += [raw_vocab.get(word, 0) for word in wv.index_to_key]
        retain_words = new_words + old_words
        retain_total = new_total + old_total
    logger.info(
        "effective_min_count=%i retains %i unique words (drops %i), leaving a %i word corpus (drops %i)",
        effective, len(retain_words), drop_unique, retain_total, drop_total,
    )
    retained_counts = np.array([raw_vocab[word] for word in retain_words], dtype=np.int64)
    sample_ints = downsample_ints(retained_counts, sample, retain_total)
    probabilities = keep_probabilities(sample_ints)
    downsampled = probabilities < 1.0
    downsample_total = float(np.sum(np.where(downsampled, probabilities * retained_counts, retained_counts)))
    if not dry_run:
        wv.allocate_vecattrs(attrs=["sample_int"], types=[np.uint32])
        if retain_words:
            rows = np.array([wv.key_to_index[word] for word in retain_words], dtype=np.int64)
            wv.expandos["sample_int"][rows] = sample_ints
    logger.info("sample=%g downsamples %i most-common words", sample or 0, int(downsampled.sum()))
    report = {
        "drop_unique": drop_unique, "retain_total": retain_total,
        "downsample_unique": int(downsampled.sum()), "downsample_total": int(downsample_total),
        "num_retained_words": len(retain_words), "effective_min_count": effective,
    }
    if dry_run:
        return report
    if null_word:
        wv.key_to_index[NULL_WORD] = len(wv.index_to_key)
        wv.index_to_key.append(NULL_WORD)
        wv.allocate_vecattrs()
        wv.set_vecattr(NULL_WORD, "count", 1)
    if sorted_vocab and not update:
        wv.sort_by_descending_frequency()
    return report
