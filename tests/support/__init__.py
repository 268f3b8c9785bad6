"""What tests share: one way to make a university (for casework or for incidents), an account of each role, the
journal read back, problem assertions, loopback servers. Conftests hold fixtures and import helpers from here only."""
