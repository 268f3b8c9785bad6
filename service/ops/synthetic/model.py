"""The seeded simulation behind ``xinfang demo generate``: petitions and incidents as rows, no I/O.

One ``random.Random`` per university (seeded from the run's seed and the university's index) drives everything,
so a seed gives the same rows every time; ids are UUIDv7 built from the event time and that generator. Each
petition walks the regulation's workflow (``service.petitions.workflow.transition`` is called for every step, so
an illegal path cannot be produced) with deadlines from ``service.petitions.deadlines`` in the university's time
zone; incidents follow the journal contract of the incidents domain (``INCIDENT_EVENTS``). Everything after the
``end`` instant is cut off: cases still open then stay open, as in a real database at that moment.

Volumes follow the academic year: busy at term starts (March, September) and in exam months (June, December,
January), quiet in the Spring Festival (February) and summer holidays (July, August), lower at weekends and
at night.
"""

from __future__ import annotations

import contextlib
import json
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from service.ops.synthetic.universities import GIVEN, SURNAMES
from service.petitions import deadlines
from service.petitions.search import index_terms
from service.petitions.services import code_hash, format_tracking_number
from service.petitions.workflow import Action, State, transition

# Relative volume by local month (1-12) and weekday (Monday = 0), and by local hour.
MONTH_WEIGHT = (0.9, 0.35, 1.25, 1.0, 1.0, 1.2, 0.45, 0.4, 1.4, 0.85, 1.0, 1.15)
WEEKDAY_WEIGHT = (1.0, 1.0, 1.0, 1.0, 0.95, 0.45, 0.4)
HOUR_WEIGHT = (0.1, 0.05, 0.03, 0.03, 0.03, 0.1, 0.3, 0.8, 1.6, 1.8, 1.7, 1.4,
               1.0, 1.2, 1.6, 1.6, 1.5, 1.2, 0.9, 1.0, 1.1, 1.0, 0.6, 0.3)  # fmt: skip

KIND_WEIGHTS = {"complaint": 0.6, "suggestion": 0.25, "accusation": 0.15}
CHANNEL_WEIGHTS = {"online": 0.35, "mobile": 0.3, "open311": 0.05, "letter": 0.08, "phone": 0.1, "visit": 0.07,
                   "email": 0.04, "fax": 0.01}  # fmt: skip
STAFF_CHANNELS = frozenset({"letter", "phone", "fax", "visit", "email"})
OUTCOME_WEIGHTS = {"supported": 0.45, "explained": 0.4, "not_supported": 0.15}
RATING_WEIGHTS = {"satisfied": 0.62, "basically_satisfied": 0.26, "dissatisfied": 0.12}
FOLLOWUP_DAYS = 28

# The incident journal contract (shared with the incidents domain): type -> payload keys written.
INCIDENT_EVENTS: dict[str, tuple[str, ...]] = {
    "incident.reported": ("source", "drill", "plan_number", "people_count", "risk_categories", "petitions"),
    "incident.assessed": ("suggested_level", "level", "overridden", "drill"),
    "incident.instructed": ("activated", "level", "drill"),
    "incident.step_started": ("step", "drill"),
    "incident.step_completed": ("step", "target_minutes", "minutes", "drill"),
    "incident.step_overdue": ("step", "target_minutes", "drill"),
    "task.assigned": ("step", "assignee", "due_at", "reassigned_from", "drill"),
    "task.acknowledged": ("drill",),
    "task.declined": ("reason_code", "drill"),
    "task.completed": ("on_time", "drill"),
    "task.overdue": ("drill",),
    "measure.recorded": ("kind", "count", "drill"),
    "logistics.requested": ("category", "quantity", "drill"),
    "logistics.fulfilled": ("category", "quantity", "short", "drill"),
    "bulletin.published": ("audience", "sequence", "kind", "corrects_id", "next_update_at", "drill"),
    "bulletin.corrected": ("corrects_id", "kind", "drill"),
    "bulletin.update_missed": ("due_at", "drill"),
    "incident.summary_approved": ("action_items", "drill"),
    "incident.closed": ("level", "drill", "minutes"),
}
# Step time targets (minutes from the report) and the update cadence of the default plan; the generator is
# given the targets of each university's published plan.
DEFAULT_TARGETS = {"report": 30, "assessment": 60, "instruction": 120, "response": 120, "logistics": 120,
                   "information_release": 240, "cleanup_summary": 7 * 24 * 60}  # fmt: skip
