"""Handing freed memory back to the operating system between batches, so that a long import or backfill
holds a flat resident size instead of creeping up.

CPython frees a batch's messages, but glibc keeps the freed pages inside the process (a heap fragmented by
large raw messages and many small objects cannot shrink from its top); `malloc_trim(0)` releases every
whole free page. Where glibc is not the C library this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache
from typing import cast


@cache
def _trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return cast(Callable[[int], int], ctypes.CDLL(name).malloc_trim)
    except (OSError, AttributeError):  # not glibc
        return None


def give_back_memory() -> None:
    """Return the process's free heap pages to the operating system (glibc); a no-op elsewhere."""
    trim = _trim()
    if trim is not None:
        trim(0)
