import time
import uuid

import pytest

from tenants import crypto
from tenants.identity import Principal, Role, Tokens, parse_api_key, parse_platform_token
from tenants.ids import new_id
from tenants.journal import check_payload


def test_new_id_is_uuid7_and_time_ordered():
    ids = [new_id() for _ in range(200)]
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    stamps = [i.int >> 80 for i in ids]
    assert stamps == sorted(stamps)
    assert abs(stamps[-1] - time.time() * 1000) < 5000
    assert len(set(ids)) == len(ids)


def test_journal_refuses_unknown_types_undeclared_and_nested_fields():
    check_payload("tenant.created", {"slug": "demo"})
    with pytest.raises(KeyError, match="unknown journal event type"):
        check_payload("tenant.exploded", {})
    with pytest.raises(ValueError, match="does not declare"):
        check_payload("tenant.created", {"email": "a@b.c"})
    with pytest.raises(ValueError, match="scalar"):
        check_payload("account.updated", {"changed": [{"nested": 1}]})


def test_encryption_round_trip_and_tamper_detection():
    crypto.configure(b"k" * 32)
    blob = crypto.encrypt("张三 13800000000")
    assert b"13800000000" not in blob
    assert crypto.decrypt(blob) == "张三 13800000000"
    assert crypto.encrypt("x") != crypto.encrypt("x")  # random nonce
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(Exception):  # noqa: B017 (cryptography raises InvalidTag)
        crypto.decrypt(tampered)
    assert crypto.lookup_hash("a") == crypto.lookup_hash("a") != crypto.lookup_hash("b")


def test_tokens_round_trip_and_rejections():
    tokens = Tokens("s" * 40, access_ttl=60, refresh_ttl=120)
    tid, sub = uuid.uuid4(), uuid.uuid4()
    pair = tokens.issue(Principal(kind="account", role=Role.staff, subject_id=sub, tenant_id=tid), 3)
    principal, version = tokens.verify(pair.access_token, typ="access")
    assert (principal.tenant_id, principal.subject_id, principal.role, version) == (tid, sub, Role.staff, 3)
    from tenants.errors import Unauthorized

    with pytest.raises(Unauthorized):
        tokens.verify(pair.refresh_token, typ="access")  # wrong type
    with pytest.raises(Unauthorized):
        Tokens("o" * 40, access_ttl=60, refresh_ttl=60).verify(pair.access_token, typ="access")  # forged
    expired = Tokens("s" * 40, access_ttl=-5, refresh_ttl=60).issue(principal, 1).access_token
    with pytest.raises(Unauthorized) as err:
        tokens.verify(expired, typ="access")
    assert err.value.code == "token-expired"


def test_key_formats_parse_strictly():
    tid, kid = uuid.uuid4(), uuid.uuid4()
    assert parse_api_key(f"xfk_{tid.hex}{kid.hex}_secret") == (tid, kid, "secret")
    assert parse_api_key(f"xfk_{tid.hex}_secret") is None
    assert parse_api_key(f"xfp_{tid.hex}{kid.hex}_secret") is None
    assert parse_api_key("xfk_" + "z" * 64 + "_s") is None
    assert parse_platform_token(f"xfp_{kid.hex}_secret") == (kid, "secret")
    assert parse_platform_token(f"xfp_{kid.hex}_") is None


def test_payload_values_must_have_their_catalogued_types():
    check_payload("petition.accepted", {"kind": "complaint", "category": "x", "days": 3})
    check_payload("plan.draft_created", {"number": 1, "based_on_id": None})
    for bad in ({"days": "3"}, {"days": True}, {"days": 2.5}):
        with pytest.raises(ValueError, match="catalogued type"):
            check_payload("petition.accepted", bad)
    with pytest.raises(ValueError, match="catalogued type"):
        check_payload("account.updated", {"changed": [1, 2]})
    check_payload("warning.raised", {"window_hours": 24.0, "baseline": 1})  # a number may be whole
