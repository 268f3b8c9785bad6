"""Synthetic data: realistic universities, petitions and incidents for the demo, the tests and the benchmarks.

``model`` holds the pure, seeded simulation (rows as tuples, no I/O); ``generate`` provisions each university
through the real services and bulk-loads the simulated rows by COPY under that university's tenant context.
"""
