"""Runs Schemathesis (its own CLI, every check, every phase) against the contract server as one role."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.contract.conftest import Seeded

SEED = 19
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
HOOKS = "tests.contract.hooks"
ROOT = Path(__file__).resolve().parents[2]

# The seeded university's slug in every path that names one. A 422 answers a request that matches the schema but
# breaks a business rule the schema cannot say (a time in the past, a category the university does not have, a
# date range longer than 90 days), so it counts as a considered answer to schema-valid data, like 404 and 409.
CONFIG = """
[parameters]
"path.slug" = "{slug}"

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]

[phases.coverage]
unexpected-methods = [{methods}]
"""


@dataclass
class Outcome:
    returncode: int
    output: str

    @property
    def failures(self) -> int:
        """The number of distinct failures Schemathesis reports (0 when the run passed)."""
        match = re.search(r"(\d+) failures?", self.output.split("SUMMARY")[-1])
        return int(match.group(1)) if match else (0 if self.returncode == 0 else -1)


async def fuzz(
    seeded: Seeded,
    role: str,
    workdir: Path,
    *,
    max_examples: int,
    phases: str = "examples,coverage,fuzzing,stateful",
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    max_time: int | None = None,
    unexpected_methods: tuple[str, ...] = ("get", "put", "post", "patch", "delete", "options", "trace"),
) -> Outcome:
    """One Schemathesis run as ``role`` with a fixed seed. ``include``/``exclude`` are path regexes."""
    config = workdir / "schemathesis.toml"
    config.write_text(
        CONFIG.format(slug=seeded.slug, methods=", ".join(f'"{m}"' for m in unexpected_methods)), encoding="utf-8"
    )
    args = [
        str(SCHEMATHESIS),
        "--config-file",
        str(config),
        "run",
        f"{seeded.url}/schema/openapi.json",
        "--checks",
        "all",
        "--phases",
        phases,
        "--seed",
        str(SEED),
        "--max-examples",
        str(max_examples),
        "--workers",
        "1",
        "--continue-on-failure",
        "--no-shrink",
        "--suppress-health-check",
        "all",
        "--output-truncate",
        "false",
        # the seeded university's credentials are the test's own: show every header of a failing request
        "--output-sanitize",
        "false",
    ]
    if max_time:
        args += ["--max-time", str(max_time)]
    for name, value in seeded.headers[role].items():
        args += ["-H", f"{name}: {value}"]
    for pattern in include or []:
        args += ["--include-path-regex", pattern]
    for pattern in exclude or []:
        args += ["--exclude-path-regex", pattern]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": HOOKS,
        "PYTHONPATH": str(ROOT),
        "XF_CONTRACT_ROLE": role,
        "XF_CONTRACT_TRACKING": seeded.tracking_number,
        "XF_CONTRACT_LOOKUP": seeded.lookup_code,
        "NO_COLOR": "1",
    }
    process = await asyncio.create_subprocess_exec(
        *args, cwd=workdir, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await process.communicate()
    return Outcome(process.returncode or 0, out.decode("utf-8", "replace"))
