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
        ({**BASE, "XINFANG_PASSWORD_HASH_PROFILE": "md5"}, "XINFANG_PASSWORD_HASH_PROFILE"),
        (
            {
                **BASE,
                "XINFANG_ENV": "production",
                "XINFANG_SECRET_KEY": "p" * 40,
                "XINFANG_DATA_KEY": base64.b64encode(b"k" * 32).decode(),
                "XINFANG_PASSWORD_HASH_PROFILE": "test",
            },
            "XINFANG_PASSWORD_HASH_PROFILE",
        ),
    ],
)
def test_bad_values_name_the_variable(env, variable):
    with pytest.raises(SettingsError) as err:
        load_settings(env)
    assert variable in str(err.value)
    assert "\n" not in str(err.value)


def test_cli_prints_one_line_and_exits(monkeypatch, capsys):
    from service.ops import cli
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


def test_notification_channels_are_off_until_configured():
    from service.notifications import channels

    s = load_settings(BASE)
    assert not channels.email_enabled(s) and not channels.sms_enabled(s)
    s = load_settings(
        {
            **BASE,
            "XINFANG_SMTP_HOST": "smtp.example.edu.cn",
            "XINFANG_SMTP_PORT": "465",
            "XINFANG_SMTP_STARTTLS": "false",
            "XINFANG_SMTP_FROM": "xinfang@example.edu.cn",
            "XINFANG_SMS_URL": "https://sms.example.com/send",
            "XINFANG_SMS_TOKEN": "t",
            "XINFANG_NOTIFY_RETRY_SCHEDULE": "10,20",
        }
    )
    assert (s.smtp_port, s.smtp_starttls, s.notify_retry_delays) == (465, False, (10.0, 20.0))
    assert channels.email_enabled(s) and channels.sms_enabled(s)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"XINFANG_SMS_URL": "ftp://sms.example.com"}, "XINFANG_SMS_URL"),
        ({"XINFANG_SMTP_HOST": "smtp.example.edu.cn", "XINFANG_SMTP_PORT": "70000"}, "XINFANG_SMTP_PORT"),
        ({"XINFANG_NOTIFY_RETRY_SCHEDULE": "10,soon"}, "XINFANG_NOTIFY_RETRY_SCHEDULE"),
        ({"XINFANG_NOTIFY_RETRY_SCHEDULE": "10,-1"}, "XINFANG_NOTIFY_RETRY_SCHEDULE"),
    ],
)
def test_bad_notification_settings_name_the_variable(env, variable):
    with pytest.raises(SettingsError, match=variable):
        load_settings({**BASE, **env})


def test_passwords_are_argon2id_at_rfc_9106_cost_unless_a_test_suite_asks_for_less():
    from argon2 import PasswordHasher

    from tenants import identity
    from tenants.settings import get_settings

    assert load_settings(BASE).password_hash_profile == "rfc9106-low-memory"
    strong = identity._PROFILES["rfc9106-low-memory"]
    assert (strong.time_cost, strong.memory_cost, strong.parallelism) == (3, 64 * 1024, 4)
    # This suite runs with the "test" profile (tests/conftest.py); a hash of the strong profile still verifies,
    # since argon2 reads the cost from the hash.
    assert get_settings().password_hash_profile == "test"
    mine = identity.hash_password("a-long-password-1")
    assert mine.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    production_hash = PasswordHasher.from_parameters(strong).hash("a-long-password-1")
    assert identity.verify_password(production_hash, "a-long-password-1")
    assert not identity.verify_password(production_hash, "a-long-password-2")
