"""Evaluation in the console: the reports' pages (the API's read rule, charts with their tables, downloads that
are the API's renditions), the petition office's dashboard (the caller's scope), and the bureau's pages (a
bureau viewer signs in without a university code; a university's account gets a 404; suppressed figures are
marked, never shown as zero)."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
from typing import Any

import openpyxl
import pypdf
import pytest

from analytics.reports import store
from service.console import dashboard
from service.petitions.workflow import State
from tests.support.casework import drive, make_university, petition_body
from tests.support.forms import Browser, console_account, signed_in
from tests.support.platform import FIXED_NOW, auth, changed

NOVEMBER = dt.date(2026, 11, 1)


async def _report(db: Any, tenant_id: uuid.UUID, kind: str, start: dt.date) -> store.Report:
    async with db.transaction(tenant_id) as session:
        report, _ = await store.generate(session, kind, start)  # type: ignore[arg-type]
        return report


@pytest.fixture
async def campus(clock: Any, client: Any, make_tenant: Any) -> Any:
    uni = await make_university(client, make_tenant)
    return uni


async def test_reports_list_page_and_downloads_follow_the_api_s_read_rule(web, client, db, campus, make_tenant):
    uni = campus
    await drive(client, uni, State.replied)
    await drive(client, uni, State.accepted)
    monthly = await _report(db, uni.tenant.id, "monthly", NOVEMBER)
    quarterly = await _report(db, uni.tenant.id, "quarterly", dt.date(2026, 10, 1))
    staff = await signed_in(web, uni, await console_account(client, uni, "staff", uni.unit_a))

    r = await staff.get("/console/reports")
    assert r.status_code == 200
    assert "2026年第4季度" in r.text and f"/console/reports/{quarterly.id}" in r.text
    assert f"/console/reports/{monthly.id}" not in r.text  # quarterly by default
    r = await staff.get("/console/reports?kind=monthly&lang=en")
    assert "2026-11" in r.text and f"/console/reports/{monthly.id}" in r.text

    r = await staff.get(f"/console/reports/{quarterly.id}?lang=zh-CN")
    assert r.status_code == 200
    page = r.text
    # The four dimensions and the overall score, the trend and the units as charts, each with its table.
    for word in ("及时性与有效性", "协调配合", "信息发布", "满意度", "综合得分", "各部门综合得分排名", "突发事件处置"):
        assert word in page, word
    assert page.count("<svg") == 2 and page.count('<figure class="chart">') == 2
    for figure in re.findall(r'<figure class="chart">.*?</figure>', page, flags=re.S):
        assert "<table" in figure and 'scope="col"' in figure and 'scope="row"' in figure
    assert 'role="img"' in page and "<circle" in page and "<rect" in page
    assert "style=" not in page.replace('font-size="11"', "")  # the strict CSP: no inline style
    for fmt in ("pdf", "xlsx", "csv", "parquet"):
        assert f"/console/reports/{quarterly.id}/report.{fmt}?lang=zh-CN" in page

    english = (await staff.get(f"/console/reports/{quarterly.id}?lang=en")).text
    assert "Timeliness and effectiveness" in english and "Units ranked by overall score" in english
    assert f"/console/reports/{quarterly.id}/report.pdf?lang=en" in english
    pdf = await staff.get(f"/console/reports/{quarterly.id}/report.pdf?lang=zh-CN")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    document = pypdf.PdfReader(io.BytesIO(pdf.content))
    text = "".join(p.extract_text() for p in document.pages)
    assert "及时性与有效性" in text and "各部门综合得分排名" in text
    drawn = b"".join(p.get_contents().get_data() for p in document.pages)  # type: ignore[union-attr]
    assert re.search(rb"\bre\s+f\b", drawn)  # the bars: filled rectangles
    xlsx = await staff.get(f"/console/reports/{quarterly.id}/report.xlsx?lang=en")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert {"Scores total", "Petitions by unit", "Contents"} <= set(book.sheetnames)
    assert pdf.headers["x-content-type-options"] == "nosniff" and "attachment" in pdf.headers["content-disposition"]
    for other_file in ("report.exe", "report.html"):  # the page is the HTML; its rendition is the API's
        assert (await staff.get(f"/console/reports/{quarterly.id}/{other_file}")).status_code == 404

    # Another university's report is a 404 page (row-level security), as in the API.
    other = await make_university(client, make_tenant)
    theirs = await _report(db, other.tenant.id, "monthly", NOVEMBER)
    r = await staff.get(f"/console/reports/{theirs.id}")
    assert r.status_code == 404 and "<html" in r.text
    assert (await staff.get(f"/console/reports/{theirs.id}/report.pdf")).status_code == 404


async def test_reports_pages_need_a_console_sign_in(web):
    b: Browser = web()
    r = await b.get("/console/reports")
    assert r.status_code == 303 and r.headers["location"] == "/console/login"


async def test_the_dashboard_counts_the_caller_s_scope(web, client, campus):
    uni = campus
    officer = await signed_in(web, uni, await console_account(client, uni, "petition_officer", None))
    staff_b = await signed_in(web, uni, await console_account(client, uni, "staff", uni.unit_b))
    # Two received (a deadline to accept runs), one accepted and assigned to unit A.
    for _ in range(2):
        r = await client.post(f"/api/v1/t/{uni.slug}/petitions", json=petition_body())
        assert r.status_code == 201, r.text
    await drive(client, uni, State.assigned)

    r = await officer.get("/console/dashboard")
    assert r.status_code == 200
    table = re.search(r'<table class="data" id="open-by-state">.*?</table>', r.text, flags=re.S)
    assert table, r.text[:3000]
    assert re.search(r"已收到</a></th><td>0</td><td>0</td><td>2</td><td>0</td>", table.group(0)), table.group(0)
    intake = re.search(r'<table class="data" id="intake">.*?</table>', r.text, flags=re.S)
    assert intake and "本月至今</th><td>3</td>" in intake.group(0) and "去年同月全月</th><td>0</td>" in intake.group(0)
    assert "没有超期的信访件" in r.text and "目前没有未处理的预警" in r.text

    # Unit B handles none of them: its dashboard is empty (the API's list scope).
    r = await staff_b.get("/console/dashboard")
    assert r.status_code == 200 and "目前没有在办的信访件" in r.text and "本月至今</th><td>0</td>" in r.text


async def test_overdue_by_unit_and_the_year_before(db, client, campus, clock):
    """The dashboard's queries on the database: past the deadline counts per unit; a year on, this month's
    intake is last year's."""
    from tenants.identity import Principal, Role

    uni = campus
    await drive(client, uni, State.assigned)
    office = Principal(kind="account", role=Role.petition_officer, subject_id=uuid.uuid4(), tenant_id=uni.tenant.id)
    later = FIXED_NOW + dt.timedelta(days=120)  # past the 60 days (working-day calendar) to conclude
    async with db.transaction(uni.tenant.id) as session:
        assert await dashboard.overdue_by_unit(session, office, FIXED_NOW) == []
        assert await dashboard.overdue_by_unit(session, office, later) == [(uuid.UUID(uni.unit_a), 1)]
        by_state = await dashboard.open_by_state(session, office, later)
        assert by_state["assigned"]["overdue"] == 1
        from zoneinfo import ZoneInfo

        zone = ZoneInfo("Asia/Shanghai")
        a_year_on = FIXED_NOW.replace(year=2027) + dt.timedelta(hours=1)  # after that petition's instant
        got = await dashboard.intake(session, office, a_year_on, zone)
        assert (got.month, got.this_year, got.same_days_last_year, got.whole_month_last_year) == (
            dt.date(2027, 11, 1),
            0,
            1,
            1,
        )
        # A year on but before the day of last year's petition: the same days hold none of it.
        early = dt.datetime(2027, 11, 2, tzinfo=dt.UTC)
        got = await dashboard.intake(session, office, early, zone)
        assert (got.same_days_last_year, got.whole_month_last_year) == (0, 1)


