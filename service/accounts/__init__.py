"""Accounts of a university: create, roles and units, deactivation, password resets, API keys."""
