"""Parse raw messages next to fetching and storing: in worker processes for big batches.

Parsing is most of the CPU an ingest costs (see bench/ingest.py). With a pool, batch k is parsed in
other processes while the daemon fetches batch k+1 and stores batch k-1.
"""

from __future__ import annotations

import importlib.util
import logging
import multiprocessing
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from inboxcrm.core.limits import DEFAULT_MAX_MESSAGE_BYTES
from inboxcrm.core.reading import Reading, read_many
from inboxcrm.services.memory import give_back_memory

log = logging.getLogger(__name__)

Pending = Callable[[], list[Reading]]


def _parsing_context() -> multiprocessing.context.ForkServerContext:
    """How parsing processes start. forkserver: the daemon has threads (pollers, the API), and forking a
    threaded process is unsafe. The server imports only the reading code, and the parsing processes forked
    from it share those pages. Run as a console script (`inboxcrm run`), `__main__` is that script, which
    multiprocessing would run again in every parsing process — importing the whole command line and web
    stack (~110 MB each); named as the package's own `__main__` (as `python -m inboxcrm` names it),
    multiprocessing leaves it alone."""
    main = sys.modules.get("__main__")
    if main is not None and getattr(main, "__spec__", None) is None and getattr(main, "__file__", None):
        main.__spec__ = importlib.util.find_spec("inboxcrm.__main__")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["inboxcrm.services.reading"])
    return context


def read_in_worker(raws: Sequence[bytes], max_bytes: int, language: str | None, vectors: bool) -> list[Reading]:
    """What a parsing process runs on each part of a batch: `read_many`, then what it freed goes back."""
    try:
        return read_many(raws, max_bytes, language, vectors)
    finally:
        give_back_memory()


class Reader:
    """Parses batches; `submit` returns a function that gives the readings (waiting if needed)."""

    def __init__(self, workers: int = 0, min_batch: int = 64, max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        self.workers = workers
        self.min_batch = min_batch
        self.max_bytes = max_bytes  # larger messages are quarantined unread
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, raws: Sequence[bytes], language: str | None = None, vectors: bool = False) -> Pending:
        """Read `raws` (with their search index terms in `language`, when given; with `vectors`, also as
        PostgreSQL's tsvector literals)."""
        if self.workers < 1 or len(raws) < self.min_batch:
            readings = read_many(raws, self.max_bytes, language, vectors)
            return lambda: readings
        size = -(-len(raws) // self.workers)
        parts = [list(raws[i : i + size]) for i in range(0, len(raws), size)]
        with self._lock:  # the daemon submits while its writer thread may find the pool broken
            try:
                pool, futures = self._send(parts, language, vectors)
            except BrokenProcessPool:
                log.warning("a parsing process died; starting them again")
                self._close()
                pool, futures = self._send(parts, language, vectors)

        def result() -> list[Reading]:
            try:
                return [reading for future in futures for reading in future.result()]
            except BrokenProcessPool:
                log.warning("a parsing process died; parsing this batch in the daemon instead")
                self._retire(pool)
                return read_many(raws, self.max_bytes, language, vectors)

        return result

    def _send(
        self, parts: Sequence[list[bytes]], language: str | None, vectors: bool
    ) -> tuple[ProcessPoolExecutor, list[Future[list[Reading]]]]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=_parsing_context())
        pool = self._pool
        return pool, [pool.submit(read_in_worker, part, self.max_bytes, language, vectors) for part in parts]

    def close(self) -> None:
        with self._lock:
            self._close()

    def _retire(self, pool: ProcessPoolExecutor) -> None:
        """Shut `pool` down if it is still the one in use (a newer one, started meanwhile, stays)."""
        with self._lock:
            if self._pool is pool:
                self._close()

    def _close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
