"""The deployable service: the Litestar app, its HTTP face over the domains, the CLI."""
