"""Where replications run: this process, local loky workers, or a Dask cluster.

Results always come back in the order of the tasks, whatever finishes first, which is what
keeps every result reproducible for any number of workers.  Workers are loky processes (via
joblib), which work in a plain interpreter, a Jupyter kernel and a Voilà app alike.
"""

from __future__ import annotations

import os


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def iter_map(func, tasks: list[tuple], workers: int = 1, scheduler: str | None = None, progress=None):
    """Yield ``func(*task)`` for each task, in the tasks' order, from local processes or a Dask cluster.

    ``scheduler`` is the address of a running Dask scheduler (``tcp://host:8786``); without
    it, ``workers`` loky processes (1: this process).  Results come back in the order of the
    tasks whatever finishes first, which is what keeps every result reproducible, and one
    at a time, so a caller that reduces them as they come holds only what it keeps.
    """
    if scheduler:
        from distributed import Client

        with Client(scheduler, set_as_default=False) as client:
            futures = client.map(lambda task: func(*task), tasks, pure=False)
            for k, future in enumerate(futures):
                result = future.result()
                future.release()
                yield result
                if progress:
                    progress(k + 1, len(tasks))
        return
    if workers <= 1 or len(tasks) <= 1:
        for k, task in enumerate(tasks):
            yield func(*task)
            if progress:
                progress(k + 1, len(tasks))
        return
    from joblib import Parallel, delayed

    results = Parallel(n_jobs=workers, backend="loky", return_as="generator")(delayed(func)(*task) for task in tasks)
    for k, result in enumerate(results):
        yield result
        if progress:
            progress(k + 1, len(tasks))


def parallel_map(func, tasks: list[tuple], workers: int = 1, scheduler: str | None = None, progress=None) -> list:
    """``[func(*task) for task in tasks]``, in order, on local processes or a Dask cluster (see :func:`iter_map`)."""
    return list(iter_map(func, tasks, workers, scheduler, progress))
