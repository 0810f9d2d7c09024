"""Demoland: a deterministic synthetic country, written as files and loaded through the real ingest path.

``generate(directory)`` writes the files; ``load_demo(store)`` writes and loads them; ``summary(store)``
says what a store holds. ``onthemove.demo.scale`` writes large files for the benchmarks.
"""

from __future__ import annotations

from onthemove.demo.generator import generate
from onthemove.demo.load import is_empty, load_demo, summary

__all__ = ["generate", "is_empty", "load_demo", "summary"]
