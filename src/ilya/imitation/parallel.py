"""Jobs in this process or on Ray workers (local by default, ``address`` joins a cluster), with retries.

`run_jobs` runs ``fn(*args)`` for every job, showing a progress bar, and returns the results in job
order.  On Ray a job whose worker dies (or raises) is submitted again, up to ``retries`` times, so no
result is lost; ``on_result(i, result)`` is called as each job finishes (collect writes its shards there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ilya.core.progress import progress


def init_ray(workers: int, address: str | None) -> Any:
    import ray

    if not ray.is_initialized():
        kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                              "ignore_reinit_error": True, "configure_logging": False}
        if address:
            ray.init(address=address, **kw)
        else:
            ray.init(num_cpus=max(workers, 1), **kw)
    return ray


def run_jobs(fn: Callable[..., Any], jobs: Sequence[tuple[Any, ...]], *, workers: int = 0,
             address: str | None = None, desc: str = "jobs", retries: int = 3,
             on_result: Callable[[int, Any], None] | None = None) -> list[Any]:
    """``[fn(*job) for job in jobs]``, in this process (``workers`` <= 1, no address) or on Ray."""
    results: list[Any] = [None] * len(jobs)
    bar = progress(total=len(jobs), desc=desc)
    try:
        if workers <= 1 and not address:
            for i, job in enumerate(jobs):
                results[i] = fn(*job)
                if on_result is not None:
                    on_result(i, results[i])
                bar.update(1)
            return results
        ray = init_ray(workers, address)
        remote = ray.remote(num_cpus=1, max_retries=0)(fn)
        pending: dict[Any, int] = {remote.remote(*job): i for i, job in enumerate(jobs)}
        tries = [0] * len(jobs)
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            ref = done[0]
            i = pending.pop(ref)
            try:
                results[i] = ray.get(ref)
            except ray.exceptions.RayError:
                tries[i] += 1
                if tries[i] > retries:
                    raise
                pending[remote.remote(*jobs[i])] = i  # the worker died or failed: run the job again
                continue
            if on_result is not None:
                on_result(i, results[i])
            bar.update(1)
        return results
    finally:
        bar.close()
