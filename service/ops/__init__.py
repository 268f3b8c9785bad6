"""Operations: the command line, the embedded stack, the demo and synthetic data, the worker process and its job
registry, logging, the Citus script and the tenant archive."""
