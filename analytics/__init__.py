"""Background work: the Dramatiq broker, the journal relay, the scheduler, and (later) the Polars analytics."""
