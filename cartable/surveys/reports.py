"""What the review report takes from the surveys, for a period and a scope.

``summary`` counts in the database (one ``GROUP BY`` for the scale answers, one for the
responses); free texts come only once a coordinator has approved them.
"""

from __future__ import annotations

from django.db.models import Count

from cartable.evaluation.scope import Period, Scope

from .models import Respondent, Round, SurveyAnswer, SurveyResponse
from .questions import Question, wordings_for


def responses_in(period: Period, scope: Scope):
    """The responses submitted during ``period`` within ``scope`` (a response lies where
    the class's school is, like a loan)."""
    return SurveyResponse.objects.filter(
        scope.schools_q(), submitted_on__gte=period.start, submitted_on__lte=period.end
    )


def summary(period: Period, scope: Scope) -> dict:
    """The surveys of ``period`` within ``scope``::

        {
          "responses": 12,                       # questionnaires answered
          "by_kind": {"teacher": 5, "family": 3, "pupil": 3, "hospital_staff": 1},
          "by_round": {"midway": 4, "end": 8},
          # per question, per respondent kind, the number of answers of each scale value
          # (every value of the kind's scale is there, with 0 when nobody chose it)
          "answers": {"quality": {"teacher": {1: 0, 2: 1, 3: 2, 4: 2}, "pupil": {1: 0, ...}}},
          # the words of each scale: per respondent kind and question, [(value, words)]
          "scales": {"teacher": {"quality": [(1, "Insuffisante"), ...]}, ...},
          "questions": [("quality", "Qualité des usages pédagogiques"), ...],
          "kinds": [("teacher", "Enseignant·e"), ...],
          # the approved free texts only, by question then respondent kind
          "free_texts": [{"question": "needs", "question_label": "Besoins nouveaux",
                          "respondent_kind": "teacher", "respondent_label": "Enseignant·e",
                          "text": "…"}],
        }

    Counts are raw: the report shows them through ``scope.small`` (« < 5 »)."""
    responses = responses_in(period, scope)
    by_kind = {kind: 0 for kind in Respondent.values}
    by_round = {round_: 0 for round_ in Round.values}
    for row in responses.values("respondent_kind", "round").annotate(n=Count("pk")):
        by_kind[row["respondent_kind"]] += row["n"]
        by_round[row["round"]] += row["n"]

    scales = {
        kind: {w.question: list(w.scale) for w in wordings_for(kind)} for kind in Respondent.values
    }
    answers = {
        question: {
            kind: {value: 0 for value, _ in scales[kind][question]} for kind in Respondent.values
        }
        for question in Question.values
    }
    rows = (
        SurveyAnswer.objects.filter(response__in=responses)
        .values("question", "response__respondent_kind", "value")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        per_value = answers[row["question"]][row["response__respondent_kind"]]
        per_value[row["value"]] = per_value.get(row["value"], 0) + row["n"]

    question_labels = dict(Question.choices)
    kind_labels = dict(Respondent.choices)
    order = {q: i for i, q in enumerate(Question.values)}
    texts = SurveyAnswer.objects.filter(
        response__in=responses, review=SurveyAnswer.Review.APPROVED
    ).exclude(text="")
    free_texts = sorted(
        (
            {
                "question": row["question"],
                "question_label": question_labels[row["question"]],
                "respondent_kind": row["response__respondent_kind"],
                "respondent_label": kind_labels[row["response__respondent_kind"]],
                "text": row["text"],
            }
            for row in texts.values("question", "response__respondent_kind", "text")
        ),
        key=lambda t: (order[t["question"]], t["respondent_kind"], t["text"]),
    )
    return {
        "responses": sum(by_kind.values()),
        "by_kind": by_kind,
        "by_round": by_round,
        "answers": answers,
        "scales": scales,
        "questions": list(Question.choices),
        "kinds": list(Respondent.choices),
        "free_texts": free_texts,
    }
