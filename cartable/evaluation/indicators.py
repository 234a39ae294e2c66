"""The evaluation's indicators for a period and a scope, computed by the database.

``compute(period, scope)`` returns raw figures (``Indicators``, no suppression);
``displayed(indicators, scope)`` hides the small ones (« < 5 ») for pages, PDF and
spreadsheets; ``document(indicators, scope)`` is the transmission to the ministry (the JSON
of docs/evaluation-transmission.md and ``transmission.schema.json``), ``csv_rows`` its CSV.

Definitions (also in docs/evaluation.md, « Indicateurs »). Days and hours are Paris time
(``TIME_ZONE``); "in the period" means from its first day 00:00 to its last day 24:00.

- **Scope**: a loan lies in the scope of its class's school (as in fleet.reports). Kits of an
  académie or a département: those held by a loan there (assigned, shipped, running, coming
  back); nationally every kit. Kits are counted **now** (their status today), whatever the
  period.
- **Loans asked**: created (the request) in the period, whatever became of them (cancelled
  ones included).
- **Loans started**: the start of a loan is the earlier of its first live lesson and its
  activation (both installations confirmed: the later of ``class_installed_at`` and
  ``pupil_installed_at``); started = that start lies in the period.
- **Loans active**: lent at some point of the period: the kit was shipped (status shipped,
  active, ended or returned), ``starts_on`` is on or before the period's last day (and
  today), and its end (the day it was ended, else its planned end ``ends_on``) is on or
  after the period's first day.
- **Loans ended**: ``ended_at`` in the period.
- **Pupils served**: distinct pupils of the active loans; by level group (the class's level,
  ``LEVEL_GROUPS``) and by kind of place (``Loan.PlaceKind``). A pupil with two loans of
  different groups or places counts once in each, and once in the total.
- **Loan-weeks**: the days each active loan was lent *within the period* (from the later of
  ``starts_on`` and the period's start, to the earliest of its end, the period's end and
  today, both counted), summed, divided by 7. Weeks without any lesson count: the averages
  are per week of provision, holidays included.
- **Lessons**: live sessions of the scope's loans started in the period. **Live hours**: the
  pupil's presence in those lessons (``Attendance`` side pupil, as fleet.reports:
  ``pupil_time``: a row still open counts to its last sign of life, ``presence_end``).
  Per loan per week = total / loan-weeks.
- **Median lesson length**: of the lessons of the period that have ended (``ended_at`` −
  ``started_at``), in minutes; the median of an even number is the mean of the two middle
  ones (``percentile_cont(0.5)`` on PostgreSQL, the same by ``ORDER BY … LIMIT 2 OFFSET``
  elsewhere).
- **From request to first live lesson**: for the loans whose *first* lesson (ever) started in
  the period, the time from ``created_at`` to that lesson, in days of 24 h; median and mean.
- **Connection**: per lesson, the pupil's side (``SessionQuality`` side pupil) decides: the
  category (good, degraded, poor) with the most samples; a tie goes to the worse one. A
  lesson is **relayed** when more than half of its pupil-side samples went through the
  relay. Lessons without a pupil-side row, or with no classified sample, are counted apart
  (``lessons_without_quality``) and left out of the shares' denominator.
- **Offline on loan**: now, the running loans of the scope whose kit is offline (fleet.reports:
  none of its devices has beaten for ``FLEET['OFFLINE_AFTER_HOURS']`` hours); the kits, and
  the devices of those kits.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least, TruncDate
from django.utils import timezone

from cartable.fleet import reports
from cartable.fleet.models import Device, Kit, Loan
from cartable.live.models import Attendance, LiveSession, SessionQuality
from cartable.organisation.models import SchoolClass

from .scope import ACADEMY, DEPARTMENT, SMALL_COUNT, Period, Scope, small

SCHOOL = "school_class__school__"
SCHEMA_VERSION = "1.0"
NO_DATA = "Aucune donnée pour cette période."
HIDDEN = "< 5"

_L = SchoolClass.Level
# Every level of SchoolClass.Level in exactly one group (a test fails otherwise).
LEVEL_GROUPS: dict[str, tuple[str, ...]] = {
    "maternelle": (_L.PS, _L.MS, _L.GS),
    "elementaire": (_L.CP, _L.CE1, _L.CE2, _L.CM1, _L.CM2),
    "college": (_L.SIXIEME, _L.CINQUIEME, _L.QUATRIEME, _L.TROISIEME),
    "lycee_gt": (_L.SECONDE, _L.PREMIERE, _L.TERMINALE),
    "lycee_pro": (_L.CAP1, _L.CAP2, _L.SECONDE_PRO, _L.PREMIERE_PRO, _L.TERMINALE_PRO),
    "agricole": (_L.SECONDE_AGRI, _L.PREMIERE_AGRI, _L.TERMINALE_AGRI),
}
LEVEL_GROUP_LABELS = {
    "maternelle": "Maternelle",
    "elementaire": "Élémentaire",
    "college": "Collège",
    "lycee_gt": "Lycée général et technologique",
    "lycee_pro": "Lycée professionnel",
    "agricole": "Enseignement agricole",
}
del _L
# Loans whose kit went out: they may have been lent during a period.
LENT = (Loan.Status.SHIPPED, Loan.Status.ACTIVE, Loan.Status.ENDED, Loan.Status.RETURNED)


@dataclass(frozen=True)
class Indicators:
    """Raw figures (no suppression). Keys are stable: the report, the API and the
    transmission read them by name."""

    period: Period
    scope: Scope
    computed_at: datetime
    # Kits, now: status -> generation -> count (every status and generation present).
    kits_by_status: dict[str, dict[str, int]]
    kits_by_generation: dict[str, int]
    kits_total: int
    loans_requested: int
    loans_started: int
    loans_active: int
    loans_ended: int
    pupils_served: int
    pupils_by_level_group: dict[str, int]  # every key of LEVEL_GROUPS
    pupils_by_place: dict[str, int]  # every Loan.PlaceKind
    loan_weeks: float
    lessons: int
    live_hours: float
    lessons_ended: int
    lesson_median_minutes: float | None
    first_lesson_loans: int
    request_to_first_lesson_median_days: float | None
    request_to_first_lesson_mean_days: float | None
    quality_lessons: int  # lessons classified by their pupil side
    quality_good: int
    quality_degraded: int
    quality_poor: int
    quality_relayed: int
    lessons_without_quality: int
    offline_kits: int
    offline_devices: int
    extra: dict = field(default_factory=dict)

    @property
    def has_data(self) -> bool:
        """Whether anything happened in the period within the scope (kits now do not count)."""
        return bool(self.loans_requested or self.loans_active or self.lessons)

    @property
    def live_hours_per_loan_week(self) -> float | None:
        return self.live_hours / self.loan_weeks if self.loan_weeks else None

    @property
    def lessons_per_loan_week(self) -> float | None:
        return self.lessons / self.loan_weeks if self.loan_weeks else None

    def _share(self, count: int) -> float | None:
        return count / self.quality_lessons if self.quality_lessons else None

    @property
    def share_good(self) -> float | None:
        return self._share(self.quality_good)

    @property
    def share_degraded(self) -> float | None:
        return self._share(self.quality_degraded)

    @property
    def share_poor(self) -> float | None:
        return self._share(self.quality_poor)

    @property
    def share_relayed(self) -> float | None:
        return self._share(self.quality_relayed)


# Helpers ---------------------------------------------------------------------------------------


def bounds(period: Period) -> tuple[datetime, datetime]:
    """The period as [first day 00:00, day after the last 00:00), Paris time."""
    start = timezone.make_aware(datetime.combine(period.start, time.min))
    end = timezone.make_aware(datetime.combine(period.end + timedelta(days=1), time.min))
    return start, end


def fleet_scope(scope: Scope) -> reports.Scope:
    """The same scope, as fleet.reports knows it."""
    return reports.Scope(academy=scope.academy, department=scope.department)


class _Median(Aggregate):
    """PostgreSQL's ``percentile_cont(0.5)``: the median, the mean of the two middle values
    of an even count."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"


