"""Schemathesis, every check and every phase (stateful included: the document's links from creates to reads),
against the real server as each role: the OpenAPI document is what the server does.

``make test`` runs a fixed seed and a few examples, each role on a few operations of its own (the suite's time
budget); ``make fuzz`` runs every operation as every role with many more examples and every unexpected method
(``XINFANG_FUZZ=long``; ``XINFANG_FUZZ_SECONDS`` bounds each role's run, 900 by default).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.contract.conftest import Seeded
from tests.contract.fuzzing import fuzz

pytestmark = pytest.mark.e2e

LONG = os.environ.get("XINFANG_FUZZ") == "long"

# Operations that end the fuzzer's own session (signing out, changing the password it signed in with): run for
# the anonymous caller, who has no session to lose; their behaviour has tests of their own.
SELF_ENDING = r"^/api/v1/auth/(logout|password)$"

# Role -> the paths it works on in `make test` (regexes): a few operations each, chosen so that the short run still
# walks a create -> read link (the stateful phase) and the role's typical refusals. `make fuzz` takes every path.
# The platform admin comes last: fuzzing every path, it suspends and offboards universities, the seeded one too,
# which ends every other role's session.
ROLES: dict[str, list[str]] = {
    "tenant_admin": [r"^/api/v1/org/units(/\{unit_id\})?$", r"^/api/v1/webhooks/subscriptions(/\{subscription_id\})?$"],
    "petition_officer": [r"^/api/v1/petitions(/\{petition_id\})?$", r"^/api/v1/supervision-orders(/\{order_id\})?$"],
    "staff": [r"^/api/v1/incidents(/\{incident_id\})?$", r"^/api/v1/notifications"],
    "petitioner": [
        r"^/api/v1/t/\{slug\}/petitions/(status|rating|attachments)$",
        r"^/api/v1/petitions(/\{petition_id\}|/mine)?$",
    ],
    "integrator": [r"^/open311/v2/(services/)?\{name\}$", r"^/api/v1/webhooks/subscriptions(/\{subscription_id\})?$"],
    "anonymous": [
        r"^/api/v1/(auth/(login|logout|password)|t/\{slug\}/(categories|petitions))$",
        r"^/api/v1/org/units(/\{unit_id\})?$",
    ],
    "platform_admin": [
        r"^/api/v1/platform/tenants(/\{tenant_id\}(/archive|/offboard)?)?$",
        r"^/api/v1/platform/accounts(/\{account_id\}/deactivate)?$",
    ],
}


@pytest.mark.parametrize("role", list(ROLES))
async def test_the_server_does_what_the_document_says(seeded: Seeded, role: str, tmp_path: Path) -> None:
    include = None if LONG else ROLES[role]
    outcome = await fuzz(
        seeded,
        role,
        tmp_path,
        max_examples=100 if LONG else 2,
        include=include,
        exclude=[SELF_ENDING] if seeded.headers[role] else None,
        max_time=int(os.environ.get("XINFANG_FUZZ_SECONDS", "900")) if LONG else None,
        unexpected_methods=("get", "put", "post", "patch", "delete", "options", "trace") if LONG else ("delete",),
    )
    assert outcome.returncode == 0, outcome.output[-30000:]
