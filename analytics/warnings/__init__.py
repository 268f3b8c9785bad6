"""Early warning: the detector (``rules``, pure Polars), the stored warnings and their scan (``services``), the
jobs."""
