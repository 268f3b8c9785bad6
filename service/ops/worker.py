"""The worker process: Dramatiq's command line with the service's logging (one format per process).

``xinfang worker`` runs ``python -m service.ops.worker service.ops.jobs --skip-logging ...``: this configures
structlog and the standard library's loggers before Dramatiq starts, and ``service.ops.jobs`` does it again in each
worker process (whose standard error Dramatiq redirects to the pipe it relays).
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    from dramatiq.cli import main as dramatiq_main

    from service.ops.logging import configure_logging
    from tenants.settings import get_settings

    os.environ["XINFANG_PROCESS"] = "worker"  # inherited by the worker processes (see service.ops.jobs)
    configure_logging(get_settings())
    return int(dramatiq_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
