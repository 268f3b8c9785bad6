from datetime import UTC, datetime, timedelta

from service.petitions.reminders import Facts, notices

DUE = datetime(2026, 3, 10, 16, tzinfo=UTC)


def run(facts, now, hours=(72, 24), days=28):
    return [(n.type, n.payload) for n in notices(facts, now, reminder_hours=list(hours), followup_days=days)]


def test_nothing_far_from_the_deadline():
    assert run(Facts("in_progress", DUE, None, None), DUE - timedelta(days=5)) == []


def test_the_nearest_point_reached_is_reminded():
    assert run(Facts("received", DUE, None, None), DUE - timedelta(hours=50)) == [
        ("petition.deadline_reminder", {"deadline": "accept", "hours": 72})
    ]
    assert run(Facts("received", DUE, None, None), DUE - timedelta(hours=2)) == [
        ("petition.deadline_reminder", {"deadline": "accept", "hours": 24})
    ]


def test_overdue():
    assert run(Facts("review_requested", DUE, None, None), DUE) == [("petition.overdue", {"deadline": "review_answer"})]


def test_followup_after_the_configured_days_unless_rated():
    replied = DUE - timedelta(days=28)
    assert run(Facts("replied", None, replied, None), DUE) == [
        ("petition.followup_due", {"stage": "reply", "days": 28})
    ]
    assert run(Facts("replied", None, replied, "reply"), DUE) == []
    assert run(Facts("replied", None, replied, None), DUE - timedelta(seconds=1)) == []
    assert run(Facts("reviewed", None, replied, "reply"), DUE) == [
        ("petition.followup_due", {"stage": "review", "days": 28})
    ]


def test_keys_differ_per_point_and_deadline():
    a = notices(
        Facts("received", DUE, None, None), DUE - timedelta(hours=50), reminder_hours=[72, 24], followup_days=28
    )
    b = notices(Facts("received", DUE, None, None), DUE - timedelta(hours=2), reminder_hours=[72, 24], followup_days=28)
    c = notices(
        Facts("in_progress", DUE + timedelta(days=60), None, None),
        DUE + timedelta(days=59, hours=1),
        reminder_hours=[72, 24],
        followup_days=28,
    )
    assert len({a[0].key, b[0].key, c[0].key}) == 3