DEFAULT_CADENCE = 120

# Journal rows: (id, occurred_at, type, actor_id, petition_id, incident_id, org_unit_id, subject_id, payload json)
JOURNAL_COLUMNS = ("id", "occurred_at", "type", "actor_id", "petition_id", "incident_id", "org_unit_id",
                   "subject_id", "payload")  # fmt: skip
PETITION_COLUMNS = (
    "id", "tracking_number", "lookup_hash", "kind", "category_id", "channel", "subject", "content", "location_text",
    "anonymous", "registered_by", "petitioner_name", "petitioner_phone", "petitioner_number", "participants",
    "representatives", "representative_count", "accused_org_unit_id", "org_unit_id", "previous_org_unit_id",
    "state", "version", "received_at", "due_at", "accept_due", "accepted_at", "not_accepted_reason",
    "conclude_due", "extended_days", "extension_reason", "transferred_at", "objection_due", "replied_at",
    "outcome", "opinion", "agreement", "closed_at", "review_window_until", "review_requested_at", "rating",
    "rated_at", "rating_stage", "updated_at", "search",
)  # fmt: skip
PERSONAL = ("petitioner_name", "petitioner_phone", "petitioner_number", "representatives")


@dataclass(frozen=True)
class CategoryRef:
    code: str
    id: uuid.UUID
    unit_id: uuid.UUID
    weight: float


@dataclass(frozen=True)
class Shape:
    """What the simulation needs to know of one provisioned university."""

    index: int
    zone: ZoneInfo
    categories: Sequence[CategoryRef]
    units: Sequence[uuid.UUID]  # every unit a petition can be transferred to
    colleges: Sequence[uuid.UUID]  # units that can be accused
    task_units: dict[str, Sequence[uuid.UUID]]  # incident step -> units tasks go to
    staff_id: uuid.UUID | None  # the account that acts for the university's staff
    targets: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    cadence: int = DEFAULT_CADENCE
    plan_number: int = 1


def rng_for(seed: int, index: int, stream: str) -> random.Random:
    """A generator for one university and one stream (petitions, incidents): independent and reproducible."""
    return random.Random(f"{seed}:{index}:{stream}")


def uuid7(at: datetime, rng: random.Random) -> uuid.UUID:
    """A UUIDv7 whose time is ``at`` and whose random bits come from ``rng`` (reproducible, time-ordered)."""
    ms = int(at.timestamp() * 1000)
    rand = rng.getrandbits(74)
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return uuid.UUID(int=value)


@lru_cache(maxsize=65536)
def _payload(items: tuple[tuple[str, Any], ...]) -> str:
    return json.dumps(dict(items), ensure_ascii=False)


def payload(**values: Any) -> str:
    """The payload as JSON text (cached: most payloads repeat)."""
    return _payload(tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in values.items()))


def arrival_times(rng: random.Random, n: int, start: date, end: date, zone: ZoneInfo) -> list[datetime]:
    """``n`` sorted instants (UTC) in the local days ``[start, end)``, weighted by month, weekday and hour."""
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    if not days or n <= 0:
        return []
    weights = [MONTH_WEIGHT[d.month - 1] * WEEKDAY_WEIGHT[d.weekday()] for d in days]
    picked = rng.choices(days, weights=weights, k=n)
    hours = rng.choices(range(24), weights=HOUR_WEIGHT, k=n)
    out = []
    for day, hour in zip(picked, hours, strict=True):
        local = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=zone)
        out.append(local.astimezone(UTC))
    out.sort()
    return out


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _hours(rng: random.Random, median: float, sigma: float = 0.8) -> timedelta:
    """A log-normal duration around ``median`` hours: most cases quick, a long tail."""
    return timedelta(hours=rng.lognormvariate(0, sigma) * median)


