"""Continuous reporting on the fleet: where each kit is, for whom, since when, how much it
is used. Reads only; every count and sum is done by the database.

Definitions (also in docs/fleet.md, « Suivi et registres »):

- **Scope**: the whole country, one académie or one département. A loan lies in the scope
  of its *school* (the class's school); the kits of an académie or a département are those
  held by a loan there (assigned, shipped, running or coming back). Nationally: every kit.
- **Running loan**: a loan whose kit has been shipped or installed (``shipped`` or
  ``active``), started, not past its end date and not ended: the kit is with the class and
  the pupil, or on its way to them.
- **Use**: live time is the time the *pupil* spent in live lessons (``Attendance`` of side
  ``pupil``, from joining to leaving; a presence not closed counts up to the end of its
  session, or up to now while the session runs). It comes from the live link's own records,
  not from a counter. A presence counts in the ISO week (Monday to Sunday, local time) of
  the moment the pupil joined.
- **Candidate to reclaim**: a running loan with no live lesson started during the last
  ``FLEET['RECLAIM_AFTER_SCHOOL_DAYS']`` school days of its school's zone (today not
  counted: it is not over), counting from the later of the loan's start and the day after
  its last lesson.
- **Offline**: a kit of a running loan none of whose devices has sent a heartbeat for
  ``FLEET['OFFLINE_AFTER_HOURS']`` hours (or ever; a kit with no device recorded too).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate, TruncWeek
from django.utils import timezone

from cartable.core.scope import ScopeCodes, choices, place_for
from cartable.live.models import Attendance, LiveSession, presence_end
from cartable.organisation.access import (
    Action,
    Actor,
    academies_for,
    can,
    departments_for,
    loans_for,
)
from cartable.organisation.calendar import SchoolCalendar, academy_zone, holidays_of
from cartable.organisation.models import Academy, Department

from .models import Device, Kit, KitStatusChange, Loan, LoanEvent

SCHOOL = "school_class__school__"


# Scope ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The country (no académie, no département), an académie, or a département."""

    academy: Academy | None = None
    department: Department | None = None

    @property
    def kind(self) -> str:
        if self.department is not None:
            return "department"
        return "academy" if self.academy is not None else "national"

    @property
    def label(self) -> str:
        if self.department is not None:
            return f"département {self.department}"
        if self.academy is not None:
            return f"académie de {self.academy.name}"
        return "France entière"

    @property
    def params(self) -> dict[str, str]:
        """The GET parameters that name this scope."""
        if self.department is not None:
            return {"departement": self.department.code}
        if self.academy is not None:
            return {"academie": self.academy.code}
        return {}

    @property
    def slug(self) -> str:
        if self.department is not None:
            return f"departement-{self.department.code}"
        if self.academy is not None:
            return f"academie-{self.academy.code}"
        return "national"

    def loan_filter(self, prefix: str = "") -> Q:
        """Loans (reached through ``prefix``) whose school lies in the scope."""
        if self.department is not None:
            return Q(**{f"{prefix}{SCHOOL}department": self.department.pk})
        if self.academy is not None:
            return Q(**{f"{prefix}{SCHOOL}department__academy": self.academy.pk})
        return Q()

    def loans(self):
        return Loan.objects.filter(self.loan_filter())

    def kits(self):
        if self.kind == "national":
            return Kit.objects.all()
        return Kit.objects.filter(pk__in=self.loans().holding_kit().values("kit_id"))


def may_track(actor: Actor) -> bool:
    """Whether ``actor`` may follow some kits: everywhere, or over an académie or a
    département."""
    return (
        can(actor, Action.KIT_TRACK)
        or academies_for(actor, Action.KIT_TRACK).exists()
        or departments_for(actor, Action.KIT_TRACK).exists()
    )


def scope_for(actor: Actor, *, academy_code: str = "", department_code: str = "") -> Scope | None:
    """The scope named by the codes (checked by ``cartable.core.scope.scope_codes``), if
    ``actor`` may follow kits there; without codes, the widest one they may (the country,
    else their first académie, else their first département). None when they may not."""
    codes = ScopeCodes(academy=academy_code or None, department=department_code or None)
    place = place_for(actor, Action.KIT_TRACK, codes)
    return Scope(academy=place.academy, department=place.department) if place else None