async def _bureau_viewer(client: Any, platform_token: str, province: str) -> tuple[str, str]:
    email = f"bureau-{uuid.uuid4().hex[:8]}@edu.gov.cn"
    r = await client.post(
        "/api/v1/platform/accounts",
        json={"email": email, "password": "bureau-password-1", "role": "bureau_viewer", "province_code": province},
        headers=auth(platform_token),
    )
    assert r.status_code == 201, r.text
    return email, "bureau-password-1"


async def test_a_bureau_viewer_signs_in_without_a_university_code(web, client, platform_token, clock):
    viewer = await _bureau_viewer(client, platform_token, "630000")
    b: Browser = web()
    r = await b.sign_in("", *viewer)
    # The platform issued the password: the bureau viewer chooses its own first, then lands on its page.
    assert r.status_code == 303 and r.headers["location"] == "/console/password"
    assert (await b.get("/console/bureau")).headers["location"] == "/console/password"
    await b.get("/console/password")
    r = await b.post("/console/password", {"current_password": viewer[1], "new_password": changed(viewer[1])})
    assert r.status_code == 303 and r.headers["location"] == "/console/bureau?changed=1", r.text
    r = await web().sign_in("", viewer[0], changed(viewer[1]))
    assert r.status_code == 303 and r.headers["location"] == "/console/bureau"
    r = await b.get("/console/bureau?year=2026&quarter=4")
    assert r.status_code == 200
    assert "青海" in r.text and "关于“已隐去”" in r.text and 'id="suppression-legend"' in r.text
    assert "/console/queue" not in r.text  # the nav offers the bureau's page only
    # The university's pages are not the bureau's.
    assert (await b.get("/console/queue")).status_code == 403
    assert (await b.get("/console/reports")).status_code == 403
    # A wrong password is the same refusal as ever.
    r = await web().sign_in("", viewer[0], "wrong-password-1")
    assert r.status_code == 401
    r = await b.post("/console/logout", {})
    assert r.status_code == 303 and (await b.get("/console/bureau")).status_code == 303