class _Cut(Exception):
    """The simulation reached the end instant."""


SUBJECTS: dict[str, tuple[str, ...]] = {
    "dormitory": ("宿舍热水供应不稳定", "宿舍空调维修迟缓", "宿舍调换申请"),
    "canteen": ("食堂饭菜价格上涨", "食堂卫生问题", "食堂营业时间建议"),
    "teaching": ("课程安排冲突", "教学质量反映", "选课系统问题"),
    "examination": ("考试成绩复核", "考场安排不合理", "补考时间冲突"),
    "scholarship-fees": ("奖学金评定程序", "学费退费问题", "助学金发放延迟"),
    "campus-safety": ("校园夜间照明不足", "校门车辆管理", "实验室安全隐患"),
    "staff-pay-titles": ("职称评审程序", "绩效工资发放", "加班补贴问题"),
    "campus-network": ("校园网速度慢", "校园网收费问题", "宿舍网络故障"),
    "library": ("图书馆座位预约", "图书馆开放时间", "电子资源访问"),
    "graduation-degree": ("学位证书办理", "毕业论文答辩安排", "毕业审核问题"),
    "student-life": ("心理咨询预约困难", "社团活动场地", "学生事务办理"),
    "discipline-integrity": ("工作作风问题反映", "采购程序问题", "违规收费问题"),
    "other": ("校园环境建议", "其他事项反映", "后勤服务建议"),
}
PLACES = ("东区宿舍", "西区宿舍", "第一教学楼", "图书馆", "第二食堂", "行政楼", "体育馆", "实验楼")


@lru_cache(maxsize=4096)
def _text(code: str, variant: int, place: int) -> tuple[str, str, str, str]:
    """(subject, content, location, search terms): a few variants per category, no personal data."""
    subjects = SUBJECTS.get(code, SUBJECTS["other"])
    subject = subjects[variant % len(subjects)]
    location = PLACES[place]
    content = f"关于{subject}的情况反映：地点{location}，希望学校尽快核实并予以处理。"
    return subject, content, location, index_terms(subject, content, location)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"


