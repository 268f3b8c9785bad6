"""Everything the worker and the scheduler load: every actor module and every relay handler.

``xinfang worker`` runs Dramatiq on ``service.ops.jobs`` (through ``service.ops.worker``); the scheduler imports this
module so that its relay knows every handler. New domains add their job modules here.
"""

import os

from analytics.runtime.broker import ensure_broker

if os.environ.get("XINFANG_PROCESS") == "worker":
    # A Dramatiq worker process (forked or spawned by service.ops.worker): its lines in the service's format too.
    from service.ops.logging import configure_logging
    from tenants.settings import get_settings

    configure_logging(get_settings())

broker = ensure_broker()

from analytics.forecasts import jobs as forecast_jobs  # noqa: E402
from analytics.province import jobs as province_jobs  # noqa: E402
from analytics.reports import jobs as report_jobs  # noqa: E402
from analytics.warnings import jobs as warning_jobs  # noqa: E402
from service.incidents import jobs as incident_jobs  # noqa: E402
from service.notifications import jobs as notification_jobs  # noqa: E402
from service.petitions import jobs as petition_jobs  # noqa: E402
from service.plans import jobs as readiness_jobs  # noqa: E402
from service.platform import jobs as foundation_jobs  # noqa: E402
from service.supervision import jobs as supervision_jobs  # noqa: E402
from service.webhooks import jobs as webhook_jobs  # noqa: E402

__all__ = [
    "broker",
    "forecast_jobs",
    "foundation_jobs",
    "incident_jobs",
    "notification_jobs",
    "petition_jobs",
    "province_jobs",
    "readiness_jobs",
    "report_jobs",
    "supervision_jobs",
    "warning_jobs",
    "webhook_jobs",
]
