"""The optional semantic layer (config ``service.faq_semantic: true``, extra ``semantic``): cosines
between a question and each FAQ entry's phrasings with WordLlama's static token embeddings.

WordLlama (PyPI ``wordllama``) ships its weights (256-d, 16 MB) and tokenizer inside the wheel and runs
on the CPU with numpy; it is loaded with downloads disabled — ``cache_dir`` is the package itself, where
0.4 keeps its tokenizer file (its own lookup looks in a ``tokenizer/`` folder the wheel does not have and
would then try the model hub). Nothing is fetched at run time; a missing file is an error, not a
download. Loaded on the first question (+88 MB resident, about 1.6 s), never at start-up.

Figures (bench/bench_retrieval.py, P6; docs/desk.md "Retrieval"): fused with BM25 it answers more of
the held-out in-scope questions at the same precision and out-of-scope declines.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.knowledge.retrieval import normalise

if TYPE_CHECKING:
    from bot.tickets.topics import FaqLibrary

__all__ = ["PhrasingEmbeddings", "available", "load_model"]


def available() -> bool:
    """Whether the ``semantic`` extra is installed (checked without importing it)."""
    import importlib.util

    return importlib.util.find_spec("wordllama") is not None


def load_model() -> Any:
    """WordLlama's bundled model, from the installed package only (no download)."""
    import wordllama

    return wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)


class PhrasingEmbeddings:
    """Each FAQ entry's phrasings embedded once (normalised as retrieval normalises them);
    :meth:`cosines` gives each entry's best cosine with a question."""

    def __init__(self, library: FaqLibrary, model: Any | None = None) -> None:
        self.library = library
        self._model: Any = model
        self._lock = threading.Lock()
        self._ready = False
        self._ids: list[str] = []
        self._matrix: Any = None

    def _build(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            if self._model is None:
                self._model = load_model()
            pairs = [(e.id, normalise(p)) for e in self.library.entries for p in e.phrasings]
            self._ids = [i for i, _ in pairs]
            self._matrix = self._model.embed([p for _, p in pairs], norm=True) if pairs else None
            self._ready = True

    def cosines(self, question: str) -> dict[str, float]:
        """entry id -> the best cosine between ``question`` and one of its phrasings."""
        self._build()
        if self._matrix is None:
            return {}
        sims = self._matrix @ self._model.embed([normalise(question)], norm=True)[0]
        best: dict[str, float] = {}
        for entry_id, s in zip(self._ids, sims, strict=True):
            best[entry_id] = max(best.get(entry_id, -1.0), float(s))
        return best
