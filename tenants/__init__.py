"""The multi-tenant kernel: database and tenancy, identity, each university's configuration, the journal."""
