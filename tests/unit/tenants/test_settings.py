import base64

import pytest

from tenants.settings import SettingsError, load_settings, with_user

BASE = {"XINFANG_DATABASE_URL": "postgresql://postgres@db.example:5432/xinfang"}


def test_defaults_and_derived_app_url():
    s = load_settings(BASE)
    assert s.broker_url == "postgres"
    assert s.app_url == "postgresql://xinfang_app@db.example:5432/xinfang"
    assert s.port == 8000


def test_explicit_app_url_wins():
    s = load_settings({**BASE, "XINFANG_APP_DATABASE_URL": "postgresql://app:pw@bouncer:6432/xinfang"})
    assert s.app_url == "postgresql://app:pw@bouncer:6432/xinfang"


def test_with_user_keeps_host_and_query():
    url = "postgresql://postgres:secret@/xinfang?host=/tmp/sock"
    assert with_user(url, "xinfang_app", "pw") == "postgresql://xinfang_app:pw@/xinfang?host=/tmp/sock"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "XINFANG_DATABASE_URL"),
        ({**BASE, "XINFANG_DATABASE_URL": "mysql://x/y"}, "XINFANG_DATABASE_URL"),
        ({**BASE, "XINFANG_PORT": "eighty"}, "XINFANG_PORT"),
        ({**BASE, "XINFANG_PORT": "-1"}, "XINFANG_PORT"),
        ({**BASE, "XINFANG_BROKER_URL": "kafka://x"}, "XINFANG_BROKER_URL"),
        ({**BASE, "XINFANG_SECRET_KEY": "short"}, "XINFANG_SECRET_KEY"),
        ({**BASE, "XINFANG_DATA_KEY": "not base64!"}, "XINFANG_DATA_KEY"),
        ({**BASE, "XINFANG_DATA_KEY": base64.b64encode(b"x" * 16).decode()}, "XINFANG_DATA_KEY"),
        ({**BASE, "XINFANG_DEFAULT_TIMEZONE": "Mars/Olympus"}, "XINFANG_DEFAULT_TIMEZONE"),
        ({**BASE, "XINFANG_ENV": "staging"}, "XINFANG_ENV"),
        ({**BASE, "XINFANG_ENV": "production"}, "XINFANG_SECRET_KEY"),
        ({**BASE, "XINFANG_ENV": "production", "XINFANG_SECRET_KEY": "p" * 40}, "XINFANG_DATA_KEY"),
    ],
)
def test_bad_values_name_the_variable(env, variable):
    with pytest.raises(SettingsError) as err:
        load_settings(env)
    assert variable in str(err.value)
    assert "\n" not in str(err.value)


def test_cli_prints_one_line_and_exits(monkeypatch, capsys):
    from service import cli
    from tenants.settings import get_settings

    monkeypatch.setenv("XINFANG_PORT", "not-a-port")
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["migrate"])
    finally:
        get_settings.cache_clear()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("xinfang: configuration error: XINFANG_PORT")
    assert len(err.splitlines()) == 1


def test_production_settings_accept_real_keys():
    s = load_settings(
        {
            **BASE,
            "XINFANG_ENV": "production",
            "XINFANG_SECRET_KEY": "p" * 40,
            "XINFANG_DATA_KEY": base64.b64encode(b"k" * 32).decode(),
        }
    )
    assert s.data_key_bytes == b"k" * 32
