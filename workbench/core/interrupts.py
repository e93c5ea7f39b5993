"""Whether the user has asked the process to stop (Ctrl-C or SIGTERM).

A signal handler raises KeyboardInterrupt, but Python swallows one raised while it finalizes a
generator ("Exception ignored in ..."), and libraries such as pyabc run code in such places.
So the request is also recorded here, by whoever handles the signal (the command line), and
long operations check it at safe points: before renaming an output into place, between
calibration generations.
"""

from __future__ import annotations

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
