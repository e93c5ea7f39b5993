"""Where replications run: this process, local worker processes, or a Dask cluster.

Results always come back in the order of the tasks, whatever finishes first, which is what
keeps every result reproducible for any number of workers.  Local workers are:

* **forked** from this process when that is safe (Linux, and no other thread running when the
  pool starts, as in the command line): a forked worker starts in milliseconds with every
  module already imported, where a fresh interpreter takes about half a second;
* **loky** processes (joblib's reusable executor) otherwise: they work in a Jupyter kernel and a
  Voilà app alike (processes with threads, where forking is unsafe).

Workers of either kind end when the process that started them ends, even when it is killed and
cannot tell them (a Jupyter kernel killed by its server, a command line killed with SIGKILL).

Either pool stays alive between calls, so a session (the explorer, ``compare``) pays the start once.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

import cloudpickle

from workbench.core.errors import InputError

T = TypeVar("T")
#: Called as ``progress(done, total)`` after each task.
Progress = Callable[[int, int], None]


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def _forking_is_safe() -> bool:
    """Fork only a single-threaded process on Linux: a fork copies held locks but not the threads
    that would release them."""
    return sys.platform.startswith("linux") and threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


_forked: dict[int, ProcessPoolExecutor] = {}  # a forked pool by its number of workers, kept for reuse
_pinned: dict[tuple[str, int], list[Any]] = {}  # ("fork" or "loky", workers): one single-process pool per worker


def _forked_pool(workers: int) -> ProcessPoolExecutor | None:
    """The forked pool of ``workers`` processes, started now if it is safe; None if it is not."""
    pool = _forked.get(workers)
    if pool is not None and not _is_broken(pool):
        return pool
    if not _forking_is_safe():
        return None
    pool = _forked[workers] = _new_forked_pool(workers)
    return pool


#: Called once in this process before its first forked pool starts (see :func:`load_before_forking`).
_BEFORE_FORKING: list[Callable[[], None]] = []


def load_before_forking(load: Callable[[], None]) -> None:
    """Have ``load`` run in this process before it first forks workers.

    A forked worker inherits what its parent has loaded.  Compiled code is loaded on its first
    call, and Numba's first call in a process sets Numba itself up (about a second, most of
    what a fresh 500-replication forecast took): loaded in the parent, it is loaded once rather
    than in every worker, and a worker starts ready to run.
    """
    _BEFORE_FORKING.append(load)


def _new_forked_pool(workers: int) -> ProcessPoolExecutor:
    while _BEFORE_FORKING:
        _BEFORE_FORKING.pop(0)()
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("fork"), initializer=_forked_worker_starts, initargs=(os.getpid(),)
    )


def _is_broken(pool: Any) -> bool:
    """A pool whose worker died (concurrent.futures marks ``_broken``, loky ``_flags.broken``)."""
    flags = getattr(pool, "_flags", None)
    return bool(getattr(pool, "_broken", False) or (flags is not None and getattr(flags, "broken", None)))


def _pinned_pools(workers: int) -> list[Any]:
    """``workers`` pools of one process each, so that task k can always go to the same process.

    Forked when that is safe, loky otherwise, as for the shared pool; kept for reuse, and started
    afresh when one of them has broken.
    """
    kind = "fork" if _forking_is_safe() or ("fork", workers) in _pinned else "loky"
    pools = _pinned.get((kind, workers))
    if pools is not None and not any(_is_broken(pool) for pool in pools):
        return pools
    if kind == "fork":
        pools = [_new_forked_pool(1) for _ in range(workers)]
    else:
        from joblib.externals.loky import ProcessPoolExecutor as LokyPool

        pools = [
            LokyPool(max_workers=1, timeout=LOKY_IDLE_TIMEOUT_S, initializer=_loky_worker_starts, initargs=(os.getpid(),))
            for _ in range(workers)
        ]
    _pinned[(kind, workers)] = pools
    return pools


def _run_pickled(job: bytes) -> bytes:
    func, task = cloudpickle.loads(job)
    return cloudpickle.dumps(func(*task))


def _forked_worker_starts(parent: int) -> None:
    """A forked worker leaves interrupts to its parent, and ends when its parent ends.

    Ctrl-C reaches the whole process group: the parent stops the run and says so, and an idle
    worker must not die of it with a traceback.  A parent that is killed cannot stop its
    workers, so each asks the kernel for SIGTERM when its parent goes (prctl PR_SET_PDEATHSIG).
    """
    import contextlib
    import ctypes
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent went before the request took effect
        os._exit(0)


#: How long to wait for a Dask scheduler before saying it is not there (Dask's own default is 30 s).
SCHEDULER_TIMEOUT_S = 10


def iter_map(
    func: Callable[..., T],
    tasks: list[tuple],
    workers: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
    pinned: bool = False,
) -> Iterator[T]:
    """Yield ``func(*task)`` for each task, in the tasks' order, from local processes or a Dask cluster.

    ``scheduler`` is the address of a running Dask scheduler (``tcp://host:8786``); without
    it, ``workers`` local processes (1: this process), forked or loky as the module says.  Results come back in the order of the
    tasks whatever finishes first, which is what keeps every result reproducible, and one
    at a time, so a caller that reduces them as they come holds only what it keeps.

    ``pinned`` sends task k to local process k mod ``workers`` every time, rather than to
    whichever is free: for tasks of about equal cost whose process keeps something of them
    for the next call with the same tasks (the replications' starts, which a scenario rerun on
    the baseline's seeds finds again).  Tasks of uneven cost are better left unpinned.
    """
    if scheduler:
        from distributed import Client

        try:
            client = Client(scheduler, set_as_default=False, timeout=SCHEDULER_TIMEOUT_S)
        except (OSError, TimeoutError) as err:
            raise InputError(
                "--scheduler",
                "scheduler",
                f"no Dask scheduler answered at {scheduler} within {SCHEDULER_TIMEOUT_S} s ({err})",
                "the address of a running scheduler, e.g. tcp://host:8786",
            ) from None
        with client:
            remote = client.map(lambda task: func(*task), tasks, pure=False)
            for k, remote_future in enumerate(remote):
                result = remote_future.result()
                remote_future.release()
                yield result
                if progress:
                    progress(k + 1, len(tasks))
        return
    # Never more local processes than cores: results do not depend on the number (each task's seed
    # is its own), and 10,000 asked for once forked 2,144 processes and took 10 GB.
    workers = min(int(workers), default_workers())
    if workers <= 1 or len(tasks) <= 1:
        for k, task in enumerate(tasks):
            yield func(*task)
            if progress:
                progress(k + 1, len(tasks))
        return
    if pinned:
        pools = _pinned_pools(workers)
        yield from _in_order(
            [pools[k % workers].submit(_run_pickled, cloudpickle.dumps((func, task))) for k, task in enumerate(tasks)], progress
        )
        return
    pool = _forked_pool(workers)
    if pool is not None:
        # cloudpickle, as loky and Dask use: tasks may hold local classes and closures (pyabc's prior).
        yield from _in_order([pool.submit(_run_pickled, cloudpickle.dumps((func, task))) for task in tasks], progress)
        return
    executor = _loky_executor(workers)
    yield from _in_order([executor.submit(_run_pickled, cloudpickle.dumps((func, task))) for task in tasks], progress)


def _in_order(futures: list[Any], progress: Progress | None) -> Iterator[Any]:
    """The futures' results (pickled by :func:`_run_pickled`), in the futures' order."""
    try:
        for k, future in enumerate(futures):
            yield cloudpickle.loads(future.result())
            if progress:
                progress(k + 1, len(futures))
    finally:
        for future in futures:
            future.cancel()  # those not started yet, when the caller stops early or is interrupted


#: How long an idle loky worker waits for work before it ends (joblib's own default).
LOKY_IDLE_TIMEOUT_S = 300


def _loky_executor(workers: int) -> Any:
    """loky's reusable pool of ``workers`` processes, each watching that this process is alive."""
    from joblib.externals.loky import get_reusable_executor

    return get_reusable_executor(max_workers=workers, timeout=LOKY_IDLE_TIMEOUT_S, initializer=_loky_worker_starts, initargs=(os.getpid(),))


def _loky_worker_starts(parent: int) -> None:
    """A loky worker ends when the process that started it is gone.

    loky notices a dead parent only after its idle timeout (minutes), and its resource trackers
    live as long as any worker does: about 0.6 GB left behind by a killed Jupyter kernel.  The
    kernel's deathsignal (PR_SET_PDEATHSIG) would fire when the *thread* that started the worker
    ends, and the explorer starts its pool from a background thread; so a daemon thread here
    watches the parent's pid instead.
    """
    import signal
    import time

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle, as for forked workers

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_WATCH_INTERVAL_S)
        os._exit(0)

    threading.Thread(target=watch, name="workbench-parent-watch", daemon=True).start()


#: How often a loky worker checks that its parent is alive.
PARENT_WATCH_INTERVAL_S = 0.5


def chunk_count(tasks: int, workers: int, scheduler: str | None = None) -> int:
    """How many chunks to cut ``tasks`` tasks into: one in this process; four per local worker, so
    that a slow chunk does not hold the others up; 64 on a cluster of unknown size."""
    if workers <= 1 and not scheduler:
        return 1
    return max(1, min(tasks, 64 if scheduler else 4 * workers))


def parallel_map(
    func: Callable[..., T], tasks: list[tuple], workers: int = 1, scheduler: str | None = None, progress: Progress | None = None
) -> list[T]:
    """``[func(*task) for task in tasks]``, in order, on local processes or a Dask cluster (see :func:`iter_map`)."""
    return list(iter_map(func, tasks, workers, scheduler, progress))
