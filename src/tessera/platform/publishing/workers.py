"""Build worker processes that die with the process that started them.

A build's workers publish. If the parent is killed (``kill -9``, the OOM killer, a closed terminal), workers
left running would go on publishing versions nobody asked for any more. Each worker therefore asks the Linux
kernel to send it SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``) and, on every platform, runs a
watchdog thread that kills the worker as soon as its parent process is no longer its parent. A worker whose
parent was already gone before it could arrange either exits at once. Workers start with ``spawn``: delta-rs
must not run in a forked child."""

from __future__ import annotations

import os
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor

__all__ = ["WATCH_INTERVAL", "die_with_parent", "worker_pool"]

#: Seconds between the watchdog's looks at the parent (the fallback where the kernel does not help).
WATCH_INTERVAL = 0.5

_PR_SET_PDEATHSIG = 1


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` spawned processes, each of which dies with this process."""
    import multiprocessing

    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )


def _kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _ask_the_kernel() -> None:
    """Linux: SIGKILL this process when its parent dies. Elsewhere, or without libc, the watchdog alone."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return


def _watch(parent: int) -> None:
    stop = threading.Event()
    while not stop.wait(WATCH_INTERVAL):
        if os.getppid() != parent:
            _kill_self()


def die_with_parent(parent: int) -> None:
    """A worker's initializer: from here on the worker does not outlive ``parent``."""
    _ask_the_kernel()
    if os.getppid() != parent:  # the parent died before the kernel was asked: nothing would tell us
        _kill_self()
    threading.Thread(target=_watch, args=(parent,), name="tessera-parent-watch", daemon=True).start()
