"""HTTP plumbing every domain shares: the app factory, dependencies, authentication and guards, the problem
responses, idempotent creates, public (per-university) routes, health."""
