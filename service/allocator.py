"""The C allocator's settings for a threaded worker.

glibc gives each thread that allocates at the same time as another an
arena of its own, up to eight per CPU, and keeps what is freed in each for
reuse. A worker of eight threads that each read a large ranking group, or a
large page, in turn, ends up holding the freed memory of several arenas:
at three times the real portal a worker grew to about 265 MB after a mixed
load with the default, 212 MB with two arenas, for the same throughput
(docs/benchmarks.md, "Scale"). Python's own small objects do not use these
arenas; numpy's arrays and the database driver's results do.
"""
import ctypes
import ctypes.util
import os

M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h
ARENAS = 2


def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


_LIBC = _libc()


def give_back():
    """Returns the free pages of glibc's heaps to the system
    (``malloc_trim``): after a large transient allocation (a whole ranking
    group read and sorted), the freed memory sits between live blocks,
    where glibc never gives it back by itself. A few milliseconds; a no-op
    on another C library."""
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)


def limit_arenas(count=ARENAS):
    """Caps glibc's arenas at ``count`` for this process and its children
    forked later; True when set. Leaves an operator's own
    ``MALLOC_ARENA_MAX`` alone, and does nothing on another C library."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    mallopt = getattr(_LIBC, "mallopt", None)
    return mallopt is not None and mallopt(M_ARENA_MAX, count) == 1
