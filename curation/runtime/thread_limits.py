"""A stage gets as many BLAS and OpenMP threads as the CPUs it declares, in every executor.

Ray starts each worker with ``OMP_NUM_THREADS`` set to the CPUs it reserved, so numpy's OpenBLAS
runs one thread in a one-CPU stage there. The local executor and the in-process benchmarks run
the same stages in the driver, whose OpenBLAS starts one thread per core, and small products then
cost far more than they compute: the 32x288 @ 288x512 product of the pHash resize took 46 ms of
CPU instead of 0.34 ms with two threads on a busy two-core machine (the threads spin waiting on
each other; measured here at load 10). Limiting the thread pools for the length of a stage's
``process`` gives the local executor Ray's behaviour and costs microseconds.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from threadpoolctl import ThreadpoolController


@cache
def _controller() -> ThreadpoolController:
    # Built on first use, after the stages' imports: it lists the thread pools loaded by then.
    return ThreadpoolController()


@contextmanager
def threads_for(cpus: float) -> Iterator[None]:
    """BLAS and OpenMP pools limited to ``cpus`` threads (at least one) inside the block."""
    with _controller().limit(limits=max(1, int(cpus))):
        yield