class PetitionSim:
    """One petition's life: each step a workflow action at a time, cut at ``end``."""

    def __init__(self, shape: Shape, rng: random.Random, end: datetime, actor: uuid.UUID | None) -> None:
        self.shape, self.rng, self.end, self.actor = shape, rng, end, actor
        self.events: list[tuple[Any, ...]] = []
        self.reminders: list[tuple[str, datetime]] = []
        self.missed: set[datetime] = set()

    def emit(self, at: datetime, event: str, action: Action | None, unit: uuid.UUID | None, **extra: Any) -> None:
        if at >= self.end:
            raise _Cut
        if action is not None:
            self.state = transition(self.state, action)
            self.version += 1
        self.last = at
        actor = None if event in ("petition.rated", "petition.review_requested", "petition.rereview_requested",
                                  "petition.followup_due", "petition.overdue") else self.actor  # fmt: skip
        body = (
            payload(**extra)
            if event in ("petition.followup_due", "petition.overdue")
            else payload(kind=self.kind, category=self.category.code, **extra)
        )
        self.events.append((uuid7(at, self.rng), at, event, actor, self.id, None, unit, None, body))

    def overdue(self, due: datetime, deadline: str, before: datetime) -> None:
        """Journal a missed deadline when the next step comes after it (as the scheduled scan would)."""
        if before > due and due not in self.missed:
            self.emit(due, "petition.overdue", None, self.unit, deadline=deadline)
            self.missed.add(due)
            self.reminders.append((f"overdue:{due.astimezone(UTC).isoformat()}", due))

    def run(self, received: datetime, seq: int, year: int) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
        rng, shape, zone = self.rng, self.shape, self.shape.zone
        self.id = uuid7(received, rng)
        self.kind = _pick(rng, KIND_WEIGHTS)
        self.category = rng.choices(shape.categories, weights=[c.weight for c in shape.categories])[0]
        channel = _pick(rng, CHANNEL_WEIGHTS)
        anonymous = rng.random() < (0.4 if self.kind == "accusation" else 0.08) and channel not in ("visit",)
        group = rng.random() < 0.03
        participants = rng.randint(5, 80) if group else 1
        reps = [{"name": _name(rng), "contact": _phone(rng)} for _ in range(rng.randint(1, 5))] if group else []
        name = phone = number = None
        if not anonymous:
            name, phone = _name(rng), _phone(rng)
            number = f"{rng.randint(2015, 2025)}{rng.randrange(10**6):06d}" if rng.random() < 0.5 else None
        accused = rng.choice(shape.colleges) if self.kind == "accusation" and shape.colleges else None
        subject, content, location, terms = _text(self.category.code, rng.randrange(3), rng.randrange(len(PLACES)))
        tracking = format_tracking_number(year, seq)
        registered = self.actor if channel in STAFF_CHANNELS else None
        self.state, self.version, self.unit, self.previous = State.received, 1, None, None
        f: dict[str, Any] = dict.fromkeys(PETITION_COLUMNS)
        accept_due = deadlines.accept_due(received, zone)
        f.update(
            id=self.id, tracking_number=tracking, kind=self.kind, category_id=self.category.id, channel=channel,
            lookup_hash=code_hash(tracking, "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", k=12))),
            subject=subject, content=content, location_text=location, anonymous=anonymous, registered_by=registered,
            petitioner_name=name, petitioner_phone=phone, petitioner_number=number, participants=participants,
            representatives=json.dumps(reps, ensure_ascii=False) if reps else None, representative_count=len(reps),
            accused_org_unit_id=accused, received_at=received, accept_due=accept_due, due_at=accept_due,
            search=terms,
        )  # fmt: skip
        self.last = received
        self.events.append((
            uuid7(received, rng), received, "petition.submitted", registered, self.id, None, self.category.unit_id,
            None, payload(kind=self.kind, category=self.category.code, channel=channel, anonymous=anonymous,
                          group=group, registered=registered is not None),
        ))  # fmt: skip
        with contextlib.suppress(_Cut):
            self._handle(f, received, accept_due)
        f.update(state=self.state.value, version=self.version, org_unit_id=self.unit, updated_at=self.last,
                 previous_org_unit_id=self.previous)  # fmt: skip
        return tuple(f[c] for c in PETITION_COLUMNS), self.events

    def _handle(self, f: dict[str, Any], received: datetime, accept_due: datetime) -> None:
        rng, zone = self.rng, self.shape.zone
        # Acceptance decision: usually within days; a few miss the 15-day deadline.
        late = rng.random() < 0.04
        decided = received + (timedelta(days=15 + rng.uniform(1, 10)) if late else _hours(rng, 40, 0.9))
        decided = min(decided, received + timedelta(days=40))
        self.overdue(accept_due, "accept", decided)
        days = (decided - received).days
        if rng.random() < 0.07:
            self.emit(decided, "petition.not_accepted", Action.not_accept, None, days=days)
            f.update(not_accepted_reason="不属于信访受理范围", closed_at=decided, due_at=None)
            return
        self.emit(decided, "petition.accepted", Action.accept, None, days=days)
        due = deadlines.conclude_due(decided, zone)
        f.update(accepted_at=decided, conclude_due=due, due_at=due)
        t = decided + timedelta(hours=rng.uniform(0.5, 24))
        self.unit = self.category.unit_id
        self.emit(t, "petition.assigned", Action.assign, self.unit)
        # Transfers between offices; bouncing (two or more) is the classic failure.
        transfers = rng.choices((0, 1, 2, 3), weights=(0.75, 0.18, 0.05, 0.02))[0]
        calendar = deadlines.Calendar(zone)
        for _ in range(transfers):
            t += timedelta(hours=rng.uniform(2, 72))
            target = rng.choice([u for u in self.shape.units if u != self.unit])
            self.overdue(due, "conclude", t)
            self.emit(t, "petition.transferred", Action.transfer, target, from_unit=str(self.unit))
            self.previous, self.unit = self.unit, target
            f.update(transferred_at=t, objection_due=deadlines.objection_due(t, calendar))
            if rng.random() < 0.3:
                objected = t + timedelta(days=rng.uniform(0.2, 4))
                self.overdue(due, "conclude", objected)
                self.emit(objected, "petition.transfer_objected", Action.object_transfer, self.previous,
                          days=(objected - t).days)  # fmt: skip
                self.unit, self.previous = self.previous, self.unit
                f.update(objection_due=None)
                t = objected
            else:  # the receiving unit takes the case up
                t += timedelta(hours=rng.uniform(1, 48))
                self.overdue(due, "conclude", t)
                self.emit(t, "petition.started", Action.start, self.unit)
                f.update(objection_due=None)
        if self.state is not State.in_progress:
            t += timedelta(hours=rng.uniform(1, 48))
            self.overdue(due, "conclude", t)
            self.emit(t, "petition.started", Action.start, self.unit)
        if rng.random() < 0.1:
            t += timedelta(days=rng.uniform(5, 40))
            self.overdue(due, "conclude", t)
            extension = rng.randint(10, 30)
            due = deadlines.extended_due(due, extension, zone)
            self.emit(t, "petition.extended", Action.extend, self.unit, days=extension)
            f.update(extended_days=extension, extension_reason="情况复杂，需进一步调查核实", conclude_due=due,
                     due_at=due)  # fmt: skip
        if rng.random() < 0.06:  # a missed conclusion deadline
            replied = due + timedelta(days=rng.uniform(1, 20))
        else:
            replied = decided + timedelta(days=min(rng.lognormvariate(0, 0.6) * 22, 58))
        replied = max(replied, t + timedelta(hours=1))
        self.overdue(due, "conclude", replied)
        outcome = _pick(rng, OUTCOME_WEIGHTS)
        agreement = rng.random() < 0.05
        self.emit(replied, "petition.replied", Action.reply, self.unit, outcome=outcome, agreement=agreement,
                  days=(replied - decided).days)  # fmt: skip
        f.update(replied_at=replied, outcome=outcome, opinion="经调查核实，已作出处理意见。", due_at=None,
                 agreement="双方达成调解协议。" if agreement else None,
                 review_window_until=deadlines.add_days(replied, deadlines.REVIEW_REQUEST_DAYS, zone))  # fmt: skip
        self._after_reply(f, replied, "reply")

    def _rate(self, f: dict[str, Any], at: datetime, stage: str) -> str:
        rating = _pick(self.rng, RATING_WEIGHTS)
        self.emit(at, "petition.rated", Action.rate, self.unit, rating=rating, stage=stage,
                  by=self.rng.choice(("lookup_code", "account")))  # fmt: skip
        f.update(rating=rating, rated_at=at, rating_stage=stage)
        return rating

    def _after_reply(self, f: dict[str, Any], replied: datetime, stage: str) -> None:
        """Rating, follow-up, closing and the review stages after an answer (reply, review or re-review)."""
        rng, zone = self.rng, self.shape.zone
        followup = replied + timedelta(days=FOLLOWUP_DAYS)
        rated_at = replied + timedelta(days=rng.lognormvariate(0, 1.0) * 4) if rng.random() < 0.65 else None
        rating = None
        if rated_at is not None and (rated_at < followup or stage != "reply"):
            rating = self._rate(f, rated_at, stage)
        elif stage == "reply":
            self.emit(followup, "petition.followup_due", None, self.unit, stage=stage, days=FOLLOWUP_DAYS)
            self.reminders.append((f"followup:{stage}", followup))
            if rated_at is not None:
                rating = self._rate(f, rated_at, stage)
        if stage == "rereview":
            return
        review_p = (0.3 if rating == "dissatisfied" else 0.03) * (1 if stage == "reply" else 0.5)
        window = deadlines.add_days(replied, deadlines.REVIEW_REQUEST_DAYS, zone)
        requested = max(self.last, replied) + timedelta(days=rng.uniform(0.5, 10))
        if rng.random() < review_p and requested < window:
            if stage == "reply" and rng.random() < 0.5:
                self.emit(requested - timedelta(hours=1), "petition.closed", Action.close, self.unit)
                f.update(closed_at=requested - timedelta(hours=1))
            rereview = stage == "review"
            action = Action.request_rereview if rereview else Action.request_review
            event = "petition.rereview_requested" if rereview else "petition.review_requested"
            self.emit(requested, event, action, self.unit, days=(requested - replied).days)
            answer_due = deadlines.add_days(requested, 30, zone)
            f.update(review_requested_at=requested, due_at=answer_due, closed_at=None)
            answered = requested + timedelta(days=rng.uniform(3, 29))
            outcome = _pick(rng, OUTCOME_WEIGHTS)
            action = Action.answer_rereview if rereview else Action.answer_review
            event = "petition.rereviewed" if rereview else "petition.reviewed"
            self.emit(answered, event, action, self.unit, outcome=outcome, days=(answered - requested).days)
            f.update(replied_at=answered, outcome=outcome, due_at=None,
                     review_window_until=None if rereview else deadlines.add_days(answered, 30, zone),
                     closed_at=answered if rereview else None)  # fmt: skip
            self._after_reply(f, answered, "rereview" if rereview else "review")
            return
        if stage == "reply" and rng.random() < 0.85:
            closed = max(self.last, replied) + timedelta(days=rng.uniform(1, 20))
            self.emit(closed, "petition.closed", Action.close, self.unit)
            f.update(closed_at=closed)