async def test_a_university_account_cannot_reach_the_bureau_s_pages(web, client, campus):
    uni = campus
    officer = await signed_in(web, uni, await console_account(client, uni, "petition_officer", None))
    r = await officer.get("/console/bureau")
    assert r.status_code == 404 and "<html" in r.text
    assert "全省概览" not in (await officer.get("/console/queue")).text  # nor a link to them
    admin = web()
    r = await admin.sign_in(uni.slug, uni.tenant.admin_email, uni.tenant.admin_password)
    assert r.status_code == 303
    assert (await admin.get("/console/bureau?year=2026")).status_code == 404


async def test_the_bureau_page_marks_suppressed_cells_never_as_zero(web, client, db, platform_token, clock):
    """Guizhou (no other test onboards a university there), this quarter: decisions [12, 4, 11]. 4 is under
    k = 10, and 11 its cheapest complement: both ``已隐去``; 12 and the total are published."""
    from analytics.province import jobs as province_jobs
    from tests.integration.bureau.test_bureau_api import _petitions, _university

    platform = auth(platform_token)
    unis = [await _university(client, platform, "520000", tag) for tag in ("ga", "gb", "gc")]
    for uni, n in zip(unis, (12, 4, 11), strict=True):
        await _petitions(db, uni, "complaint", "dormitory", n)
    await province_jobs.fold_all(db, [u.id for u in unis])
    email, password = await _bureau_viewer(client, platform_token, "520000")
    b: Browser = web()
    await b.sign_in("", email, password)
    await b.get("/console/password")
    await b.post("/console/password", {"current_password": password, "new_password": changed(password)})

    r = await b.get("/console/bureau?year=2026&quarter=4")
    assert r.status_code == 200
    table = re.search(r'<table class="data" id="bureau-scores">.*?</table>', r.text, flags=re.S)
    assert table
    rows = {
        m.group(1): re.findall(r"<td[^>]*>(.*?)</td>", m.group(2))
        for m in re.finditer(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', table.group(0), flags=re.S)
    }
    decisions = 5  # after the four dimensions and the overall score
    assert rows["ga大学"][decisions] == "12"
    suppressed = '已隐去<sup aria-hidden="true">*</sup>'
    assert rows["gb大学"][decisions] == suppressed and rows["gc大学"][decisions] == suppressed
    assert rows["全省合计"][decisions] == "27"
    assert "表示该数据涉及的信访件少于 10 件" in r.text
    assert "排名比较的是本省 3 所高校在2026年第4季度的综合得分" in r.text
    kinds = re.search(r'<table class="data" id="bureau-kinds">.*?</table>', r.text, flags=re.S)
    assert kinds and suppressed in kinds.group(0)
    english = await b.get("/console/bureau?year=2026&quarter=4&lang=en")
    assert "suppressed" in english.text and "Suppressed is not zero." in english.text