def median(queryset, name: str):
    """The median of the annotation ``name`` of ``queryset`` (NULLs left out), by the
    database: ``percentile_cont`` on PostgreSQL; elsewhere a count and the one or two middle
    rows (``ORDER BY … LIMIT 2 OFFSET``)."""
    queryset = queryset.filter(**{f"{name}__isnull": False})
    output = queryset.query.annotations[name].output_field
    if connection.vendor == "postgresql":
        return queryset.aggregate(m=_Median(name, output_field=output))["m"]
    n = queryset.count()
    if not n:
        return None
    middle = list(queryset.order_by(name).values_list(name, flat=True)[(n - 1) // 2 : n // 2 + 1])
    if len(middle) == 1:
        return middle[0]
    return (middle[0] + middle[1]) / 2


def _seconds(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) / 1e6  # a duration in microseconds (SQLite)


def _duration(end, start) -> ExpressionWrapper:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


# The indicators ----------------------------------------------------------------------------------


def _kits(scope: Scope) -> tuple[dict, dict, int]:
    rows, totals, total = reports.kits_by_status(fleet_scope(scope).kits())
    generations = list(Kit.Generation.values)
    by_status = {row.status: dict(zip(generations, row.counts, strict=True)) for row in rows}
    return by_status, dict(zip(generations, totals, strict=True)), total


def _active_loans(loans, period: Period, today: date):
    last_day = min(period.end, today)
    return (
        loans.filter(status__in=LENT, starts_on__lte=last_day)
        .alias(lent_until=_lent_until())
        .filter(lent_until__gte=period.start)
    )


def _started(loans, start: datetime, end: datetime) -> int:
    first_lesson = (
        LiveSession.objects.filter(loan=OuterRef("pk")).order_by("started_at").values("started_at")
    )
    activated = Case(
        When(
            class_installed_at__isnull=False,
            pupil_installed_at__isnull=False,
            then=Greatest("class_installed_at", "pupil_installed_at"),
        ),
    )
    return (
        loans.alias(first_lesson=Subquery(first_lesson[:1]), activated=activated)
        .alias(
            # Least ignores NULLs on PostgreSQL but not on SQLite: each side coalesced.
            began=Least(
                Coalesce("first_lesson", "activated"), Coalesce("activated", "first_lesson")
            )
        )
        .filter(began__gte=start, began__lt=end)
        .count()
    )


def _lent_until():
    """The day a loan stopped being lent: the day it was ended, else its planned end."""
    return Coalesce(TruncDate("ended_at"), F("ends_on"), output_field=DateField())


def _loan_days(active, period: Period, today: date) -> float:
    last_day = min(period.end, today)
    lent_from = Greatest("starts_on", Value(period.start), output_field=DateField())
    lent_to = Least(_lent_until(), Value(last_day), output_field=DateField())
    span = active.aggregate(
        total=Sum(ExpressionWrapper(lent_to - lent_from, output_field=DurationField())),
        n=Count("pk"),
    )
    seconds = _seconds(span["total"]) or 0.0
    # Both ends counted: one more day per loan.
    return seconds / 86400 + span["n"]


def _pupils(active) -> tuple[int, dict, dict]:
    group = Case(
        *(
            When(school_class__level__in=list(levels), then=Value(name))
            for name, levels in LEVEL_GROUPS.items()
        ),
        default=Value("autre"),
    )
    by_group = {name: 0 for name in LEVEL_GROUPS}
    for row in (
        active.annotate(group=group)
        .order_by()
        .values("group")
        .annotate(n=Count("pupil", distinct=True))
    ):
        by_group[row["group"]] = row["n"]
    by_place = {place: 0 for place in Loan.PlaceKind.values}
    for row in active.order_by().values("place_kind").annotate(n=Count("pupil", distinct=True)):
        by_place[row["place_kind"]] = row["n"]
    total = active.aggregate(n=Count("pupil", distinct=True))["n"]
    return total, by_group, by_place


def _first_lessons(
    scope: Scope, start: datetime, end: datetime
) -> tuple[int, float | None, float | None]:
    firsts = (
        LiveSession.objects.filter(scope.schools_q(f"loan__{SCHOOL}"))
        .order_by()
        .values("loan")
        .annotate(first=Min("started_at"))
        .filter(first__gte=start, first__lt=end)
        .annotate(delay=ExpressionWrapper(F("first") - F("loan__created_at"), DurationField()))
    )
    summary = firsts.aggregate(n=Count("loan"), mean=Sum("delay"))
    n = summary["n"]
    if not n:
        return 0, None, None
    mean = _seconds(summary["mean"]) / n / 86400
    return n, _seconds(median(firsts, "delay")) / 86400, mean


def _quality(sessions) -> dict[str, int]:
    rows = (
        SessionQuality.objects.filter(side=Attendance.Side.PUPIL, session__in=sessions)
        .alias(
            classified=F("good") + F("degraded") + F("poor"),
            twice_relayed=ExpressionWrapper(F("relayed") * 2, output_field=IntegerField()),
        )
        .filter(classified__gt=0)
    )
    counts = rows.aggregate(
        n_lessons=Count("pk"),
        n_poor=Count("pk", filter=Q(poor__gte=F("good")) & Q(poor__gte=F("degraded"))),
        n_degraded=Count("pk", filter=Q(degraded__gte=F("good")) & Q(degraded__gt=F("poor"))),
        n_good=Count("pk", filter=Q(good__gt=F("degraded")) & Q(good__gt=F("poor"))),
        n_relayed=Count("pk", filter=Q(twice_relayed__gt=F("samples"))),
    )
    return {name.removeprefix("n_"): value for name, value in counts.items()}


def _offline(scope: Scope, now: datetime) -> tuple[int, int]:
    threshold = now - timedelta(hours=settings.FLEET["OFFLINE_AFTER_HOURS"])
    offline = reports.running_loans(fleet_scope(scope), timezone.localdate(now)).filter(
        ~Exists(Device.objects.filter(kit=OuterRef("kit_id"), last_seen_at__gte=threshold))
    )
    kits = offline.count()
    devices = Device.objects.filter(kit__in=offline.values("kit_id")).count() if kits else 0
    return kits, devices


def compute(period: Period, scope: Scope, now: datetime | None = None) -> Indicators:
    """Every indicator of ``period`` within ``scope``, raw (see the module docstring)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    start, end = bounds(period)
    loans = Loan.objects.filter(scope.schools_q(SCHOOL))
    active = _active_loans(loans, period, today)
    sessions = LiveSession.objects.filter(
        scope.schools_q(f"loan__{SCHOOL}"), started_at__gte=start, started_at__lt=end
    )
    kits_by_status, kits_by_generation, kits_total = _kits(scope)
    pupils, by_group, by_place = _pupils(active)
    ended = sessions.filter(ended_at__isnull=False).annotate(
        length=_duration("ended_at", "started_at")
    )
    lessons = sessions.aggregate(n=Count("pk"))["n"]
    ended_count = ended.count()
    length = _seconds(median(ended, "length")) if ended_count else None
    presences = Attendance.objects.filter(side=Attendance.Side.PUPIL, session__in=sessions)
    first_n, first_median, first_mean = _first_lessons(scope, start, end)
    quality = _quality(sessions)
    offline_kits, offline_devices = _offline(scope, now)
    return Indicators(
        period=period,
        scope=scope,
        computed_at=now,
        kits_by_status=kits_by_status,
        kits_by_generation=kits_by_generation,
        kits_total=kits_total,
        loans_requested=loans.filter(created_at__gte=start, created_at__lt=end).count(),
        loans_started=_started(loans, start, end),
        loans_active=active.count(),
        loans_ended=loans.filter(ended_at__gte=start, ended_at__lt=end).count(),
        pupils_served=pupils,
        pupils_by_level_group=by_group,
        pupils_by_place=by_place,
        loan_weeks=_loan_days(active, period, today) / 7,
        lessons=lessons,
        live_hours=reports.live_seconds(presences) / 3600,
        lessons_ended=ended_count,
        lesson_median_minutes=length / 60 if length is not None else None,
        first_lesson_loans=first_n,
        request_to_first_lesson_median_days=first_median,
        request_to_first_lesson_mean_days=first_mean,
        quality_lessons=quality["lessons"],
        quality_good=quality["good"],
        quality_degraded=quality["degraded"],
        quality_poor=quality["poor"],
        quality_relayed=quality["relayed"],
        lessons_without_quality=lessons - quality["lessons"],
        offline_kits=offline_kits,
        offline_devices=offline_devices,
    )


# Shown: small counts hidden -----------------------------------------------------------------------

COUNTS = (
    "kits_total",
    "loans_requested",
    "loans_started",
    "loans_active",
    "loans_ended",
    "pupils_served",
    "lessons",
    "lessons_ended",
    "first_lesson_loans",
    "quality_lessons",
    "quality_good",
    "quality_degraded",
    "quality_poor",
    "quality_relayed",
    "lessons_without_quality",
    "offline_kits",
    "offline_devices",
)
# Figures derived from a count (name -> the count they rest on, decimals).
DERIVED = {
    "loan_weeks": ("loans_active", 1),
    "live_hours": ("loans_active", 1),
    "live_hours_per_loan_week": ("loans_active", 2),
    "lessons_per_loan_week": ("loans_active", 2),
    "lesson_median_minutes": ("lessons_ended", 1),
    "request_to_first_lesson_median_days": ("first_lesson_loans", 1),
    "request_to_first_lesson_mean_days": ("first_lesson_loans", 1),
    "share_good": ("quality_lessons", 3),
    "share_degraded": ("quality_lessons", 3),
    "share_poor": ("quality_lessons", 3),
    "share_relayed": ("quality_lessons", 3),
}


def hidden(value, scope: Scope) -> bool:
    return small(value, scope) == HIDDEN


def displayed(indicators: Indicators, scope: Scope | None = None) -> dict:
    """The indicators as they may be shown for ``scope`` (by default their own): a dict
    with the keys of ``Indicators`` (and its properties), where

    - every count from 1 to 4 is « < 5 » (``scope.small``), in the dicts too;
    - every figure derived from a count (an average, a median, a share, the live hours and
      the loan-weeks: see ``DERIVED``) is « < 5 » when that count is from 1 to 4, ``None``
      when it is 0 (nothing to compute on), else rounded;
    - ``has_data`` and ``message`` (« Aucune donnée pour cette période. » or ``None``).

    Secondary suppression (a hidden cell found again from a total) is not done: the totals
    are themselves counts of the same people, shown or hidden by the same rule.
    """
    scope = scope or indicators.scope
    shown: dict = {
        "period": indicators.period,
        "scope": scope,
        "computed_at": indicators.computed_at,
        "has_data": indicators.has_data,
        "message": None if indicators.has_data else NO_DATA,
    }
    for name in COUNTS:
        shown[name] = small(getattr(indicators, name), scope)
    shown["kits_by_status"] = {
        status: {generation: small(n, scope) for generation, n in row.items()}
        for status, row in indicators.kits_by_status.items()
    }
    for name in ("kits_by_generation", "pupils_by_level_group", "pupils_by_place"):
        shown[name] = {key: small(n, scope) for key, n in getattr(indicators, name).items()}
    for name, (base, decimals) in DERIVED.items():
        count = getattr(indicators, base)
        value = getattr(indicators, name)
        if not count or value is None:
            shown[name] = None
        elif hidden(count, scope):
            shown[name] = HIDDEN
        else:
            shown[name] = round(value, decimals)
    return shown


# Transmission ------------------------------------------------------------------------------------


def _place(scope: Scope) -> dict:
    level = {ACADEMY: "academie", DEPARTMENT: "departement"}.get(scope.level, "national")
    academy = scope.academy
    department = scope.department
    return {
        "niveau": level,
        "academie": {"code": academy.code, "nom": academy.name} if academy else None,
        "departement": {"code": department.code, "nom": department.name} if department else None,
    }


def document(indicators: Indicators, scope: Scope | None = None) -> dict:
    """The transmission to the ministry (docs/evaluation-transmission.md), small counts
    hidden: what ``GET /api/evaluation/indicators`` answers."""
    scope = scope or indicators.scope
    d = displayed(indicators, scope)
    period = indicators.period
    return {
        "version_schema": SCHEMA_VERSION,
        "annee_scolaire": f"{period.start.year}-{period.end.year}",
        "periode": {"debut": period.start.isoformat(), "fin": period.end.isoformat()},
        "perimetre": _place(scope),
        "calcule_le": indicators.computed_at.isoformat(timespec="seconds"),
        "seuil_petits_effectifs": SMALL_COUNT,
        "donnees": d["has_data"],
        "message": d["message"],
        "cartables": {
            "total": d["kits_total"],
            "par_generation": d["kits_by_generation"],
            "par_statut": d["kits_by_status"],
        },
        "prets": {
            "demandes": d["loans_requested"],
            "demarres": d["loans_started"],
            "actifs": d["loans_active"],
            "termines": d["loans_ended"],
        },
        "eleves": {
            "total": d["pupils_served"],
            "par_niveau": d["pupils_by_level_group"],
            "par_lieu": d["pupils_by_place"],
        },
        "usage": {
            "semaines_de_pret": d["loan_weeks"],
            "seances": d["lessons"],
            "heures_en_direct": d["live_hours"],
            "heures_par_pret_et_semaine": d["live_hours_per_loan_week"],
            "seances_par_pret_et_semaine": d["lessons_per_loan_week"],
            "seances_terminees": d["lessons_ended"],
            "duree_mediane_seance_min": d["lesson_median_minutes"],
        },
        "delai_premiere_seance": {
            "prets": d["first_lesson_loans"],
            "mediane_jours": d["request_to_first_lesson_median_days"],
            "moyenne_jours": d["request_to_first_lesson_mean_days"],
        },
        "connexion": {
            "seances_mesurees": d["quality_lessons"],
            "seances_sans_mesure": d["lessons_without_quality"],
            "bonne": d["quality_good"],
            "degradee": d["quality_degraded"],
            "mauvaise": d["quality_poor"],
            "relayee": d["quality_relayed"],
            "part_bonne": d["share_good"],
            "part_degradee": d["share_degraded"],
            "part_mauvaise": d["share_poor"],
            "part_relayee": d["share_relayed"],
        },
        "hors_ligne": {"cartables": d["offline_kits"], "appareils": d["offline_devices"]},
    }


CSV_COLUMNS = [
    "annee_scolaire",
    "debut",
    "fin",
    "niveau",
    "academie",
    "departement",
    "indicateur",
    "valeur",
]


def _flatten(prefix: str, value):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(f"{prefix}.{key}" if prefix else key, inner)
    else:
        yield prefix, value


def csv_rows(doc: dict) -> list[list]:
    """The transmission as CSV rows (``CSV_COLUMNS``): one row per indicator, named by its
    path in the JSON (``prets.demandes``, ``eleves.par_niveau.college``…); a hidden value
    is « < 5 », a value that cannot be computed is empty."""
    place = doc["perimetre"]
    head = [
        doc["annee_scolaire"],
        doc["periode"]["debut"],
        doc["periode"]["fin"],
        place["niveau"],
        place["academie"]["code"] if place["academie"] else "",
        place["departement"]["code"] if place["departement"] else "",
    ]
    rows = [CSV_COLUMNS]
    for section in (
        "cartables",
        "prets",
        "eleves",
        "usage",
        "delai_premiere_seance",
        "connexion",
        "hors_ligne",
    ):
        for name, value in _flatten(section, doc[section]):
            rows.append([*head, name, "" if value is None else value])
    return rows


def csv_text(doc: dict) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(csv_rows(doc))
    return out.getvalue()
