"""Queries in flight, and how they stop: each data read or SQL query of the API runs in a worker thread with a
cancel event of its own (``tessera.access.limits`` interrupts DuckDB when it is set).

The guarantee: a query stops as soon as its HTTP client goes away (the connection's ``http.disconnect`` is
watched while the thread runs), and every query in flight stops when the server is asked to stop (SIGTERM,
Ctrl-C: ``InFlight.cancel_all``), so a graceful shutdown never waits on a query nobody will read."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import uvicorn
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

__all__ = ["InFlight", "Server", "run_cancellable"]

T = TypeVar("T")

#: How often the client's connection is looked at while its query runs (seconds).
_POLL = 0.1


class InFlight:
    """The cancel events of the queries running now; one per application."""

    def __init__(self) -> None:
        self._events: set[threading.Event] = set()
        self._lock = threading.RLock()
        self._stopping = False

    @contextmanager
    def track(self) -> Iterator[threading.Event]:
        """A new cancel event, registered while the block runs (already set once the server is stopping)."""
        event = threading.Event()
        with self._lock:
            if self._stopping:
                event.set()
            self._events.add(event)
        try:
            yield event
        finally:
            with self._lock:
                self._events.discard(event)

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)

    def cancel_all(self) -> int:
        """Cancel every query in flight and every one that starts from now on; how many were running."""
        with self._lock:
            self._stopping = True
            for event in list(self._events):
                event.set()
            return len(self._events)


async def run_cancellable(request: Request, work: Callable[[threading.Event], T]) -> T:
    """``work(cancel)`` in a worker thread; ``cancel`` is set when the client disconnects or the server stops.
    The thread is always waited for (a cancelled query raises QueryCancelledError promptly), so no query
    outlives its request."""
    inflight: InFlight = request.app.state.inflight
    with inflight.track() as cancel:
        task = asyncio.ensure_future(run_in_threadpool(work, cancel))
        try:
            while not cancel.is_set():
                done, _ = await asyncio.wait({task}, timeout=_POLL)
                if done:
                    break
                if await request.is_disconnected():
                    cancel.set()
        except asyncio.CancelledError:  # the server cancelled the request's task (forced shutdown)
            cancel.set()
            raise
        finally:
            if not task.done():
                cancel.set()
                await asyncio.shield(asyncio.wait({task}))
        return task.result()


class Server(uvicorn.Server):
    """uvicorn's server, which first cancels the application's queries in flight when it is asked to stop, so
    its graceful shutdown (``timeout_graceful_shutdown``) only waits for answers that are being written."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        inflight = getattr(getattr(self.config.app, "state", None), "inflight", None)
        if isinstance(inflight, InFlight):
            inflight.cancel_all()
        await super().shutdown(sockets)
