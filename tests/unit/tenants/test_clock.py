"""The one clock seam: ``tenants.clock`` is the only place the packages read the wall clock, and a university's
day turns at its own midnight."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine

from tenants import clock

ROOT = Path(__file__).resolve().parents[3]
# Reads of the wall clock that would bypass the seam (monotonic and perf_counter measure durations: allowed).
WALL_CLOCK = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time"), ("time", "time_ns")}


def _wall_clock_reads(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if (name, node.func.attr) in WALL_CLOCK:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_only_the_clock_module_reads_the_wall_clock():
    files = [p for package in ("service", "tenants", "analytics") for p in sorted((ROOT / package).rglob("*.py"))]
    reads = [r for p in files if p != ROOT / "tenants" / "clock.py" for r in _wall_clock_reads(p)]
    assert reads == [], "read the time through tenants.clock (utcnow, today), so tests can set it"
    assert _wall_clock_reads(ROOT / "tenants" / "clock.py")  # the scan does see a read where there is one


def test_today_turns_at_each_zone_s_own_midnight():
    shanghai, urumqi = ZoneInfo("Asia/Shanghai"), ZoneInfo("Asia/Urumqi")
    with time_machine.travel(dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC), tick=False):
        assert clock.today(shanghai) == dt.date(2027, 1, 1)  # 00:00 on 1 January
        assert clock.today(urumqi) == dt.date(2026, 12, 31)  # 22:00 on 31 December
        assert clock.utcnow() == dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC)
    with time_machine.travel(dt.datetime(2026, 12, 31, 17, 59, tzinfo=dt.UTC), tick=False):
        assert clock.today(urumqi) == dt.date(2026, 12, 31)
    with time_machine.travel(dt.datetime(2026, 12, 31, 18, 0, tzinfo=dt.UTC), tick=False):
        assert clock.today(urumqi) == dt.date(2027, 1, 1)
