"""Schemathesis hooks (loaded by its CLI through SCHEMATHESIS_HOOKS): the lookup-code petitioner sends the real
tracking number and lookup code of the seeded petition in the requests that carry valid ones."""

from __future__ import annotations

import os
from typing import Any

import schemathesis

# The documented bounds of the two (service.petitions.schemas.LookupIn): a value outside them is the fuzzer's
# invalid case, kept as it is, so that the server's refusal of it is what gets checked.
LONGEST = {"tracking_number": 24, "lookup_code": 32}
REAL = {"tracking_number": "XF_CONTRACT_TRACKING", "lookup_code": "XF_CONTRACT_LOOKUP"}


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    if os.environ.get("XF_CONTRACT_ROLE") != "petitioner" or not isinstance(body, dict):
        return body
    for field, longest in LONGEST.items():
        value = body.get(field)
        if isinstance(value, str) and 1 <= len(value) <= longest:
            body[field] = os.environ[REAL[field]]
    return body
