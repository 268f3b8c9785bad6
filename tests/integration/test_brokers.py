"""The configured broker carries messages end to end: PostgreSQL always; Redis and RabbitMQ when their URLs are
set (``XINFANG_TEST_REDIS_URL``, ``XINFANG_TEST_RABBITMQ_URL``; ``.ci/run`` sets both)."""

from __future__ import annotations

import os
import threading
import uuid

import dramatiq
import msgspec
import pytest
from dramatiq import Worker

from analytics.runtime.broker import broker_kind, make_broker

BROKERS = [
    pytest.param("postgres", id="postgres"),
    pytest.param(
        os.environ.get("XINFANG_TEST_REDIS_URL"),
        id="redis",
        marks=pytest.mark.skipif(not os.environ.get("XINFANG_TEST_REDIS_URL"), reason="XINFANG_TEST_REDIS_URL not set"),
    ),
    pytest.param(
        os.environ.get("XINFANG_TEST_RABBITMQ_URL"),
        id="rabbitmq",
        marks=pytest.mark.skipif(
            not os.environ.get("XINFANG_TEST_RABBITMQ_URL"), reason="XINFANG_TEST_RABBITMQ_URL not set"
        ),
    ),
]


def test_broker_kinds_from_urls():
    assert broker_kind("postgres") == "postgres"
    assert broker_kind("postgresql://u@h/db") == "postgres"
    assert broker_kind("redis://127.0.0.1:6379/0") == "redis"
    assert broker_kind("amqp://guest:guest@127.0.0.1:5672/%2F") == "rabbitmq"
    assert broker_kind("stub://") == "stub"


@pytest.mark.parametrize("url", BROKERS)
def test_a_message_sent_is_processed_by_a_worker(settings, url):
    broker = make_broker(msgspec.structs.replace(settings, broker_url=url))
    queue = f"test_{uuid.uuid4().hex[:8]}"
    received: list[str] = []
    done = threading.Event()

    def record(value: str) -> None:
        received.append(value)
        done.set()

    actor = dramatiq.actor(record, broker=broker, queue_name=queue, actor_name=f"record_{queue}")
    worker = Worker(broker, worker_timeout=100, worker_threads=1)
    worker.start()
    try:
        actor.send("你好")
        assert done.wait(20), "the worker never processed the message"
        assert received == ["你好"]
    finally:
        worker.stop()
        broker.close()
