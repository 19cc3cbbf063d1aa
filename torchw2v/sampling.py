"""Word-frequency tables for training: subsampling thresholds and the noise distribution.

Both follow gensim's formulas to the bit, so that a vocabulary prepared here trains with
the same keep-probabilities and negative-sampling distribution as gensim's ``Word2Vec``.

>>> import numpy as np
>>> counts = np.array([1000, 100, 10])
>>> sample_ints = downsample_ints(counts, sample=1e-2, retain_total=int(counts.sum()))
>>> np.round(keep_probabilities(sample_ints), 3).tolist()
[0.116, 0.444, 1.0]
>>> int(noise_cum_table(counts, ns_exponent=0.75)[-1]) == 2**31 - 1
True
"""
import numpy as np

#: Scale of gensim's integer subsampling thresholds: a word is kept when a uniform random
#: uint32 is at most its ``sample_int``.
SAMPLE_INT_SCALE = 2**32 - 1

#: Largest value of gensim's cumulative noise table (``make_cum_table``'s ``domain``).
CUM_TABLE_DOMAIN = 2**31 - 1


def downsample_ints(counts, sample, retain_total):
    """Integer keep-thresholds for frequent-word subsampling, as gensim's ``prepare_vocab``.

    The keep-probability of word ``w`` is ``(sqrt(c_w / t) + 1) * t / c_w`` capped at 1,
    where ``t = sample * retain_total`` (or, for ``sample >= 1``, gensim's shorthand
    ``int(sample * (3 + sqrt(5)) / 2)``), stored as ``uint32(p * (2**32 - 1))``.

    Parameters
    ----------
    counts : numpy.ndarray of int
        Corpus counts of the words to threshold.
    sample : float
        gensim's ``sample``; 0 or None disables subsampling.
    retain_total : int
        Total count of the retained vocabulary (the denominator of the frequencies).

    Returns
    -------
    numpy.ndarray of uint32
        One threshold per word.

    Examples
    --------
    >>> downsample_ints(np.array([5]), sample=0, retain_total=5).tolist()
    [4294967295]
    """
    counts = np.asarray(counts, dtype=np.float64)
    if not sample:
        threshold_count = float(retain_total)
    elif sample < 1.0:
        threshold_count = sample * retain_total
    else:
        threshold_count = float(int(sample * (3 + np.sqrt(5)) / 2))
    with np.errstate(divide="ignore"):
        probability = (np.sqrt(counts / threshold_count) + 1) * (threshold_count / counts)
    probability = np.minimum(probability, 1.0)
    return (probability * SAMPLE_INT_SCALE).astype(np.uint32)


def keep_probabilities(sample_ints):
    """Probability that each word survives subsampling, from gensim's ``sample_int`` values.

    >>> keep_probabilities(np.array([SAMPLE_INT_SCALE], dtype=np.uint32)).tolist()
    [1.0]
    """
    return np.asarray(sample_ints, dtype=np.float64) / SAMPLE_INT_SCALE


def noise_cum_table(counts, ns_exponent, domain=CUM_TABLE_DOMAIN):
    """Cumulative table of the negative-sampling distribution ``count ** ns_exponent``.

    Equal to gensim's ``Word2Vec.make_cum_table``: drawing ``r`` uniformly in
    ``[0, domain)`` and taking ``searchsorted(table, r, side='left')`` draws a word index
    with probability proportional to ``count ** ns_exponent``. Negative exponents favour
    rare words; 0 samples all words equally.

    Parameters
    ----------
    counts : numpy.ndarray of int
        Word counts in vocabulary order.
    ns_exponent : float
        The exponent shaping the distribution (0.75 in the word2vec paper).
    domain : int, optional
        The table's last value.

    Returns
    -------
    numpy.ndarray of uint32

    Raises
    ------
    ValueError
        ``ns_exponent`` makes the weights overflow or vanish (e.g. ``1e6``).

    Examples
    --------
    >>> noise_cum_table(np.array([1, 1]), ns_exponent=1.0, domain=10).tolist()
    [5, 10]
    >>> noise_cum_table(np.array([5, 7]), ns_exponent=1e6)
    Traceback (most recent call last):
    ...
    ValueError: ns_exponent=1000000.0 gives no usable noise distribution over these word counts (count ** ns_exponent overflows or vanishes); use a value such as 0.75
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        weights = np.asarray(counts, dtype=np.float64) ** float(ns_exponent)
        cumulative = np.cumsum(weights)  # sequential, as gensim's Python loop
    if len(cumulative) == 0:
        return np.zeros(0, dtype=np.uint32)
    if not (np.isfinite(cumulative[-1]) and cumulative[-1] > 0):
        raise ValueError(f"ns_exponent={ns_exponent!r} gives no usable noise distribution over these word counts "
                         "(count ** ns_exponent overflows or vanishes); use a value such as 0.75")
    return np.round(cumulative / cumulative[-1] * domain).astype(np.uint32)

