"""Standard quality checks for trained word vectors: word-pair similarity, analogies, neighbours.

WordSim-353 and the Google analogies ship with gensim, so the functions here need no download and
work on any :class:`gensim.models.KeyedVectors`, whether it comes from :class:`torchw2v.TorchWord2Vec`
or from gensim's own ``Word2Vec``:

- :func:`word_pairs` correlates cosine similarities with the human scores of WordSim-353 or of any
  ``word1 word2 score`` file, and keeps the covered pairs for a scatter plot;
- :func:`analogies` answers "a is to b as c is to ?" questions with 3CosAdd and 3CosMul, in batched
  matrix products over the restricted vocabulary;
- :func:`nearest_neighbours` lists the most similar words of chosen words;
- :func:`evaluate` runs them all and returns plain numbers in an :class:`Evaluation`.

Words are matched case-insensitively the way gensim's ``case_insensitive=True`` does it (see
:func:`case_insensitive_index`), so the scores equal those of gensim's ``evaluate_word_pairs`` and
``evaluate_word_analogies``; a small vocabulary that covers none of a benchmark's words gives ``nan``
instead of failing.

>>> from gensim.models import Word2Vec
>>> from gensim.models.word2vec import LineSentence
>>> from gensim.test.utils import datapath
>>> model = Word2Vec(LineSentence(datapath("lee_background.cor")), vector_size=32, workers=1)
>>> result = evaluate(model.wv, neighbour_words=["attacks"])
>>> -1.0 <= result.wordsim_spearman <= 1.0
True
>>> result.wordsim_pairs_total
353
>>> len(result.neighbours["attacks"])
10
"""
from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Union

import numpy as np
from gensim import utils
from gensim.models import KeyedVectors
from gensim.test.utils import datapath
from scipy import stats

logger = logging.getLogger(__name__)

WORDSIM353_PATH = datapath("wordsim353.tsv")
"""WordSim-353 word pairs with human similarity scores, as bundled with gensim."""

ANALOGIES_PATH = datapath("questions-words.txt")
"""Mikolov et al.'s 19,544 "a is to b as c is to d" questions, as bundled with gensim."""

NEIGHBOUR_WORDS = ("king", "queen", "man", "woman", "paris", "france", "computer", "music")
"""Words whose nearest neighbours the report and ``torchw2v evaluate`` list by default."""

ANALOGY_METHODS = ("3cosadd", "3cosmul")
"""Names of the analogy methods :func:`analogies` knows."""

COSMUL_EPSILON = 1e-3
"""3CosMul's epsilon, which keeps the division finite: Levy & Goldberg's 0.001 (gensim's
``most_similar_cosmul`` uses 1e-6)."""

ANALOGY_CHUNK_QUESTIONS = 256
"""Analogy questions scored at once: bounds the ``(questions, vocabulary)`` score arrays in memory
(30 MiB each in float32 for a 30,000-word vocabulary)."""

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class Evaluation:
    """Scores of one set of word vectors on WordSim-353, the Google analogies and chosen extras.

    What :func:`evaluate` returns, and what the comparison and the report show for each set of vectors.

    Attributes
    ----------
    wordsim_spearman : float
        Spearman rank correlation between the model's cosine similarities and the human scores of the
        WordSim-353 pairs whose two words are both in the vocabulary; ``nan`` with fewer than two.
    wordsim_pearson : float
        Pearson correlation over the same pairs; ``nan`` with fewer than two.
    wordsim_pairs : int
        Number of WordSim-353 pairs evaluated (both words in the vocabulary).
    wordsim_pairs_total : int
        Number of pairs in the WordSim-353 file.
    analogy_accuracy : float
        Fraction (0 to 1) of the evaluated analogy questions answered correctly by 3CosAdd; ``nan``
        if no question could be evaluated.
    analogy_accuracy_3cosmul : float
        The same fraction with 3CosMul.
    analogy_questions : int
        Number of analogy questions evaluated, i.e. those whose four words are all among the
        ``restrict_vocab`` most frequent words.
    extra_pairs : dict of str to (float, float), optional
        For each extra ``word1 word2 score`` file, by path: its Spearman correlation and its
        coverage (fraction of its pairs evaluated).
    neighbours : dict of str to list of (str, float), optional
        The nearest neighbours (word, cosine) of each chosen word found in the vocabulary.

    Examples
    --------
    >>> scores = Evaluation(0.65, 0.62, 343, 353, 0.31, 0.33, 12000)
    >>> scores.analogy_questions, round(scores.wordsim_oov_ratio, 3)
    (12000, 0.028)
    """

    wordsim_spearman: float
    wordsim_pearson: float
    wordsim_pairs: int
    wordsim_pairs_total: int
    analogy_accuracy: float
    analogy_accuracy_3cosmul: float
    analogy_questions: int
    extra_pairs: dict[str, tuple[float, float]] = field(default_factory=dict)
    neighbours: dict[str, list[tuple[str, float]]] = field(default_factory=dict)

    @property
    def wordsim_oov_ratio(self) -> float:
        """Fraction (0 to 1) of the WordSim-353 pairs skipped because a word is out of vocabulary."""
        return (self.wordsim_pairs_total - self.wordsim_pairs) / self.wordsim_pairs_total


