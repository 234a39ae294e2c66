"""Realistic anonymous survey responses for synthetic loans (``fleet_synthetic`` and the
benchmark): ``add_answers`` writes them with ``bulk_create``, deterministic for a seed.

For each loan that is over (ended, or past its planned end), an end-of-loan round; for each
loan planned for at least ``SURVEYS["MIDWAY_AFTER_WEEKS"]`` weeks whose midpoint is past, a
midway round. In each round the teacher answers seven times in ten, the family one time in
two, the pupil (through the family) a little less often, and the hospital staff one time
in three when the pupil is in hospital. Answers lean to the positive side; about one adult
questionnaire in seven carries a free text, most of them already reviewed.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Respondent, Round, SurveyAnswer, SurveyResponse, level_group
from .questions import Question

BATCH = 2000
RATES = {
    Respondent.TEACHER: 0.7,
    Respondent.FAMILY: 0.5,
    Respondent.PUPIL: 0.45,
    Respondent.HOSPITAL_STAFF: 0.35,
}
HOSPITAL_PLACES = ("hospital", "hospital_school")
# Weights of the scale values, from the lowest: adults (1–4) and the pupil's faces (1–3).
ADULT_WEIGHTS = {
    Question.QUALITY: (1, 3, 9, 7),
    Question.INTEREST: (1, 2, 8, 9),
    Question.VIGILANCE: (6, 8, 3, 1),
    Question.DIFFICULTIES: (5, 8, 4, 1),
    Question.NEEDS: (6, 6, 3, 1),
}
PUPIL_WEIGHTS = (1, 3, 8)
# The share of adult answers with a free text (about one questionnaire in seven has one).
TEXT_RATE = 0.03
TEXTS = {
    Question.QUALITY: [
        "Les séances de mathématiques au tableau passent très bien.",
        "L'élève suit les cours magistraux, moins les travaux de groupe.",
    ],
    Question.INTEREST: [
        "Le lien avec la classe a beaucoup compté pour l'élève.",
        "Les camarades ont gardé le contact, c'est le principal intérêt.",
    ],
    Question.VIGILANCE: [
        "Penser à prévenir la classe avant d'allumer la caméra.",
        "Fatigue de l'élève au-delà d'une heure de suite.",
    ],
    Question.DIFFICULTIES: [
        "Connexion instable à l'hôpital certains après-midi.",
        "Installation du boîtier en classe un peu longue la première fois.",
    ],
    Question.NEEDS: [
        "Il faudrait pouvoir suivre les travaux pratiques d'atelier en lycée professionnel.",
        "Besoin d'une caméra mobile pour les séances en exploitation agricole.",
    ],
}


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _rounds(loan: dict, today: date, midway_days: int) -> Iterator[tuple[str, date]]:
    starts, ends = loan["starts_on"], loan["ends_on"]
    ended = loan["ended_at"].date() if loan["ended_at"] else None
    last = min(ended, ends) if ended else ends
    if (ends - starts).days >= midway_days:
        midpoint = starts + (ends - starts) / 2
        if midpoint <= last and midpoint <= today:
            yield Round.MIDWAY, midpoint
    if ended is not None or ends < today:
        yield Round.END, last


def add_answers(loan_ids: list[int], *, seed: int) -> int:
    """Bulk-create anonymous responses (and their answers) for the loans ``loan_ids``;
    returns how many responses were created. Only loans that started get any."""
    from cartable.fleet.models import Loan

    rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
    today = timezone.localdate()
    midway_days = settings.SURVEYS["MIDWAY_AFTER_WEEKS"] * 7
    fields = (
        "starts_on",
        "ends_on",
        "ended_at",
        "place_kind",
        "school_class__level",
        "school_class__school_year",
        "school_class__school__department_id",
        "school_class__school__department__academy_id",
    )
    loans = (
        Loan.objects.filter(pk__in=loan_ids, status__in=("active", "ended", "returned"))
        .order_by("pk")
        .values(*fields)
    )
    responses: list[SurveyResponse] = []
    answers: list[SurveyAnswer] = []
    created = 0
    with transaction.atomic():
        for loan in loans.iterator(chunk_size=BATCH):
            kinds = [Respondent.TEACHER, Respondent.FAMILY, Respondent.PUPIL]
            if loan["place_kind"] in HOSPITAL_PLACES:
                kinds.append(Respondent.HOSPITAL_STAFF)
            for round_, day in _rounds(loan, today, midway_days):
                for kind in kinds:
                    if rng.random() >= RATES[kind]:
                        continue
                    submitted = min(today, day + timedelta(days=rng.randint(0, 12)))
                    response = SurveyResponse(
                        id=_uuid(rng),
                        respondent_kind=kind,
                        round=round_,
                        school_year=loan["school_class__school_year"],
                        academy_id=loan["school_class__school__department__academy_id"],
                        department_id=loan["school_class__school__department_id"],
                        level_group=level_group(loan["school_class__level"]),
                        place_kind=loan["place_kind"],
                        submitted_on=submitted,
                    )
                    responses.append(response)
                    answers.extend(_answers(rng, response, kind))
            if len(responses) >= BATCH:
                created += _flush(responses, answers)
        created += _flush(responses, answers)
    return created


def _answers(rng: random.Random, response: SurveyResponse, kind: str) -> list[SurveyAnswer]:
    out = []
    for question in Question.values:
        if kind == Respondent.PUPIL:
            value = rng.choices((1, 2, 3), weights=PUPIL_WEIGHTS)[0]
            text, review = "", SurveyAnswer.Review.NONE
        else:
            value = rng.choices((1, 2, 3, 4), weights=ADULT_WEIGHTS[question])[0]
            text, review = "", SurveyAnswer.Review.NONE
            if rng.random() < TEXT_RATE:
                review = rng.choices(
                    (
                        SurveyAnswer.Review.APPROVED,
                        SurveyAnswer.Review.PENDING,
                        SurveyAnswer.Review.REJECTED,
                    ),
                    weights=(6, 3, 1),
                )[0]
                # A rejected text is erased when it is rejected.
                if review != SurveyAnswer.Review.REJECTED:
                    text = rng.choice(TEXTS[question])
        out.append(
            SurveyAnswer(
                id=_uuid(rng),
                response=response,
                question=question,
                value=value,
                text=text,
                review=review,
            )
        )
    return out


def _flush(responses: list, answers: list) -> int:
    n = len(responses)
    SurveyResponse.objects.bulk_create(responses, batch_size=BATCH)
    SurveyAnswer.objects.bulk_create(answers, batch_size=BATCH)
    responses.clear()
    answers.clear()
    return n
