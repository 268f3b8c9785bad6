"""The public status page shows times as the university's people read them, at the turn of a year in two zones."""

from __future__ import annotations

from datetime import UTC, datetime

from service.incidents.document import PublicBulletin, StatusPage, local_time, status_html

NEW_YEAR_IN_BEIJING = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)


def test_local_time_at_the_new_year_in_beijing_and_urumqi() -> None:
    assert local_time(NEW_YEAR_IN_BEIJING, "Asia/Shanghai", "zh-CN") == "2027年1月1日 00:30（Asia/Shanghai）"
    assert local_time(NEW_YEAR_IN_BEIJING, "Asia/Urumqi", "zh-CN") == "2026年12月31日 22:30（Asia/Urumqi）"
    assert local_time(NEW_YEAR_IN_BEIJING, "Asia/Shanghai", "en") == "1 Jan 2027, 00:30 (Asia/Shanghai)"


def test_the_page_prints_local_times_and_keeps_the_instant_for_machines() -> None:
    bulletin = PublicBulletin(
        sequence=1, kind="initial", audience="campus", title="停水通报", body="明早恢复供水。",
        published_at=NEW_YEAR_IN_BEIJING, next_update_at=datetime(2027, 1, 1, 0, 0, tzinfo=UTC),
        corrects_sequence=None, corrected_by=[],
    )  # fmt: skip
    page = StatusPage(university="测试大学", lang="zh-CN", status="处置中", drill=False, bulletins=[bulletin])
    html = status_html(page)
    assert "2027年1月1日 00:30（Asia/Shanghai）" in html and "下次通报不晚于 2027年1月1日 08:00" in html
    assert 'datetime="2026-12-31T16:30:00+00:00"' in html
    assert 'name="viewport"' in html and 'href="?lang=en"' in html
