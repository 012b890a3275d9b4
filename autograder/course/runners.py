"""`workbook autograde`'s runners: where the jobs run, a local pool of warm worker processes or a Dask cluster.

Both offer the same few methods to the parent's loop: `submit(job)`, `wait(futures, timeout)`, `result(fut)`,
`broken(exc)` (a dead worker: grade its learner again) and `close(kill)`; `n` jobs at once, `where`.
"""
from __future__ import annotations

import contextlib
import os

from .worker import Job, Result, grade_one, init_worker, warm


class Local:
    """A pool of `n` spawned worker processes, each warm (nbgrader, torch and the checks imported once)."""

    def __init__(self, n: int, base: bytes, scratch: str, options: tuple[str, ...]):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        self.n = n
        threads = max(1, (os.cpu_count() or 1) // n)
        self.pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=init_worker, initargs=(base, scratch, threads, options))
        self.where = "local"

    def submit(self, job: Job):
        return self.pool.submit(grade_one, job)

    def wait(self, futures, timeout=None):
        from concurrent.futures import FIRST_COMPLETED, wait
        return wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)[0]

    def result(self, fut) -> Result:
        return fut.result()

    def broken(self, exc: BaseException) -> bool:
        from concurrent.futures.process import BrokenProcessPool
        return isinstance(exc, BrokenProcessPool)

    def close(self, kill: bool = False) -> None:
        procs = list((getattr(self.pool, "_processes", None) or {}).values())
        if kill:
            for p in procs:  # their sandboxes die with them (bubblewrap's --die-with-parent)
                with contextlib.suppress(Exception):
                    p.terminate()
        self.pool.shutdown(wait=not kill, cancel_futures=True)
        for p in procs:
            with contextlib.suppress(Exception):
                p.join(5)


class Dask:
    """Tasks on an existing Dask cluster: the snapshot scattered to every worker once, one task per learner."""

    def __init__(self, address, base: bytes, options: tuple[str, ...]):
        from distributed import Client
        self.own = isinstance(address, (str, os.PathLike))
        if not self.own:  # a Client, or a cluster object (dask-jobqueue, dask-gateway, dask-kubernetes)
            self.client = address.get_client() if hasattr(address, "get_client") else address
            self.where = getattr(self.client, "scheduler", None) and self.client.scheduler.address or "dask"
        elif str(address).endswith(".json"):  # a scheduler file (`dask scheduler --scheduler-file`)
            self.client, self.where = Client(scheduler_file=str(address), timeout="30s"), str(address)
        else:
            self.client, self.where = Client(str(address), timeout="30s"), str(address)
        info = self.client.scheduler_info()
        workers = info.get("workers", {})
        if not workers:
            self.client.wait_for_workers(1, timeout=120)
            workers = self.client.scheduler_info().get("workers", {})
        self.n = sum(w.get("nthreads", 1) for w in workers.values()) or 1
        self.base = self.client.scatter(base, broadcast=True, hash=False)
        # import nbgrader, torch and the checks once on every worker (as tasks: a worker's event loop stays free)
        self.client.gather([self.client.submit(warm, options, workers=[w], allow_other_workers=False, pure=False,
                                               key=f"warm-{i}-{os.urandom(4).hex()}")
                            for i, w in enumerate(workers)])

    def submit(self, job: Job):
        return self.client.submit(grade_one, job, self.base, key=f"grade-{job.student}-{os.urandom(4).hex()}",
                                  pure=False, retries=1)

    def wait(self, futures, timeout=None):
        from distributed import wait
        try:
            return wait(list(futures), timeout=timeout, return_when="FIRST_COMPLETED").done
        except TimeoutError:  # distributed's TimeoutError is the builtin one
            return set()

    def result(self, fut) -> Result:
        return fut.result()

    def broken(self, exc: BaseException) -> bool:
        return False

    def close(self, kill: bool = False) -> None:
        with contextlib.suppress(Exception):
            self.client.cancel([self.base], force=True)
            if self.own:
                self.client.close(timeout=10)
