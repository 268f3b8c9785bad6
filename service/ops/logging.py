"""structlog set-up: JSON lines in production (pretty in a terminal), request and tenant ids on every line.

One format per process: the standard library's loggers (uvicorn, Dramatiq, SQLAlchemy, fontTools, ...) go
through structlog's ``ProcessorFormatter`` with the same renderer, at the configured level. Handlers a library
installed of its own (uvicorn's dictConfig, Dramatiq's basicConfig) are removed and its loggers propagate to the
one root handler.

Log calls pass ids and codes, never personal data; the access log names the route template, not the raw path,
so lookup codes or tokens in a URL never reach a log line.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from tenants.settings import Settings


class _Stderr:
    """Standard error as it is when a line is written, not when logging was configured (Dramatiq's worker
    processes redirect it to their pipe; test captures replace it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


STDERR = _Stderr()


_access: Any = None


def access_log() -> Any:
    """The access log's logger, bound once per configuration (a lazy proxy binds on every call: about 15 µs per
    request)."""
    global _access
    if _access is None:
        _access = structlog.get_logger("xinfang.access").bind()
    return _access


def configure_logging(settings: Settings) -> None:
    global _access
    _access = None
    fmt = settings.log_format
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer() if fmt == "console" else structlog.processors.JSONRenderer()
    )
    level = getattr(logging, settings.log_level.upper())
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # structlog annotates ``file`` as TextIO, though PrintLogger only calls its write and flush.
        logger_factory=structlog.PrintLoggerFactory(STDERR),  # type: ignore[arg-type]
        # Not cached: a reconfiguration (another app in the same process, tests) must take effect.
        cache_logger_on_first_use=False,
    )
    # Route the standard library's loggers (uvicorn, dramatiq, sqlalchemy) through the same renderer.
    handler = logging.StreamHandler(STDERR)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                renderer,
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    handler.setLevel(level)  # also for a library logger that keeps a lower level of its own
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name, existing in list(logging.root.manager.loggerDict.items()):
        # A library's own handlers (uvicorn's dictConfig, Dramatiq's basicConfig) write another format: drop
        # them and let its lines reach the root handler, at the configured level.
        if isinstance(existing, logging.Logger) and existing.handlers and name not in QUIETER:
            existing.handlers.clear()
            existing.propagate = True
            existing.setLevel(logging.NOTSET)
    for name, floor in QUIETER.items():
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
        library.setLevel(max(floor, level))


# Libraries whose lines below a floor are noise or a leak: uvicorn's access lines (the service writes its own
# access log, with route templates), fontTools' subsetting chatter (about 76 INFO lines per plan PDF).
# SQLAlchemy's engine logs statements with their parameters (personal data): never below WARNING.
QUIETER = {"uvicorn.access": logging.WARNING, "fontTools": logging.WARNING, "sqlalchemy": logging.WARNING}
