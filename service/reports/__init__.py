"""Evaluation reports' HTTP: request, list, show, renditions (computed by ``analytics.reports``)."""
