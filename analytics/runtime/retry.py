"""Named retry policies of the actors: each actor says which kind of work it is, not its numbers.

Dramatiq retries a failed message with exponential backoff between ``min_backoff`` and ``max_backoff``
(milliseconds), ``max_retries`` times, then dead-letters it.
"""

from __future__ import annotations

from typing import Any

QUEUE = "default"

# Work that must happen and is idempotent (provisioning, folds, plan readiness): retry for a long while.
PERSISTENT: dict[str, Any] = {"queue_name": QUEUE, "max_retries": 20, "min_backoff": 1000, "max_backoff": 300_000}
# A sweep or a per-university computation the next period repeats anyway (reports, fan-outs).
PERIODIC: dict[str, Any] = {"queue_name": QUEUE, "max_retries": 10, "min_backoff": 1000, "max_backoff": 300_000}
# A scan over every university that a later run covers again: a few slower retries.
SCAN: dict[str, Any] = {"queue_name": QUEUE, "max_retries": 5, "min_backoff": 5000, "max_backoff": 300_000}
# A frequent scan (every few minutes): a failed run is soon superseded by the next.
FREQUENT: dict[str, Any] = {"queue_name": QUEUE, "max_retries": 3, "min_backoff": 1000, "max_backoff": 60_000}
