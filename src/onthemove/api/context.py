"""One store per app, shared by the worker threads under a lock (DuckDB allows one writer per process)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request

from onthemove.store import Store, open_store


class StoreContext:
    """Opens the store on first use and hands it to one request at a time."""

    def __init__(self, location: str, suppression_threshold: int) -> None:
        if suppression_threshold < 1:
            raise ValueError("the suppression threshold must be at least 1")
        self.location = location
        self.threshold = suppression_threshold
        self._lock = threading.Lock()
        self._store: Store | None = None

    @contextmanager
    def store(self) -> Iterator[Store]:
        with self._lock:
            if self._store is None:
                self._store = open_store(self.location)
            yield self._store

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


def context(request: Request) -> StoreContext:
    ctx: StoreContext = request.app.state.store_context
    return ctx
