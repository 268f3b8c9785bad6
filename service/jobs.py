"""Everything the worker and the scheduler load: every actor module and every relay handler.

``xinfang worker`` runs ``dramatiq service.jobs``; the scheduler imports this module so that its relay knows
every handler. New domains add their job modules here.
"""

from analytics.broker import ensure_broker

broker = ensure_broker()

from analytics import jobs as foundation_jobs  # noqa: E402
from analytics import province_jobs  # noqa: E402
from analytics import readiness as readiness_jobs  # noqa: E402
from analytics import warning_scan as warning_jobs  # noqa: E402
from analytics.reports import jobs as report_jobs  # noqa: E402
from service.incidents import jobs as incident_jobs  # noqa: E402
from service.petitions import jobs as petition_jobs  # noqa: E402
from service.webhooks import jobs as webhook_jobs  # noqa: E402

__all__ = [
    "broker",
    "foundation_jobs",
    "incident_jobs",
    "petition_jobs",
    "province_jobs",
    "readiness_jobs",
    "report_jobs",
    "warning_jobs",
    "webhook_jobs",
]
