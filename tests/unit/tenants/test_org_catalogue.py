"""The org chart's and inventory's journal events and seeded defaults, checked without a database."""

from __future__ import annotations

import pytest

from tenants.events import EVENTS
from tenants.journal import PERSONAL_KEYS, check_payload
from tenants.materials import EVENT, Movement
from tenants.org import DEFAULT_GROUPS, GROUP_KEY

OURS = ("orgunit.", "person.", "group.", "org.", "material.")


def test_events_declare_no_personal_fields():
    ours = {name: e for name, e in EVENTS.items() if name.startswith(OURS)}
    assert {"orgunit.moved", "person.created", "group.member_added", "org.imported", "material.issued"} <= set(ours)
    for name, event in ours.items():
        assert not {k.lower() for k in event.payload} & PERSONAL_KEYS, name


def test_every_movement_has_a_declared_event():
    assert set(EVENT) == set(Movement)
    for name in EVENT.values():
        check_payload(name, {"category": "medical", "quantity": 1, "delta": -1, "balance": 0})
    with pytest.raises(ValueError):
        check_payload("person.created", {"name": "张三"})


def test_default_groups_mirror_the_seed_plan():
    assert [g.key for g in DEFAULT_GROUPS] == ["leadership", "handling", "info_release", "logistics"]
    for group in DEFAULT_GROUPS:
        assert GROUP_KEY.match(group.key)
        assert group.name_zh and group.name_en and group.duties_zh and group.duties_en
        assert group.leader_post_zh and group.leader_post_en
    posts = {g.key: g.leader_post_zh for g in DEFAULT_GROUPS}
    assert posts["leadership"] == "校党委书记" and posts["handling"] == "学生处处长"
    assert posts["info_release"] == "宣传部部长"
