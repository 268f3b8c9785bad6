"""Evaluation metrics (§6 of the plan) as pure Polars functions: frames in, frames out, no I/O."""

from analytics.metrics.catalogue import CATALOGUE
from analytics.metrics.composite import DIMENSIONS, dimension_scores, overall
from analytics.metrics.periods import Period, localize, period_start
from analytics.metrics.petitions import JOURNAL_SCHEMA, coordination, petition_facts, satisfaction, timeliness

__all__ = [
    "CATALOGUE",
    "DIMENSIONS",
    "JOURNAL_SCHEMA",
    "Period",
    "coordination",
    "dimension_scores",
    "localize",
    "overall",
    "period_start",
    "petition_facts",
    "satisfaction",
    "timeliness",
]
