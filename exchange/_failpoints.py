"""Crash points for the fault harness: a process kills itself with SIGKILL at a named step.

    EXCHANGE_FAILPOINT=sanitiser.acknowledged@2 exchange sanitiser run ...

kills the sanitiser the second time it reaches `acknowledged` (every output of a batch is
acknowledged, nothing yet recorded or committed). Unset, as in every real deployment, a
failpoint costs one comparison. Steps, by service (`<service>.<step>`):

    sanitiser, feed   started        consuming, nothing handled yet
                      handled        one message handled (counted per message), its outputs not sent
                      sent           one message's outputs handed to the producer, not acknowledged
                      acknowledged   a batch's outputs acknowledged; nothing recorded, offset not moved
                      settled        a batch recorded (audit, processed ids, store); offset not moved
    agent             sealed         the export sealed into the outbox, nothing sent
                      sent           one outbox item sent (counted per item), not yet acknowledged
                      acknowledged   a run of items acknowledged and removed from the outbox
                      published      the outbox drained, the command not yet finished

tests/test_faults.py runs the same list of crash points every time; its random-timing mode is for
on-demand soak runs.
"""

from __future__ import annotations

import os
import signal

__all__ = ["FAILPOINT_ENV", "failpoint"]

FAILPOINT_ENV = "EXCHANGE_FAILPOINT"

_point, _, _count = os.environ.get(FAILPOINT_ENV, "").partition("@")
_target = int(_count or 1) if _point else 0
_hits = 0


def failpoint(name: str) -> None:
    """SIGKILL this process if `name` is the armed crash point and this is its armed hit."""
    global _hits
    if not _point or name != _point:
        return
    _hits += 1
    if _hits >= _target:
        os.kill(os.getpid(), signal.SIGKILL)
