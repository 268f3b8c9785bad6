"""The Dramatiq runtime: the broker, the journal relay, the scheduler, per-process resources, the fan-out
over universities and the named retry policies. Job modules live in their domains (``jobs.py``) and are listed
in ``service.ops.jobs``."""