def scope_choices(actor: Actor) -> dict:
    """What the scope selector offers ``actor``."""
    return choices(actor, Action.KIT_TRACK)


# Use ------------------------------------------------------------------------------------------


def pupil_time():
    """The duration of a pupil's presence (an ``Attendance`` expression): to its end, or for
    a row still open to its last sign of life, never to now (a row a crash left open would
    count hours with nobody there)."""
    return ExpressionWrapper(presence_end() - F("joined_at"), output_field=DurationField())


def _pupil_presences():
    return Attendance.objects.filter(side=Attendance.Side.PUPIL)


def live_seconds(presences) -> float:
    total = presences.aggregate(total=Sum(pupil_time()))["total"]
    return total.total_seconds() if total else 0.0


def week_start(now: datetime) -> datetime:
    """Monday 00:00 (local time) of the ISO week of ``now``."""
    local = timezone.localtime(now)
    monday = local.date() - timedelta(days=local.weekday())
    return timezone.make_aware(datetime.combine(monday, datetime.min.time()))


def running_loans(scope: Scope, today: date):
    return scope.loans().active(today).filter(status__in=Loan.RUNNING)


# Overview -------------------------------------------------------------------------------------


@dataclass
class StatusRow:
    status: str
    label: str
    counts: list[int]
    total: int


@dataclass
class Overview:
    scope: Scope
    generations: list[tuple[str, str]]
    status_rows: list[StatusRow]
    generation_totals: list[int]
    kits: int
    running_loans: int
    week_start: datetime
    live_hours_week: float
    reclaim: list = field(default_factory=list)
    offline: list = field(default_factory=list)


def kits_by_status(kits) -> tuple[list[StatusRow], list[int], int]:
    """Counts of ``kits`` per status (rows) and generation (columns), by the database."""
    counts = {
        (row["status"], row["generation"]): row["n"]
        for row in kits.order_by().values("status", "generation").annotate(n=Count("pk"))
    }
    generations = list(Kit.Generation.values)
    rows = []
    for status, label in Kit.Status.choices:
        cells = [counts.get((status, generation), 0) for generation in generations]
        rows.append(StatusRow(status=status, label=label, counts=cells, total=sum(cells)))
    totals = [sum(row.counts[i] for row in rows) for i in range(len(generations))]
    return rows, totals, sum(totals)


def overview(scope: Scope, now: datetime | None = None) -> Overview:
    now = now or timezone.now()
    today = timezone.localdate(now)
    rows, totals, kit_count = kits_by_status(scope.kits())
    monday = week_start(now)
    presences = _pupil_presences().filter(
        scope.loan_filter("session__loan__"), joined_at__gte=monday
    )
    return Overview(
        scope=scope,
        generations=list(Kit.Generation.choices),
        status_rows=rows,
        generation_totals=totals,
        kits=kit_count,
        running_loans=running_loans(scope, today).count(),
        week_start=monday,
        live_hours_week=live_seconds(presences) / 3600,
        reclaim=reclaim_candidates(scope, today),
        offline=offline_loans(scope, now),
    )


def _zone_cutoffs(today: date, n: int) -> tuple[list[When], date, dict[int, str | None]]:
    """For each zone, the n-th school day before today, as a Case on the school's académie;
    the cutoff of plain weekdays (schools without académie); académie id -> zone."""
    zones: dict[str | None, list[int]] = defaultdict(list)
    zone_of: dict[int, str | None] = {}
    for pk, zone, name in Academy.objects.values_list("pk", "zone", "name"):
        key = academy_zone(zone, name)
        zones[key].append(pk)
        zone_of[pk] = key
    spans = holidays_of([zone for zone in zones if zone])
    whens = [
        When(
            **{f"{SCHOOL}department__academy__in": ids},
            then=Value(SchoolCalendar(zone, spans.get(zone, [])).nth_day_before(today, n)),
        )
        for zone, ids in zones.items()
    ]
    return whens, SchoolCalendar(None).nth_day_before(today, n), zone_of


@dataclass
class ReclaimRow:
    loan: Loan
    last_session_at: datetime | None
    idle_since: date
    idle_school_days: int


