"""Emergency group rosters for unit tests (the organization chart's ``GroupRoster``)."""

from __future__ import annotations

import uuid

from tenants.org import GroupRoster

DEFAULT_GROUPS = ("leadership", "handling", "info_release", "logistics")


def roster(
    key: str,
    *,
    leader: uuid.UUID | None = None,
    deputies: tuple[uuid.UUID, ...] = (),
    members: tuple[uuid.UUID, ...] = (),
) -> GroupRoster:
    return GroupRoster(
        key=key,
        name_zh=key,
        name_en=key,
        leader_person_id=leader,
        deputy_person_ids=deputies,
        member_person_ids=members,
        account_ids=frozenset(),
    )


def filled(*keys: str) -> dict[str, GroupRoster]:
    """Groups with a leader each."""
    return {k: roster(k, leader=uuid.uuid4()) for k in keys}
