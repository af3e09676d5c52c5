"""Language-aware analysis shared by the index and the queries.

Unicode NFKC, case folding, ё→е, stop words (stop-words package), Snowball stemming (PyStemmer,
which has Polish, German, Russian and English), then diacritics folded so that a customer who
types without Polish or German accents still matches.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer
from stop_words import get_stop_words

LANGUAGES = {"en": "english", "de": "german", "pl": "polish", "ru": "russian"}
TOKEN_RE = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Strip combining marks (ą→a, ü→u, й→и) after Polish ł, which NFD does not split."""
    text = text.replace("ł", "l").replace("ß", "ss")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """Lower-cased word tokens of a text, ё folded to е."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    return TOKEN_RE.findall(text)


@lru_cache(maxsize=None)
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(LANGUAGES.get(language, "english"))


@lru_cache(maxsize=None)
def stop_words(language: str) -> frozenset[str]:
    try:
        return frozenset(w.casefold().replace("ё", "е") for w in get_stop_words(language))
    except Exception:  # stop_words raises its own StopWordError for unknown languages
        return frozenset()


@lru_cache(maxsize=200_000)
def _stem(language: str, word: str) -> str:
    return fold(_stemmer(language).stemWord(word))


def terms(text: str, language: str, keep_stop_words: bool = False) -> list[str]:
    """Index terms of a text: stemmed, folded, stop words dropped (unless that leaves nothing)."""
    tokens = words(text)
    stops = stop_words(language)
    kept = tokens if keep_stop_words else [t for t in tokens if t not in stops]
    if not kept:
        kept = tokens
    return [_stem(language, t) for t in kept]