def reclaim_candidates(scope: Scope, today: date | None = None) -> list[ReclaimRow]:
    """Running loans of ``scope`` with no live lesson for the reclaim period (see the module
    docstring), the longest idle first. Selected by the database; only the candidates'
    count of idle school days is computed here."""
    today = today or timezone.localdate()
    n = settings.FLEET["RECLAIM_AFTER_SCHOOL_DAYS"]
    whens, weekday_cutoff, zone_of = _zone_cutoffs(today, n)
    last_session = (
        LiveSession.objects.filter(loan=OuterRef("pk")).order_by("-started_at").values("started_at")
    )
    loans = (
        running_loans(scope, today)
        .annotate(
            cutoff=Case(*whens, default=Value(weekday_cutoff), output_field=DateField()),
            last_session_at=Subquery(last_session[:1]),
        )
        .annotate(last_session_day=TruncDate("last_session_at"))
        .filter(starts_on__lte=F("cutoff"))
        .filter(Q(last_session_at__isnull=True) | Q(last_session_day__lt=F("cutoff")))
        .select_related("kit", f"{SCHOOL}department__academy", "school_class", "pupil_department")
        .order_by("last_session_at", "starts_on", "kit__code")
    )
    spans = holidays_of({zone for zone in zone_of.values() if zone})
    calendars: dict[str | None, SchoolCalendar] = {}
    rows = []
    for loan in loans:
        department = loan.school_class.school.department
        zone = zone_of.get(department.academy_id) if department else None
        calendar = calendars.setdefault(zone, SchoolCalendar(zone, spans.get(zone, [])))
        since = loan.starts_on
        if loan.last_session_day is not None:
            since = max(since, loan.last_session_day + timedelta(days=1))
        rows.append(
            ReclaimRow(
                loan=loan,
                last_session_at=loan.last_session_at,
                idle_since=since,
                idle_school_days=calendar.days_between(since, today),
            )
        )
    rows.sort(key=lambda row: (-row.idle_school_days, row.loan.kit.code))
    return rows


