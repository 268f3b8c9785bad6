"""Precision and recall of the early-warning detector on a generated stream with planted surges (fixed seed).

The full measurement (five seeds, five universities, hourly scans) is ``python -m tests.bench early_warning``;
this is a smaller run of the same code, so a change that blunts the detector or floods it fails here.
"""

from __future__ import annotations

from tests.bench.early_warning import run


def test_precision_and_recall_above_the_floor() -> None:
    result = run(7, tenants=3, days=60, every_hours=2)
    assert result["planted"] >= 15
    assert result["precision"] >= 0.85, result
    assert result["recall"] >= 0.85, result
    assert result["median_hours_to_detect"] <= 6, result
