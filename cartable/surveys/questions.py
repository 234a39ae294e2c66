"""The fixed questions of the agreement, their scales, and who answers which wording.

The five headings of the agreement are the questions, in this order. Adults answer each on
a four-step scale (its words fit the question) and may add a free text; the pupil answers
each on a scale of three faces, in simple words, with no free text.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class Question(models.TextChoices):
    QUALITY = "quality", "Qualité des usages pédagogiques"
    INTEREST = "interest", "Intérêt du dispositif"
    VIGILANCE = "vigilance", "Points de vigilance"
    DIFFICULTIES = "difficulties", "Difficultés rencontrées"
    NEEDS = "needs", "Besoins nouveaux"


@dataclass(frozen=True)
class Wording:
    question: str  # a Question value
    text: str  # the question as asked
    scale: tuple[tuple[int, str], ...]  # (value, words), from the lowest to the highest
    free_text: str = ""  # the label of the optional free text; empty: none


# The pupil's faces, from the saddest to the happiest (value 1 to 3); their image is
# ``static/surveys/face-<value>.svg`` and these words are their accessible names.
FACES: tuple[tuple[int, str], ...] = ((1, "Pas content"), (2, "Moyen"), (3, "Content"))

_SOME = ((1, "Aucun"), (2, "Quelques-uns"), (3, "Plusieurs"), (4, "Nombreux"))
ADULT: tuple[Wording, ...] = (
    Wording(
        Question.QUALITY,
        "Comment jugez-vous la qualité des usages pédagogiques du cartable connecté ?",
        ((1, "Insuffisante"), (2, "Passable"), (3, "Bonne"), (4, "Très bonne")),
        "Précisez si vous le souhaitez (facultatif)",
    ),
    Wording(
        Question.INTEREST,
        "Quel intérêt le dispositif a-t-il eu pour l'élève et la classe ?",
        ((1, "Faible"), (2, "Moyen"), (3, "Grand"), (4, "Très grand")),
        "Précisez si vous le souhaitez (facultatif)",
    ),
    Wording(
        Question.VIGILANCE,
        "Avez-vous relevé des points de vigilance (image, son, confidentialité, fatigue…) ?",
        _SOME,
        "Lesquels ? (facultatif)",
    ),
    Wording(
        Question.DIFFICULTIES,
        "Avez-vous rencontré des difficultés (installation, connexion, usage) ?",
        ((1, "Aucune"), (2, "Quelques-unes"), (3, "Plusieurs"), (4, "Nombreuses")),
        "Lesquelles ? (facultatif)",
    ),
    Wording(
        Question.NEEDS,
        "Voyez-vous des besoins nouveaux (par exemple en formation professionnelle ou "
        "agricole, en travaux pratiques) ?",
        _SOME,
        "Lesquels ? (facultatif)",
    ),
)

PUPIL: tuple[Wording, ...] = (
    Wording(Question.QUALITY, "Est-ce que tu as bien suivi ta classe avec le cartable ?", FACES),
    Wording(Question.INTEREST, "Est-ce que tu as aimé utiliser le cartable ?", FACES),
    Wording(Question.VIGILANCE, "Est-ce que tu te sentais bien devant la caméra ?", FACES),
    Wording(Question.DIFFICULTIES, "Est-ce que c'était facile de te servir du cartable ?", FACES),
    Wording(Question.NEEDS, "Est-ce que tu aimerais encore utiliser le cartable ?", FACES),
)

FREE_TEXT_MAX = 1000


def wordings_for(respondent_kind: str) -> tuple[Wording, ...]:
    from .models import Respondent

    return PUPIL if respondent_kind == Respondent.PUPIL else ADULT


def scale_label(respondent_kind: str, question: str, value: int) -> str:
    for wording in wordings_for(respondent_kind):
        if wording.question == question:
            return dict(wording.scale).get(value, str(value))
    return str(value)