def offline_loans(scope: Scope, now: datetime | None = None):
    """Running loans of ``scope`` whose kit is offline (see the module docstring), the
    longest silent first, each with ``last_heartbeat`` and ``device_count``."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    threshold = now - timedelta(hours=settings.FLEET["OFFLINE_AFTER_HOURS"])
    devices = Device.objects.filter(kit=OuterRef("kit_id")).order_by().values("kit")
    return list(
        running_loans(scope, today)
        .filter(~Exists(Device.objects.filter(kit=OuterRef("kit_id"), last_seen_at__gte=threshold)))
        .annotate(
            last_heartbeat=Subquery(devices.annotate(m=Max("last_seen_at")).values("m")),
            device_count=Coalesce(Subquery(devices.annotate(n=Count("pk")).values("n")), 0),
        )
        .select_related("kit", f"{SCHOOL}department__academy", "school_class", "pupil_department")
        .order_by(F("last_heartbeat").asc(nulls_first=True), "kit__code")
    )


# A kit's page ---------------------------------------------------------------------------------


@dataclass
class LoanTimeline:
    loan: Loan
    events: list
    weeks: list[tuple[date, float]]  # (Monday, live hours)
    live_hours: float
    sessions: int
    first_session_at: datetime | None
    last_session_at: datetime | None


@dataclass
class KitTimeline:
    kit: Kit
    status_changes: list
    devices: list
    last_heartbeat: datetime | None
    online_devices: int
    loans: list[LoanTimeline]
    hidden_loans: int  # loans of this kit outside the viewer's scope
    last_use: LiveSession | None


def kit_timeline(actor: Actor, kit: Kit, now: datetime | None = None) -> KitTimeline:
    """A kit's statuses, devices and loans (those within ``actor``'s scope), with the
    pupil's live hours per ISO week; never a pupil's name."""
    now = now or timezone.now()
    loans = list(
        loans_for(actor, Action.KIT_TRACK)
        .filter(kit=kit)
        .select_related("school_class", f"{SCHOOL}department__academy", "pupil_department")
        .order_by("-created_at", "-pk")
    )
    ids = [loan.pk for loan in loans]
    weeks: dict[int, list[tuple[date, float]]] = defaultdict(list)
    for row in (
        _pupil_presences()
        .filter(session__loan__in=ids)
        .annotate(week=TruncWeek("joined_at"))
        .values("session__loan", "week")
        .annotate(total=Sum(pupil_time()))
        .order_by("session__loan", "week")
    ):
        week = row["week"]
        monday = timezone.localtime(week).date() if isinstance(week, datetime) else week
        seconds = row["total"].total_seconds() if row["total"] else 0.0
        weeks[row["session__loan"]].append((monday, seconds / 3600))
    sessions = {
        row["loan"]: row
        for row in LiveSession.objects.filter(loan__in=ids)
        .order_by()
        .values("loan")
        .annotate(n=Count("pk"), first=Min("started_at"), last=Max("started_at"))
    }
    events: dict[int, list] = defaultdict(list)
    for event in LoanEvent.objects.filter(loan__in=ids).order_by("at", "pk"):
        events[event.loan_id].append(event)
    timelines = []
    for loan in loans:
        row = sessions.get(loan.pk, {})
        loan_weeks = weeks.get(loan.pk, [])
        timelines.append(
            LoanTimeline(
                loan=loan,
                events=events.get(loan.pk, []),
                weeks=loan_weeks,
                live_hours=sum(hours for _, hours in loan_weeks),
                sessions=row.get("n", 0),
                first_session_at=row.get("first"),
                last_session_at=row.get("last"),
            )
        )
    devices = list(kit.devices.order_by("kind", "serial"))
    seen = [d.last_seen_at for d in devices if d.last_seen_at]
    return KitTimeline(
        kit=kit,
        status_changes=list(
            KitStatusChange.objects.filter(kit=kit).select_related("by").order_by("-at", "-pk")
        ),
        devices=[(device, device.is_online(now)) for device in devices],
        last_heartbeat=max(seen) if seen else None,
        online_devices=sum(1 for device in devices if device.is_online(now)),
        loans=timelines,
        hidden_loans=Loan.objects.filter(kit=kit).exclude(pk__in=ids).count(),
        last_use=LiveSession.objects.filter(loan__in=ids).order_by("-started_at").first(),
    )


# Registers ------------------------------------------------------------------------------------

KIT_COLUMNS = [
    "Référence",
    "Génération",
    "Statut",
    "Statut depuis",
    "Appareils",
    "Appareils en ligne",
    "Dernier signal de vie",
    "UAI de l'établissement du prêt en cours",
    "Académie du prêt en cours",
    "Département du prêt en cours",
]

LOAN_COLUMNS = [
    "Cartable",
    "UAI",
    "Établissement",
    "Académie",
    "Département de l'établissement",
    "Département de l'élève",
    "Lieu",
    "Étape",
    "Début prévu",
    "Fin prévue",
    "Demandé le",
    "Attribué le",
    "Expédié le",
    "Installé le",
    "Terminé le",
    "Rendu le",
    "Jours de mise à disposition",
    "Séances en direct",
    "Heures en direct",
    "Première séance",
    "Dernière séance",
    "Jours de la demande à la première séance",
]


def local(value: datetime | None, tz=None) -> datetime | None:
    """A timestamp in local time, to the minute, without time zone (spreadsheets keep no
    time zone)."""
    if value is None:
        return None
    zone = tz or timezone.get_current_timezone()
    return value.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)


def kit_register(scope: Scope, now: datetime | None = None):
    """One row per kit of ``scope`` (``KIT_COLUMNS``), in one query."""
    now = now or timezone.now()
    online_since = now - timedelta(seconds=settings.FLEET["ONLINE_WITHIN_S"])
    holding = Loan.objects.filter(kit=OuterRef("pk"), status__in=Loan.HOLDING_KIT)
    status_labels = dict(Kit.Status.choices)
    generation_labels = dict(Kit.Generation.choices)
    rows = (
        scope.kits()
        .annotate(
            device_count=Count("devices"),
            online_count=Count("devices", filter=Q(devices__last_seen_at__gte=online_since)),
            last_heartbeat=Max("devices__last_seen_at"),
            loan_uai=Subquery(holding.values(f"{SCHOOL}uai")[:1]),
            loan_academy=Subquery(holding.values(f"{SCHOOL}department__academy__name")[:1]),
            loan_department=Subquery(holding.values(f"{SCHOOL}department__code")[:1]),
        )
        .order_by("code")
        .values_list(
            "code",
            "generation",
            "status",
            "status_changed_at",
            "device_count",
            "online_count",
            "last_heartbeat",
            "loan_uai",
            "loan_academy",
            "loan_department",
        )
    )
    tz = timezone.get_current_timezone()
    for code, generation, status, since, devices, online, heartbeat, uai, academy, dep in rows:
        yield [
            code,
            generation_labels.get(generation, generation),
            status_labels.get(status, status),
            local(since, tz),
            devices,
            online,
            local(heartbeat, tz),
            uai or "",
            academy or "",
            dep or "",
        ]


def provision_days(starts_on: date, ended: date | None, ends_on: date, today: date) -> int:
    """Calendar days the kit was lent, both ends counted: from the loan's start to the day
    it was ended, or else to its planned end or today, whichever comes first."""
    end = ended if ended is not None else min(ends_on, today)
    return max(0, (end - starts_on).days + 1)


def loan_register(scope: Scope, now: datetime | None = None):
    """One row per loan of ``scope`` (``LOAN_COLUMNS``): places, steps, and the durations of
    provision and of use. The sessions and the live time are summed by the database, per
    loan, in two grouped queries."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    sessions = {
        row["loan"]: row
        for row in LiveSession.objects.filter(scope.loan_filter("loan__"))
        .order_by()
        .values("loan")
        .annotate(n=Count("pk"), first=Min("started_at"), last=Max("started_at"))
    }
    live = {
        row["session__loan"]: row["total"]
        for row in _pupil_presences()
        .filter(scope.loan_filter("session__loan__"))
        .order_by()
        .values("session__loan")
        .annotate(total=Sum(pupil_time()))
    }
    place_labels = dict(Loan.PlaceKind.choices)
    status_labels = dict(Loan.Status.choices)
    installed = Case(
        When(
            class_installed_at__isnull=False,
            pupil_installed_at__isnull=False,
            class_installed_at__gt=F("pupil_installed_at"),
            then=F("class_installed_at"),
        ),
        When(
            class_installed_at__isnull=False,
            pupil_installed_at__isnull=False,
            then=F("pupil_installed_at"),
        ),
    )
    rows = (
        scope.loans()
        .annotate(installed_at=installed)
        .order_by("created_at", "pk")
        .values_list(
            "pk",
            "kit__code",
            f"{SCHOOL}uai",
            f"{SCHOOL}name",
            f"{SCHOOL}department__academy__name",
            f"{SCHOOL}department__code",
            "pupil_department__code",
            "place_kind",
            "status",
            "starts_on",
            "ends_on",
            "created_at",
            "assigned_at",
            "shipped_at",
            "installed_at",
            "ended_at",
            "returned_at",
        )
    )
    without_provision = {Loan.Status.REQUESTED, Loan.Status.CANCELLED}
    tz = timezone.get_current_timezone()
    for (
        pk,
        kit,
        uai,
        school,
        academy,
        department,
        pupil_department,
        place,
        status,
        starts_on,
        ends_on,
        created_at,
        assigned_at,
        shipped_at,
        installed_at,
        ended_at,
        returned_at,
    ) in rows:
        session = sessions.get(pk, {})
        seconds = live[pk].total_seconds() if live.get(pk) else 0.0
        first = session.get("first")
        days = (
            None
            if status in without_provision
            else provision_days(
                starts_on,
                ended_at.astimezone(tz).date() if ended_at else None,
                ends_on,
                today,
            )
        )
        yield [
            kit or "",
            uai,
            school,
            academy or "",
            department or "",
            pupil_department or "",
            place_labels.get(place, place),
            status_labels.get(status, status),
            starts_on,
            ends_on,
            local(created_at, tz),
            local(assigned_at, tz),
            local(shipped_at, tz),
            local(installed_at, tz),
            local(ended_at, tz),
            local(returned_at, tz),
            days,
            session.get("n", 0),
            round(seconds / 3600, 2),
            local(first, tz),
            local(session.get("last"), tz),
            (first.astimezone(tz).date() - created_at.astimezone(tz).date()).days
            if first
            else None,
        ]