def petitions(
    shape: Shape, *, seed: int, count: int, start: date, end: date
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[str, datetime]]]]:
    """``count`` petitions of one university received in the local days ``[start, end)``: for each, its row,
    its journal rows and the reminder keys already journaled (so the scheduled scan does not repeat them)."""
    rng = rng_for(seed, shape.index, "petitions")
    cut = datetime(end.year, end.month, end.day, tzinfo=shape.zone).astimezone(UTC)
    counters: dict[int, int] = {}
    for received in arrival_times(rng, count, start, end, shape.zone):
        year = received.astimezone(shape.zone).year
        counters[year] = counters.get(year, 0) + 1
        sim = PetitionSim(shape, rng, cut, shape.staff_id)
        row, events = sim.run(received, counters[year], year)
        yield row, events, sim.reminders


def tracking_counters(rows: Sequence[tuple[Any, ...]]) -> dict[int, int]:
    """The highest tracking number used per year (to set the university's number counter after loading)."""
    out: dict[int, int] = {}
    i = PETITION_COLUMNS.index("tracking_number")
    for row in rows:
        _, year, n = row[i].split("-")
        out[int(year)] = max(out.get(int(year), 0), int(n))
    return out


# --- incidents --------------------------------------------------------------------------------------------------


class IncidentSim:
    """One incident (or drill) as journal events following the contract, cut at ``end``."""

    def __init__(self, shape: Shape, rng: random.Random, end: datetime, drill: bool) -> None:
        self.shape, self.rng, self.end, self.drill = shape, rng, end, drill
        self.events: list[tuple[Any, ...]] = []

    def emit(self, at: datetime, event: str, *, unit: uuid.UUID | None = None, subject: uuid.UUID | None = None,
             **extra: Any) -> uuid.UUID:  # fmt: skip
        event_id = uuid7(at, self.rng)
        if at >= self.end:  # cut: the incident is seen as it stood at the end instant
            return event_id
        self.events.append((event_id, at, event, self.shape.staff_id, None, self.id, unit, subject,
                            payload(**extra, drill=self.drill)))  # fmt: skip
        return event_id

    def step(self, key: str, done: datetime) -> None:
        target = self.shape.targets.get(key)
        minutes = int((done - self.t0).total_seconds() // 60)
        if target is not None and minutes > target:
            self.emit(self.t0 + timedelta(minutes=target), "incident.step_overdue", step=key, target_minutes=target)
        self.emit(done, "incident.step_completed", step=key, target_minutes=target, minutes=minutes)

    def run(self, t0: datetime) -> list[tuple[Any, ...]]:
        self.id, self.t0 = uuid7(t0, self.rng), t0
        self._run()
        self.events.sort(key=lambda e: e[1])
        return self.events

    def _run(self) -> None:
        rng, t0, targets = self.rng, self.t0, self.shape.targets
        people = rng.choice((rng.randint(5, 30), rng.randint(30, 120), rng.randint(100, 400)))
        source = rng.choices(("staff", "petitions", "warning"), weights=(0.6, 0.3, 0.1))[0]
        risks = sorted(rng.sample(("group_event", "information_asymmetry", "public_opinion", "legal"),
                                  rng.randint(1, 2)))  # fmt: skip
        self.emit(t0, "incident.reported", source=source, plan_number=self.shape.plan_number, people_count=people,
                  risk_categories=risks, petitions=rng.randint(1, 12) if source == "petitions" else 0)  # fmt: skip
        self.emit(t0, "incident.step_completed", step="report", target_minutes=targets.get("report"), minutes=0)
        suggested = "I" if people >= 300 else "II" if people >= 100 else "III" if people >= 30 else "IV"
        level = suggested if rng.random() < 0.85 else rng.choice(("II", "III", "IV"))
        assessed = t0 + _hours(rng, 0.7, 0.6)
        self.emit(t0 + timedelta(minutes=1), "incident.step_started", step="assessment")
        self.step("assessment", assessed)
        self.emit(assessed, "incident.assessed", suggested_level=suggested, level=level,
                  overridden=level != suggested)  # fmt: skip
        instructed = assessed + _hours(rng, 0.6, 0.7)
        activated = level in ("I", "II", "III") or rng.random() < 0.5
        self.step("instruction", instructed)
        self.emit(instructed, "incident.instructed", activated=activated, level=level if activated else None)
        resolved = instructed + _hours(rng, 8, 0.8)  # the active phase ends (crowd dispersed, demands answered)
        # Tasks to units, per step; declines are reassigned to another unit.
        for key in ("response", "logistics", "information_release"):
            self.emit(instructed, "incident.step_started", step=key)
            units = list(self.shape.task_units.get(key) or self.shape.units)
            for unit in rng.sample(units, min(len(units), rng.randint(1, 3 if key == "response" else 2))):
                self._task(key, unit, instructed, units)
        for kind in rng.sample(("communication_coordination", "keeping_order", "psychological_support"),
                               rng.randint(1, 3)):  # fmt: skip
            unit = rng.choice(self.shape.task_units.get("response") or self.shape.units)
            self.emit(instructed + _hours(rng, 1.0), "measure.recorded", unit=unit, kind=kind,
                      count=rng.randint(2, 40))  # fmt: skip
        self.step("response", instructed + _hours(rng, 0.8, 0.6))
        if rng.random() < 0.6:
            category = rng.choice(("logistics", "medical"))
            quantity = rng.randint(5, 100)
            at = instructed + _hours(rng, 0.5)
            self.emit(at, "logistics.requested", category=category, quantity=quantity)
            short = rng.choice((0, 0, 0, rng.randint(1, quantity)))
            self.emit(at + _hours(rng, 0.7), "logistics.fulfilled", category=category, quantity=quantity - short,
                      short=short)  # fmt: skip
        self.step("logistics", instructed + _hours(rng, 0.9, 0.6))
        self._bulletins(resolved)
        self.step("information_release", resolved)
        summary = resolved + timedelta(days=rng.lognormvariate(0, 0.6) * 3)
        self.emit(summary, "incident.summary_approved", action_items=rng.randint(1, 6))
        self.step("cleanup_summary", summary)
        self.emit(summary + timedelta(minutes=5), "incident.closed", level=level,
                  minutes=int((summary + timedelta(minutes=5) - self.t0).total_seconds() // 60))  # fmt: skip

    def _task(
        self, step: str, unit: uuid.UUID, at: datetime, units: list[uuid.UUID], previous: str | None = None
    ) -> None:
        rng = self.rng
        task = uuid7(at, rng)
        due = at + timedelta(hours=rng.choice((2, 4, 8)))
        self.emit(at, "task.assigned", unit=unit, subject=task, step=step, assignee="unit",
                  due_at=due.astimezone(UTC).isoformat(), reassigned_from=previous)  # fmt: skip
        answered = at + timedelta(minutes=rng.lognormvariate(0, 0.9) * 12)
        if rng.random() < 0.07 and previous is None:
            self.emit(answered, "task.declined", unit=unit, subject=task,
                      reason_code=rng.choice(("not_our_remit", "no_capacity")))  # fmt: skip
            others = [u for u in units if u != unit] or units
            self._task(step, rng.choice(others), answered + timedelta(minutes=rng.uniform(5, 30)), units, str(task))
            return
        if rng.random() < 0.95:
            self.emit(answered, "task.acknowledged", unit=unit, subject=task)
        done = answered + _hours(rng, (due - at).total_seconds() / 3600 * 0.6, 0.6)
        if done > due:
            self.emit(due, "task.overdue", unit=unit, subject=task)
        self.emit(done, "task.completed", unit=unit, subject=task, on_time=done <= due)

    def _bulletins(self, resolved: datetime) -> None:
        """The first bulletin, updates on (or off) the plan's cadence while active, corrections, a final word."""
        rng, cadence = self.rng, self.shape.cadence
        if rng.random() < 0.1:  # no public status page at all
            return
        audience = rng.choice(("campus", "students", "staff"))
        at = self.t0 + _hours(rng, 2.5, 0.5)
        sequence, published = 1, []
        kind = "initial"
        while True:
            nxt = at + timedelta(minutes=cadence)
            bulletin = uuid7(at, rng)
            self.emit(at, "bulletin.published", subject=bulletin, audience=audience, sequence=sequence, kind=kind,
                      corrects_id=None, next_update_at=nxt.astimezone(UTC).isoformat())  # fmt: skip
            published.append((bulletin, at))
            if at >= resolved or sequence >= 30:
                break
            gap = timedelta(minutes=cadence * rng.uniform(0.6, 1.0 if rng.random() < 0.8 else 1.8))
            following = min(at + gap, max(resolved, at + timedelta(minutes=1)))
            if following > nxt:
                self.emit(nxt, "bulletin.update_missed", due_at=nxt.astimezone(UTC).isoformat())
            at, sequence, kind = following, sequence + 1, "update"
        if rng.random() < 0.1 and published:
            wrong = str(rng.choice(published)[0])
            fix = "retraction" if rng.random() < 0.2 else "correction"
            at = published[-1][1] + timedelta(minutes=rng.uniform(10, 60))
            self.emit(at, "bulletin.published", subject=uuid7(at, rng), audience=audience, sequence=sequence + 1,
                      kind=fix, corrects_id=wrong, next_update_at=None)  # fmt: skip
            self.emit(at, "bulletin.corrected", subject=uuid.UUID(wrong), kind=fix, corrects_id=wrong)


def incidents(shape: Shape, *, seed: int, count: int, start: date, end: date, drill_share: float = 0.15
              ) -> Iterator[list[tuple[Any, ...]]]:  # fmt: skip
    """``count`` incidents of one university reported in ``[start, end)`` local days (a share of them drills)."""
    rng = rng_for(seed, shape.index, "incidents")
    cut = datetime(end.year, end.month, end.day, tzinfo=shape.zone).astimezone(UTC)
    for t0 in arrival_times(rng, count, start, end, shape.zone):
        yield IncidentSim(shape, rng, cut, rng.random() < drill_share).run(t0)
