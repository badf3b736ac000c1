"""Where a stuck process is stuck: SIGUSR1 writes every thread's stack to stderr.

The supervisor asks a child whose heartbeat went stale before it kills it, so the child's log
says where it hung; an operator can ask any service with ``kill -USR1``.
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import signal
import sys


def stacks_on_request() -> None:
    """Install the SIGUSR1 handler. A stderr that is no file (a caller capturing it in process)
    has nowhere for the stacks to go: then nothing is installed."""
    with contextlib.suppress(io.UnsupportedOperation, AttributeError, ValueError):
        faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)