@dataclass(frozen=True, eq=False)
class WordPairsResult:
    """Correlation of a model's cosine similarities with the human scores of one word-pair file.

    Attributes
    ----------
    path : str
        The file the pairs come from.
    spearman : float
        Spearman rank correlation over the evaluated pairs; ``nan`` with fewer than two of them.
    pearson : float
        Pearson correlation over the same pairs; ``nan`` with fewer than two of them.
    pairs : int
        Number of pairs evaluated: those whose two words are in the vocabulary.
    pairs_total : int
        Number of pairs read from the file (comment and malformed lines excluded).
    word1, word2 : tuple of str
        The words of each evaluated pair, as written in the file.
    human : numpy.ndarray
        The file's score of each evaluated pair, shape ``(pairs,)``, float64.
    cosine : numpy.ndarray
        The cosine similarity of each evaluated pair's vectors, shape ``(pairs,)``, float64.

    Examples
    --------
    >>> import numpy as np
    >>> result = WordPairsResult("pairs.txt", 1.0, 0.98, 3, 4, ("a", "b", "c"), ("x", "y", "z"),
    ...                          np.array([1.0, 5.0, 9.0]), np.array([0.1, 0.4, 0.5]))
    >>> result.coverage, result.oov_ratio
    (0.75, 0.25)
    """

    path: str
    spearman: float
    pearson: float
    pairs: int
    pairs_total: int
    word1: tuple[str, ...]
    word2: tuple[str, ...]
    human: np.ndarray
    cosine: np.ndarray

    @property
    def coverage(self) -> float:
        """Fraction (0 to 1) of the file's pairs that were evaluated."""
        return self.pairs / self.pairs_total

    @property
    def oov_ratio(self) -> float:
        """Fraction (0 to 1) of the file's pairs skipped for an out-of-vocabulary word."""
        return (self.pairs_total - self.pairs) / self.pairs_total


@dataclass(frozen=True)
class AnalogyResult:
    """Answers of one set of word vectors to an analogy question file, for each method.

    Attributes
    ----------
    accuracy : dict of str to float
        For each method, the fraction (0 to 1) of the evaluated questions answered correctly;
        ``nan`` when no question was evaluated.
    questions : int
        Number of questions evaluated: those whose four words are all among the ``restrict_vocab``
        most frequent words.
    questions_total : int
        Number of questions read from the file.
    section_accuracy : dict of str to dict of str to float
        For each method, the accuracy of each section of the file (gensim's section names, such as
        ``"capital-common-countries"``, in file order); ``nan`` for a section with no question
        evaluated.
    section_questions : dict of str to int
        Number of questions evaluated in each section.
    evaluated : tuple of (str, str, str, str)
        The evaluated questions ``(a, b, c, expected)``, as written in the file.
    predictions : dict of str to tuple of str
        For each method, the vocabulary word it answers to each evaluated question.

    Examples
    --------
    >>> result = AnalogyResult({"3cosadd": 0.5}, 2, 3, {"3cosadd": {"family": 0.5}}, {"family": 2},
    ...                        (("boy", "girl", "king", "queen"), ("he", "she", "his", "her")),
    ...                        {"3cosadd": ("queen", "him")})
    >>> result.accuracy["3cosadd"]
    0.5
    """

    accuracy: dict[str, float]
    questions: int
    questions_total: int
    section_accuracy: dict[str, dict[str, float]]
    section_questions: dict[str, int]
    evaluated: tuple[tuple[str, str, str, str], ...]
    predictions: dict[str, tuple[str, ...]]


