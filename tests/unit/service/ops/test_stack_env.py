"""`xinfang` commands find a running embedded stack through the env file `xinfang run` writes (no I/O but files)."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from service.ops.cli import use_stack_environment
from service.ops.demo_story import report_periods
from service.ops.embedded import ENV_FILE, banner, read_env_file, write_env_file

STACK = {
    "XINFANG_DATABASE_URL": "postgresql://postgres:@/xinfang?host=/tmp/pg sock",  # a space: quoted for the shell
    "XINFANG_SECRET_KEY": "k'ey$with`shell$(chars)",
    "XINFANG_DATA_KEY": "ZGF0YQ==",
    "XINFANG_BROKER_URL": "postgres",
    "XINFANG_DATA_DIR": "/srv/x",
    "HOME": "/root",  # not the stack's: never written
}


def test_the_env_file_round_trips_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / ENV_FILE
    write_env_file(path, STACK)
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_env_file(path) == {k: v for k, v in STACK.items() if k.startswith("XINFANG_")}
    # And a shell that sources it sees the same values.
    out = subprocess.run(
        ["bash", "-c", f'source "{path}" && printf "%s\\n" "$XINFANG_SECRET_KEY" "$XINFANG_DATABASE_URL"'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert out == [STACK["XINFANG_SECRET_KEY"], STACK["XINFANG_DATABASE_URL"]]


def test_commands_take_the_stack_settings_only_when_no_database_is_configured(tmp_path: Path) -> None:
    write_env_file(tmp_path / ENV_FILE, STACK)
    environ = {"XINFANG_DATA_DIR": str(tmp_path), "XINFANG_BROKER_URL": "stub://"}
    assert use_stack_environment(environ) == tmp_path / ENV_FILE
    assert environ["XINFANG_DATABASE_URL"] == STACK["XINFANG_DATABASE_URL"]
    assert environ["XINFANG_BROKER_URL"] == "stub://"  # what is set already wins
    assert environ["XINFANG_DATA_DIR"] == str(tmp_path)
    configured = {"XINFANG_DATA_DIR": str(tmp_path), "XINFANG_DATABASE_URL": "postgresql://elsewhere/x"}
    assert use_stack_environment(configured) is None and "XINFANG_SECRET_KEY" not in configured
    (tmp_path / ENV_FILE).unlink()  # the stack stopped
    stopped = {"XINFANG_DATA_DIR": str(tmp_path)}
    assert use_stack_environment(stopped) is None and stopped == {"XINFANG_DATA_DIR": str(tmp_path)}


def test_the_banner_lists_the_console_the_student_pages_and_every_demo_account(tmp_path: Path) -> None:
    creds = {
        "tenant_slug": "demo",
        "tenant_admin_password": "pw-admin",
        "demo_accounts": {
            "unit_staff": {"email": "jsjxy@demo.edu.cn", "password": "pw-1", "who_en": "Unit staff"},
            "bureau_viewer": {"email": "bureau@xinfang.local", "password": "pw-2", "who_en": "Bureau viewer"},
        },
    }
    text = banner("http://127.0.0.1:8000", creds, tmp_path, 12.3)
    assert "http://127.0.0.1:8000/console" in text and "http://127.0.0.1:8000/t/demo/" in text
    assert "jsjxy@demo.edu.cn" in text and "pw-1" in text and "bureau@xinfang.local" in text and "pw-2" in text
    assert "tenant_admin_password" in text and "demo_accounts" not in text  # accounts as lines, not a dict
    assert f"source {tmp_path / ENV_FILE}" in text and "12.3 s" in text


def test_the_demo_reports_are_every_closed_month_and_quarter_and_the_last_year() -> None:
    got = report_periods(dt.date(2025, 11, 1), dt.date(2026, 11, 18))
    months = [d for k, d in got if k == "monthly"]
    assert months[0] == dt.date(2025, 11, 1) and months[-1] == dt.date(2026, 10, 1) and len(months) == 12
    assert [d for k, d in got if k == "quarterly"] == [dt.date(2026, m, 1) for m in (1, 4, 7)]
    assert [d for k, d in got if k == "yearly"] == [dt.date(2025, 1, 1)]
