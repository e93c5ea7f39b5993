"""The ``workbench`` command's first step: start up, so that Ctrl-C during start-up is a message.

Importing the workbench takes a second or two (numerical libraries, the compiled engine's
cache); an interrupt in that second used to print a raw ``KeyboardInterrupt`` traceback, since
the command line installs its signal handling only once it is imported.  This module imports
nothing heavy, so it can catch that interrupt and say that nothing was done.
"""

from __future__ import annotations

import sys


def run() -> None:
    try:
        from workbench.faces.cli import run as run_command
    except KeyboardInterrupt:
        sys.stderr.write("workbench: interrupted while starting; nothing was done.\n")
        sys.exit(130)
    run_command()
