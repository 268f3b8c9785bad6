"""Schemathesis hooks (loaded by its CLI through SCHEMATHESIS_HOOKS): the lookup-code petitioner sends the real
tracking number and lookup code of the seeded petition in the requests that carry them."""

from __future__ import annotations

import os
from typing import Any

import schemathesis


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    if os.environ.get("XF_CONTRACT_ROLE") != "petitioner" or not isinstance(body, dict):
        return body
    if "tracking_number" in body:
        body["tracking_number"] = os.environ["XF_CONTRACT_TRACKING"]
    if "lookup_code" in body:
        body["lookup_code"] = os.environ["XF_CONTRACT_LOOKUP"]
    return body
