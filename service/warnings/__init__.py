"""Early warnings' HTTP: list, dismiss, open an incident from a warning (the scan is ``analytics.warnings``)."""
