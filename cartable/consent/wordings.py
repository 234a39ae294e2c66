"""The words shown to a pupil to ask their own agreement, one text per age group.

A ``PupilAgreement`` stores only the key of the text shown (``maternelle-1``…). A text is
never changed once used: a new text gets a new version, and the old one stays here so a
record still says what the child was shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from cartable.organisation.models import SchoolClass

L = SchoolClass.Level


@dataclass(frozen=True)
class Wording:
    key: str
    group: str  # the age group's name, in French
    text: str


WORDINGS: dict[str, Wording] = {
    w.key: w
    for w in (
        Wording(
            "maternelle-1",
            "maternelle",
            "Tu vas voir ta classe sur une tablette, et ta classe pourra te voir si tu le "
            "veux. Personne ne garde les images. Tu es d'accord ?",
        ),
        Wording(
            "elementaire-1",
            "élémentaire",
            "Avec la tablette, tu peux suivre la classe en direct : tu vois le tableau et "
            "tes camarades, tu peux parler et lever la main. Ta caméra reste éteinte tant "
            "que tu ne l'allumes pas. Rien n'est enregistré. Tu peux dire non, ou arrêter "
            "quand tu veux. Es-tu d'accord ?",
        ),
        Wording(
            "college-1",
            "collège",
            "Le cartable connecté te permet de suivre les cours de ta classe en direct. Le "
            "son et les images vont directement de la classe à ta tablette ; rien n'est "
            "enregistré. Ta caméra démarre éteinte : c'est toi qui choisis si la classe te "
            "voit. Tu peux refuser ou changer d'avis à tout moment. Es-tu d'accord ?",
        ),
        Wording(
            "lycee-1",
            "lycée",
            "Le cartable connecté transmet en direct les cours de ta classe, sans aucun "
            "enregistrement, et ta caméra reste éteinte sauf si tu l'allumes. La plateforme "
            "garde seulement les heures de connexion. Tu peux refuser ou retirer ton accord "
            "à tout moment, sans avoir à te justifier. Acceptes-tu ?",
        ),
    )
}

GROUP_OF_LEVEL = {
    **dict.fromkeys((L.PS, L.MS, L.GS), "maternelle"),
    **dict.fromkeys((L.CP, L.CE1, L.CE2, L.CM1, L.CM2), "elementaire"),
    **dict.fromkeys((L.SIXIEME, L.CINQUIEME, L.QUATRIEME, L.TROISIEME), "college"),
}
# The current version of each age group: what is shown today.
CURRENT = {
    "maternelle": "maternelle-1",
    "elementaire": "elementaire-1",
    "college": "college-1",
    "lycee": "lycee-1",
}


def wording_for(school_class) -> Wording:
    """The text to show a pupil of this class today (lycée for every level after 3e)."""
    group = GROUP_OF_LEVEL.get(school_class.level, "lycee")
    return WORDINGS[CURRENT[group]]
