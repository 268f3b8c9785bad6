"""The one place where the Dramatiq broker is chosen (from ``XINFANG_BROKER_URL``) and installed.

Actor modules call ``ensure_broker()`` before declaring actors, so whichever process imports them first (API,
worker, scheduler, tests) gets the configured broker, never Dramatiq's implicit default.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import dramatiq
from dramatiq.broker import Broker
from dramatiq.middleware.asyncio import AsyncIO

from tenants.settings import Settings, get_settings, plain_url

_installed: Broker | None = None


def broker_kind(url: str) -> str:
    scheme = urlsplit(url).scheme or url
    return {"postgresql": "postgres", "rediss": "redis", "amqps": "rabbitmq", "amqp": "rabbitmq"}.get(scheme, scheme)


def make_broker(settings: Settings) -> Broker:
    """A new broker for the configured URL ('postgres' means the application database)."""
    kind = broker_kind(settings.broker_url)
    broker: Broker
    if kind == "stub":
        from dramatiq.brokers.stub import StubBroker

        broker = StubBroker()
    elif kind == "redis":
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=settings.broker_url)
    elif kind == "rabbitmq":
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=settings.broker_url, confirm_delivery=True)
    else:
        from dramatiq_postgres import PostgresBroker

        url = settings.broker_url if "://" in settings.broker_url else settings.app_url
        broker = PostgresBroker(url=plain_url(url), results=False)
    broker.add_middleware(AsyncIO())
    return broker


def ensure_broker() -> Broker:
    """Install the configured broker once per process and return it."""
    global _installed
    if _installed is None:
        _installed = make_broker(get_settings())
        dramatiq.set_broker(_installed)
    return _installed


def check_broker(broker: Broker) -> None:
    """Raise if the broker cannot be reached (used by /ready)."""
    kind = type(broker).__name__
    if kind == "RedisBroker":
        broker.client.ping()  # type: ignore[attr-defined]
    elif kind == "RabbitmqBroker":
        broker.connection  # type: ignore[attr-defined]  # noqa: B018  (opens the connection or raises)
    elif kind == "PostgresBroker":
        from dramatiq_postgres.utils import transaction

        with transaction(broker.pool) as curs:  # type: ignore[attr-defined]
            curs.execute("select 1 from dramatiq.queue limit 1")
