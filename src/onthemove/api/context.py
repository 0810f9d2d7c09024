"""One store per app, shared by the worker threads under a lock (DuckDB allows one writer per process), and a
small cache of query results that is dropped whenever the store's data change."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from fastapi import Request

from onthemove.store import Store, open_store
from onthemove.store.batches import data_version

T = TypeVar("T")


class ResultCache:
    """The last ``size`` results by key, valid for one data version of the store.

    Every change to the records goes through a batch (load, supersede, rollback), so the batch registry's
    ``data_version`` says when cached aggregates went stale; the whole cache is dropped then. Dashboards ask
    the same few aggregates again and again, so most requests are answered without touching the data.
    ``size`` 0 turns caching off.
    """

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError("the result cache size must be 0 (off) or more")
        self.size = size
        self._lock = threading.Lock()
        self._version: Hashable = None
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, version: Hashable, key: Hashable, compute: Callable[[], T]) -> T:
        if self.size == 0:
            return compute()
        with self._lock:
            if version != self._version:
                self._entries.clear()
                self._version = version
            elif key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]
        value = compute()  # outside the cache's lock; the caller holds the store's
        with self._lock:
            self.misses += 1
            if version == self._version:
                self._entries[key] = value
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return value


class StoreContext:
    """Opens the store on first use and hands it to one request at a time."""

    def __init__(self, location: str, suppression_threshold: int, result_cache: int = 256) -> None:
        if suppression_threshold < 1:
            raise ValueError("the suppression threshold must be at least 1")
        self.location = location
        self.threshold = suppression_threshold
        self.cache = ResultCache(result_cache)
        self._lock = threading.Lock()
        self._store: Store | None = None

    @contextmanager
    def store(self) -> Iterator[Store]:
        with self._lock:
            if self._store is None:
                self._store = open_store(self.location)
            yield self._store

    def cached(self, store: Store, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, or its result from an earlier request while the data have not changed since."""
        if self.cache.size == 0:
            return compute()
        return self.cache.get(data_version(store), key, compute)

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


def context(request: Request) -> StoreContext:
    ctx: StoreContext = request.app.state.store_context
    return ctx


# --- computing once, without holding the store (the foresight and results routes) -----------------------------


class _SharedReads:
    """The app's store for a long computation: each call takes the store's lock for itself only.

    A forecast reads a few tables and then computes for seconds; holding the lock throughout would stall every
    other request. Reads only (forecasts and trigger status never write).
    """

    def __init__(self, ctx: StoreContext) -> None:
        self._ctx = ctx

    def __getattr__(self, name: str) -> Any:
        with self._ctx.store() as store:
            value = getattr(store, name)
        if not callable(value):
            return value

        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._ctx.store() as store:
                return getattr(store, name)(*args, **kwargs)

        return locked


def shared_reads(ctx: StoreContext) -> Store:
    """The app's store for a long computation, locked per call (see ``_SharedReads``)."""
    return cast(Store, _SharedReads(ctx))


class _Flights:
    """One computation per key at a time: a second request for the same forecast waits, then finds it cached."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gates: dict[Hashable, tuple[threading.Lock, list[int]]] = {}

    @contextmanager
    def gate(self, key: Hashable) -> Iterator[None]:
        with self._lock:
            gate, waiting = self._gates.setdefault(key, (threading.Lock(), [0]))
            waiting[0] += 1
        try:
            with gate:
                yield
        finally:
            with self._lock:
                waiting[0] -= 1
                if not waiting[0]:
                    del self._gates[key]


_FLIGHTS = _Flights()


def computed_once(ctx: StoreContext, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` once per data version (the app's result cache), without holding the store while it runs."""
    with _FLIGHTS.gate((id(ctx), key)):
        with ctx.store() as store:
            version = data_version(store)
        return ctx.cache.get(version, key, compute)
