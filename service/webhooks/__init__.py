"""Webhooks for integrators: subscriptions, signed delivery from the journal, the delivery log."""