def case_insensitive_index(wv: KeyedVectors, restrict_vocab: int | None = None) -> dict[str, int]:
    """Map upper-cased words to vocabulary indices, as gensim's ``case_insensitive=True`` does.

    Parameters
    ----------
    wv : gensim.models.KeyedVectors
        The word vectors.
    restrict_vocab : int, optional
        Only the ``restrict_vocab`` first (most frequent) words are mapped; all of them if None.

    Returns
    -------
    dict of str to int
        Each upper-cased word to the index of its first case variant in the vocabulary order, the
        most frequent one when the vocabulary is sorted by decreasing frequency.

    Examples
    --------
    >>> import numpy as np
    >>> from gensim.models import KeyedVectors
    >>> wv = KeyedVectors(vector_size=2)
    >>> wv.add_vectors(["The", "cat", "the"], np.ones((3, 2), dtype=np.float32))
    >>> case_insensitive_index(wv)
    {'THE': 0, 'CAT': 1}
    """
    index: dict[str, int] = {}
    for i, key in enumerate(wv.index_to_key[:restrict_vocab]):
        index.setdefault(key.upper(), i)
    return index


def find_words(wv: KeyedVectors, words: Iterable[str]) -> dict[str, str]:
    """Find chosen words in the vocabulary, falling back to their most frequent case variant.

    Words found in neither form are left out, and named in a logged warning.

    Parameters
    ----------
    wv : gensim.models.KeyedVectors
        The word vectors.
    words : iterable of str
        The words to look up.

    Returns
    -------
    dict of str to str
        Each word found to its vocabulary key: itself when present, else the first case variant (see
        :func:`case_insensitive_index`).

    Examples
    --------
    >>> import numpy as np
    >>> from gensim.models import KeyedVectors
    >>> wv = KeyedVectors(vector_size=2)
    >>> wv.add_vectors(["France", "paris"], np.ones((2, 2), dtype=np.float32))
    >>> find_words(wv, ["france", "paris", "rome"])
    {'france': 'France', 'paris': 'paris'}
    """
    upper = case_insensitive_index(wv)
    found, missing = {}, []
    for word in words:
        if word in wv.key_to_index:
            found[word] = word
        elif word.upper() in upper:
            found[word] = wv.index_to_key[upper[word.upper()]]
        else:
            missing.append(word)
    if missing:
        logger.warning("not in the vocabulary of %d words, skipped: %s", len(wv), ", ".join(missing))
    return found


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    """The rows of ``vectors`` scaled to unit length, in their dtype; zero rows stay zero."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1)


def _read_pairs(path: str) -> list[tuple[str, str, float]]:
    """Parse a ``word1 word2 score`` file: tabs or spaces between fields, ``#`` comment lines."""
    pairs, invalid = [], 0
    with utils.open(path, "r", encoding="utf8") as fin:
        for line_no, line in enumerate(fin, start=1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            try:
                word1, word2, score = fields
                pairs.append((word1, word2, float(score)))
            except ValueError:
                invalid += 1
                logger.debug("%s:%d: not a `word1 word2 score` line: %r", path, line_no, line)
    if invalid:
        logger.warning("%s: skipped %d lines that are not `word1 word2 score`", path, invalid)
    if not pairs:
        raise ValueError(f"{path}: no `word1 word2 score` line (tab- or space-separated, a number last)")
    return pairs


def word_pairs(wv: KeyedVectors, path: PathLike = WORDSIM353_PATH, *,
               restrict_vocab: int | None = 300000) -> WordPairsResult:
    """Correlate the vectors' cosine similarities with the human scores of a word-pair file.

    The numbers are those of gensim's ``KeyedVectors.evaluate_word_pairs`` with its defaults, for
    files in its format; this function also accepts spaces between the fields.

    Parameters
    ----------
    wv : gensim.models.KeyedVectors
        The word vectors to evaluate. Words are matched case-insensitively
        (see :func:`case_insensitive_index`).
    path : str or os.PathLike, optional
        A file of ``word1 word2 score`` lines, fields separated by tabs or spaces, ``#`` starting a
        comment line; plain or compressed (anything ``smart_open`` reads). WordSim-353 by default.
    restrict_vocab : int, optional
        Only the ``restrict_vocab`` most frequent words count as known; gensim's default. None for
        the whole vocabulary.

    Returns
    -------
    WordPairsResult
        The correlations, the coverage, and the evaluated pairs with their two scores.

    Raises
    ------
    ValueError
        If the file holds no ``word1 word2 score`` line.

    Examples
    --------
    >>> from gensim.models import Word2Vec
    >>> from gensim.models.word2vec import LineSentence
    >>> from gensim.test.utils import datapath
    >>> model = Word2Vec(LineSentence(datapath("lee_background.cor")), vector_size=32, workers=1)
    >>> result = word_pairs(model.wv)
    >>> result.pairs_total, 0 < result.pairs < result.pairs_total, len(result.cosine) == result.pairs
    (353, True, True)
    """
    path = os.fspath(path)
    index = case_insensitive_index(wv, restrict_vocab)
    pairs = _read_pairs(path)
    covered = [(w1, w2, score) for w1, w2, score in pairs if w1.upper() in index and w2.upper() in index]
    word1 = tuple(w1 for w1, _, _ in covered)
    word2 = tuple(w2 for _, w2, _ in covered)
    human = np.array([score for _, _, score in covered], dtype=np.float64)
    unit1 = _unit_rows(wv.vectors[[index[w.upper()] for w in word1]].astype(np.float64))
    unit2 = _unit_rows(wv.vectors[[index[w.upper()] for w in word2]].astype(np.float64))
    cosine = np.einsum("ij,ij->i", unit1, unit2)  # (pairs,)
    if len(covered) >= 2:
        spearman = float(stats.spearmanr(human, cosine)[0])
        pearson = float(stats.pearsonr(human, cosine)[0])
    else:
        logger.warning("%s: %d of %d pairs in the vocabulary of %d words, too few to correlate",
                       path, len(covered), len(pairs), len(wv))
        spearman = pearson = math.nan
    logger.info("%s: Spearman %.4f, Pearson %.4f over %d of %d pairs",
                path, spearman, pearson, len(covered), len(pairs))
    return WordPairsResult(path=path, spearman=spearman, pearson=pearson, pairs=len(covered),
                           pairs_total=len(pairs), word1=word1, word2=word2, human=human, cosine=cosine)


def _read_analogies(path: str) -> tuple[list[str], list[tuple[int, tuple[str, str, str, str]]]]:
    """Parse an analogy file: ``: section`` headers, then ``a b c expected`` lines.

    Returns the section names and, for each question, its section's position and its four words.
    """
    sections: list[str] = []
    questions = []
    invalid = 0
    with utils.open(path, "r", encoding="utf8") as fin:
        for line_no, line in enumerate(fin, start=1):
            if line.startswith(": "):
                sections.append(line.lstrip(": ").strip())  # gensim's section name
                continue
            words = line.split()
            if not words:
                continue
            if not sections:
                raise ValueError(f"{path}:{line_no}: a question before the first `: section` line")
            if len(words) != 4:
                invalid += 1
                logger.debug("%s:%d: not an `a b c expected` line: %r", path, line_no, line)
                continue
            questions.append((len(sections) - 1, tuple(words)))
    if invalid:
        logger.warning("%s: skipped %d lines that are not `a b c expected`", path, invalid)
    if not questions:
        raise ValueError(f"{path}: no `a b c expected` question line after a `: section` line")
    return sections, questions


def _analogy_scores(method: str, unit: np.ndarray, ids: np.ndarray, epsilon: float) -> np.ndarray:
    """Score every candidate word for a chunk of questions; ``ids`` holds the ``(a, b, c)`` indices.

    Returns a ``(questions, candidates)`` array whose largest entry in each row is the answer.
    """
    if method == "3cosadd":
        # gensim's most_similar: the unit-normalised mean of b, c and -a, against unit vectors
        target = (unit[ids[:, 1]] + unit[ids[:, 2]] - unit[ids[:, 0]]) / 3  # (Q, d)
        return _unit_rows(target) @ unit.T  # (Q, V)
    # 3CosMul, Levy & Goldberg (2014) eq. 4, cosines shifted to [0, 1] as gensim's most_similar_cosmul.
    # A chunk's questions share few distinct words: one product per distinct word, then gathers.
    words, position = np.unique(ids[:, :3], return_inverse=True)
    position = position.reshape(-1, 3)
    shifted = unit[words] @ unit.T  # (distinct words, V)
    shifted += 1
    shifted /= 2
    scores = shifted[position[:, 1]] * shifted[position[:, 2]]  # (Q, V)
    scores /= (shifted + epsilon)[position[:, 0]]
    return scores


def analogies(wv: KeyedVectors, path: PathLike = ANALOGIES_PATH, restrict_vocab: int | None = 30000,
              methods: Sequence[str] = ANALOGY_METHODS, *, epsilon: float = COSMUL_EPSILON,
              chunk_size: int = ANALOGY_CHUNK_QUESTIONS) -> AnalogyResult:
    """Answer "a is to b as c is to ?" questions with 3CosAdd and 3CosMul.

    The answer to a question is the candidate word ``w`` that maximises, with ``cos`` the cosine
    similarity:

    - 3CosAdd (Mikolov et al., 2013): ``cos(w, b - a + c)`` over unit vectors;
    - 3CosMul (Levy & Goldberg, 2014): ``cos'(w, b) cos'(w, c) / (cos'(w, a) + epsilon)`` with
      ``cos' = (cos + 1) / 2``.

    The candidates are the ``restrict_vocab`` most frequent words, except the three question words
    and their case variants; a question counts when its four words are all among those words. These
    are the rules of gensim's ``evaluate_word_analogies`` (whose 3CosAdd accuracy and question count
    this function reproduces), with words matched case-insensitively (see
    :func:`case_insensitive_index`). Questions are scored in chunks of ``chunk_size``, each in one
    matrix product with the candidates' vectors.

    Parameters
    ----------
    wv : gensim.models.KeyedVectors
        The word vectors to evaluate, ordered by decreasing frequency (as ``sorted_vocab=1`` leaves
        them).
    path : str or os.PathLike, optional
        The questions, in the format of gensim's ``questions-words.txt`` (the default): ``: section``
        lines, each followed by ``a b c expected`` lines.
    restrict_vocab : int, optional
        Number of most frequent words used as candidates and to select the questions; None for the
        whole vocabulary. 30,000 is the value of the original word2vec papers' evaluations.
    methods : sequence of str, optional
        Any of :data:`ANALOGY_METHODS`: ``"3cosadd"``, ``"3cosmul"``.
    epsilon : float, optional
        3CosMul's epsilon (see :data:`COSMUL_EPSILON`).
    chunk_size : int, optional
        Questions scored at once (see :data:`ANALOGY_CHUNK_QUESTIONS`).

    Returns
    -------
    AnalogyResult
        Overall and per-section accuracies of each method, with each evaluated question's answers.

    Raises
    ------
    ValueError
        If a method is unknown, or the file holds no question.

    Examples
    --------
    >>> import numpy as np
    >>> from gensim.models import KeyedVectors
    >>> wv = KeyedVectors(vector_size=2)
    >>> wv.add_vectors(["man", "woman", "king", "queen", "throne"],
    ...                np.array([[1, 0], [1, 1], [2, 0], [2, 1], [0, 1]], dtype=np.float32))
    >>> result = analogies(wv)
    >>> result.questions, result.accuracy
    (2, {'3cosadd': 1.0, '3cosmul': 1.0})
    >>> result.evaluated, result.predictions["3cosadd"]
    ((('king', 'queen', 'man', 'woman'), ('man', 'woman', 'king', 'queen')), ('woman', 'queen'))
    >>> result.section_questions["family"]
    2
    """
    unknown = sorted(set(methods) - set(ANALOGY_METHODS))
    if unknown:
        raise ValueError(f"unknown analogy methods {unknown}; known: {list(ANALOGY_METHODS)}")
    path = os.fspath(path)
    sections, questions = _read_analogies(path)
    index = case_insensitive_index(wv, restrict_vocab)
    evaluated = [(section, words) for section, words in questions if all(w.upper() in index for w in words)]
    ids = np.array([[index[w.upper()] for w in words] for _, words in evaluated], dtype=np.int64).reshape(-1, 4)
    section_of = np.array([section for section, _ in evaluated], dtype=np.int64)

    candidates = len(wv.index_to_key[:restrict_vocab])
    unit = _unit_rows(wv.vectors[:candidates])
    # Each candidate's case group: the index of its first case variant, which ``ids`` holds.
    group = np.array([index[key.upper()] for key in wv.index_to_key[:candidates]], dtype=np.int64)
    variants = np.flatnonzero(group != np.arange(candidates))  # candidates that are not first variants

    accuracy, section_accuracy, predictions = {}, {}, {}
    for method in methods:
        predicted = np.empty(len(evaluated), dtype=np.int64)
        for start in range(0, len(evaluated), chunk_size):
            chunk = ids[start:start + chunk_size]
            scores = _analogy_scores(method, unit, chunk, epsilon)  # (Q, V)
            rows = np.arange(len(chunk))
            for k in range(3):  # the question words are no answers, nor their case variants
                scores[rows, chunk[:, k]] = -np.inf
            excluded = (group[variants] == chunk[:, :3, None]).any(axis=1)  # (Q, variants)
            scores[:, variants] = np.where(excluded, -np.inf, scores[:, variants])
            predicted[start:start + chunk_size] = scores.argmax(axis=1)
        correct = group[predicted] == ids[:, 3]
        accuracy[method] = float(correct.mean()) if len(correct) else math.nan
        section_accuracy[method] = {
            name: float(correct[section_of == s].mean()) if np.any(section_of == s) else math.nan
            for s, name in enumerate(sections)
        }
        predictions[method] = tuple(wv.index_to_key[i] for i in predicted)
        logger.info("%s, %s: %.1f%% of %d questions (of %d) on the %d most frequent words",
                    path, method, 100 * accuracy[method], len(evaluated), len(questions), candidates)
    return AnalogyResult(
        accuracy=accuracy,
        questions=len(evaluated),
        questions_total=len(questions),
        section_accuracy=section_accuracy,
        section_questions={name: int(np.count_nonzero(section_of == s)) for s, name in enumerate(sections)},
        evaluated=tuple(words for _, words in evaluated),
        predictions=predictions,
    )


def nearest_neighbours(wv: KeyedVectors, words: Iterable[str], topn: int = 10) -> dict[str, list[tuple[str, float]]]:
    """List the most similar words of chosen words.

    Parameters
    ----------
    wv : gensim.models.KeyedVectors
        The word vectors.
    words : iterable of str
        The chosen words, looked up as :func:`find_words` does: words found in the vocabulary in
        neither their own nor another case are skipped and named in a logged warning.
    topn : int, optional
        Number of neighbours of each word.

    Returns
    -------
    dict of str to list of (str, float)
        Each chosen word found to its ``topn`` nearest neighbours and their cosine similarities, most
        similar first (``KeyedVectors.most_similar``).

    Examples
    --------
    >>> import numpy as np
    >>> from gensim.models import KeyedVectors
    >>> wv = KeyedVectors(vector_size=2)
    >>> wv.add_vectors(["cat", "dog", "car"], np.array([[1, 0], [1, 0.2], [0, 1]], dtype=np.float32))
    >>> [word for word, _ in nearest_neighbours(wv, ["cat", "unicorn"], topn=2)["cat"]]
    ['dog', 'car']
    """
    return {word: wv.most_similar(key, topn=topn) for word, key in find_words(wv, words).items()}


def evaluate(wv: KeyedVectors, restrict_vocab: int = 30000, *, pair_files: Iterable[PathLike] = (),
             neighbour_words: Iterable[str] = (), topn: int = 10) -> Evaluation:
    """Run WordSim-353, both analogy methods, extra word-pair files and nearest neighbours.

    Parameters
    ----------
    wv : gensim.models.KeyedVectors
        The word vectors to evaluate.
    restrict_vocab : int, optional
        Passed to :func:`analogies`.
    pair_files : iterable of str or os.PathLike, optional
        Extra ``word1 word2 score`` files scored with :func:`word_pairs`.
    neighbour_words : iterable of str, optional
        Words whose :func:`nearest_neighbours` to list.
    topn : int, optional
        Number of neighbours of each of them.

    Returns
    -------
    Evaluation
        All the scores.

    Examples
    --------
    >>> from gensim.models import Word2Vec
    >>> from gensim.models.word2vec import LineSentence
    >>> from gensim.test.utils import datapath
    >>> model = Word2Vec(LineSentence(datapath("lee_background.cor")), vector_size=32, workers=1)
    >>> result = evaluate(model.wv, pair_files=[datapath("wordsim353.tsv")])
    >>> result.analogy_questions > 0
    True
    >>> spearman, coverage = result.extra_pairs[datapath("wordsim353.tsv")]
    >>> spearman == result.wordsim_spearman and coverage == result.wordsim_pairs / result.wordsim_pairs_total
    True
    """
    wordsim = word_pairs(wv)
    analogy = analogies(wv, restrict_vocab=restrict_vocab)
    extra = [word_pairs(wv, path) for path in pair_files]
    return Evaluation(
        wordsim_spearman=wordsim.spearman,
        wordsim_pearson=wordsim.pearson,
        wordsim_pairs=wordsim.pairs,
        wordsim_pairs_total=wordsim.pairs_total,
        analogy_accuracy=analogy.accuracy["3cosadd"],
        analogy_accuracy_3cosmul=analogy.accuracy["3cosmul"],
        analogy_questions=analogy.questions,
        extra_pairs={result.path: (result.spearman, result.coverage) for result in extra},
        neighbours=nearest_neighbours(wv, neighbour_words, topn=topn),
    )
