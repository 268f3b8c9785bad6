"""Group rosters for unit tests, shaped like ``tenants.org.GroupRoster``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Roster:
    key: str
    name_zh: str = ""
    name_en: str = ""
    leader_person_id: uuid.UUID | None = None
    deputy_person_ids: tuple[uuid.UUID, ...] = ()
    member_person_ids: tuple[uuid.UUID, ...] = ()
    account_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)


def filled(*keys: str) -> dict[str, Roster]:
    """Groups with a leader each."""
    return {k: Roster(key=k, leader_person_id=uuid.uuid4()) for k in keys}


DEFAULT_GROUPS = ("leadership", "handling", "info_release", "logistics")
