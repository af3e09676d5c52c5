"""Language-aware analysis shared by the index and the queries.

Unicode NFKC, case folding, ё→е, Snowball stemming (PyStemmer: English, German, Polish, Russian),
then diacritics folded so that a customer who types without Polish or German accents still matches.

Stop words are *kept* in the index: in support tickets they carry intent ("card not working",
"why was I charged") and BM25's idf already discounts them. Queries give them half weight
(`STOP_WEIGHT`), measured better than dropping them on every dev set (see docs/benchmarks.md).
Character 4-grams of the surface words (`grams`) feed the second ranking stage: they match
inflections the stemmer misses, compounds and typos.
"""
from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

import Stemmer
from stop_words import get_stop_words

LANGUAGES = {"en": "english", "de": "german", "pl": "polish", "ru": "russian"}
TOKEN_RE = re.compile(r"\w+", re.UNICODE)
SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|\n+")
GRAM = 4
STOP_WEIGHT = 0.5


def fold(text: str) -> str:
    """Strip combining marks (ą→a, ü→u, й→и) after Polish ł, which NFD does not split."""
    text = text.replace("ł", "l").replace("ß", "ss")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """Lower-cased word tokens of a text, ё folded to е."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    return TOKEN_RE.findall(text)


def passage_words(text: str) -> list[list[str]]:
    """The words of each sentence or line of a text (as `words`), empty passages left out: the units
    the passage stage of the index scores and a snippet shows."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    return [ws for ws in map(TOKEN_RE.findall, SENTENCE_RE.split(text)) if ws]


@cache
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(LANGUAGES.get(language, "english"))


@cache
def stop_words(language: str) -> frozenset[str]:
    try:
        return frozenset(w.casefold().replace("ё", "е") for w in get_stop_words(language))
    except Exception:  # stop_words raises its own StopWordError for unknown languages
        return frozenset()


@cache
def stop_stems(language: str) -> frozenset[str]:
    return frozenset(stem(language, w) for w in stop_words(language))


@lru_cache(maxsize=500_000)
def stem(language: str, word: str) -> str:
    return fold(_stemmer(language).stemWord(word))


@lru_cache(maxsize=500_000)
def surface(word: str) -> str:
    return fold(word)


def terms(text: str, language: str, keep_stop_words: bool = True) -> list[str]:
    """Index terms of a text in order: stemmed and folded (stop words dropped only on request)."""
    tokens = words(text)
    if not keep_stop_words:
        stops = stop_words(language)
        tokens = [t for t in tokens if t not in stops] or tokens
    return [stem(language, t) for t in tokens]


@lru_cache(maxsize=500_000)
def grams(word: str) -> tuple[str, ...]:
    """Character 4-grams of a folded word with boundary marks: 'reset' → ^res, rese, eset, set$."""
    w = f"^{word}$"
    if len(w) <= GRAM:
        return (w,)
    return tuple(w[i:i + GRAM] for i in range(len(w) - GRAM + 1))
