"""Whether the user has asked the process to stop (Ctrl-C or SIGTERM).

A signal handler raises KeyboardInterrupt, but Python swallows one raised while it finalizes a
generator ("Exception ignored in ..."), and libraries such as pyabc run code in such places.
So the request is also recorded here, by whoever handles the signal (the command line), and
long operations check it at safe points: before renaming an output into place, between
calibration generations.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

_requested = False


def request() -> None:
    """Record that the process should stop (called from a signal handler)."""
    global _requested
    _requested = True


def reset() -> None:
    """Forget an earlier request (at the start of a command)."""
    global _requested
    _requested = False


def raise_if_requested() -> None:
    """Stop here if a stop was requested and its KeyboardInterrupt may have been swallowed."""
    if _requested:
        raise KeyboardInterrupt


_deferring = 0


def deferring() -> bool:
    """Whether the process is inside a :func:`deferred` section (a signal handler should only record)."""
    return _deferring > 0


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Let a stop requested inside this section take effect at its end, not in its middle.

    For writes that must not be cut short: an interrupt inside pyabc's database commit leaves
    its session unusable, and pyabc's own clean-up then fails with a traceback that hides the
    interrupt.
    """
    global _deferring
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
    if not _deferring:
        raise_if_requested()
