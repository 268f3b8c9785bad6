from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from service.webhooks import signing

BODY = b'{"type":"webhook.ping","timestamp":"2026-11-29T00:00:00Z","data":{}}'


def test_secret_format():
    secret = signing.generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert signing.generate_secret() != secret


def test_signature_verifies_with_the_reference_implementation():
    secret = signing.generate_secret()
    headers = signing.headers([secret], "evt-1", int(time.time()), BODY)
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, headers)["type"] == "webhook.ping"


def test_rotation_signs_with_both_secrets():
    old, new = signing.generate_secret(), signing.generate_secret()
    headers = signing.headers([new, old], "evt-2", int(time.time()), BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(BODY, headers)
    Webhook(new).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.generate_secret()).verify(BODY, headers)


def test_tampered_body_id_or_old_timestamp_fail():
    secret = signing.generate_secret()
    now = int(time.time())
    headers = signing.headers([secret], "evt-3", now, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"ping", b"pong"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**headers, "webhook-id": "evt-4"})
    old = signing.headers([secret], "evt-3", now - 3600, BODY)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, old)
