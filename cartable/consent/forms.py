"""The forms of the authorisations page. Choices come from the models; the dates are then
checked against the loan by the services, which alone write."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from cartable.core.forms import Accessible
from cartable.fleet.forms_loans import date_field
from cartable.organisation.models import RoleGrant

from .models import FamiliesInformed, GuardianAuthorisation, PupilAgreement
from .services import MAX_OUT_OF_FRAME


def _choices(model_choices, empty: str):
    return [("", empty), *model_choices]


def _choice_field(label: str, choices, empty: str, required_message: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=_choices(choices, empty),
        error_messages={"required": required_message, "invalid_choice": required_message},
    )


class GuardiansForm(Accessible, forms.Form):
    record = "guardians"
    signed_on = date_field("Date de la signature")
    signed_as = _choice_field(
        "Signée par",
        GuardianAuthorisation.SignedAs.choices,
        "Choisissez qui a signé",
        "Choisissez qui a signé.",
    )
    method = _choice_field(
        "Forme de la signature",
        GuardianAuthorisation.Method.choices,
        "Choisissez la forme",
        "Choisissez comment l'autorisation a été signée.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix=self.record, **kwargs)
        self.fields["signed_as"].help_text = "Un rôle, jamais un nom."


class PupilForm(Accessible, forms.Form):
    record = "pupil"
    agreed_on = date_field("Date de l'accord de l'élève")
    method = _choice_field(
        "Recueilli",
        PupilAgreement.Method.choices,
        "Choisissez comment",
        "Choisissez comment l'accord a été recueilli.",
    )
    shown = forms.BooleanField(
        label="Le texte ci-dessus a été présenté à l'élève, qui a donné son accord",
        error_messages={"required": "Cochez cette case une fois le texte présenté à l'élève."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix=self.record, **kwargs)


class TeacherChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.email or obj.username


class TeacherForm(Accessible, forms.Form):
    """The coordinator records the teacher's agreement on their behalf."""

    record = "teacher"
    agreed_on = date_field("Date de l'accord de l'enseignant·e")
    teacher = TeacherChoice(
        label="Enseignant·e",
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="Enseignant·e sans compte sur la plateforme",
        error_messages={"invalid_choice": "Cette personne n'enseigne pas dans la classe."},
    )

    def __init__(self, *args, loan, **kwargs):
        super().__init__(*args, prefix=self.record, **kwargs)
        self.fields["teacher"].queryset = (
            get_user_model()
            .objects.filter(
                role_grants__role=RoleGrant.Role.TEACHER,
                role_grants__school_class=loan.school_class,
            )
            .distinct()
            .order_by("last_name", "first_name", "username")
        )


class OwnAgreementForm(Accessible, forms.Form):
    """A teacher records their own agreement."""

    agreed_on = date_field("Date de votre accord")
    agree = forms.BooleanField(
        label="J'accepte de faire cours avec le cartable connecté pour cet élève",
        error_messages={"required": "Cochez la case pour donner votre accord."},
    )


class FamiliesForm(Accessible, forms.Form):
    record = "families"
    informed_on = date_field("Date de l'information des familles")
    channel = _choice_field(
        "Informées par",
        FamiliesInformed.Channel.choices,
        "Choisissez le moyen",
        "Choisissez comment les familles ont été informées.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix=self.record, **kwargs)


class FrameForm(Accessible, forms.Form):
    record = "frame"
    required = _choice_field(
        "Des élèves de la classe doivent-ils rester hors du champ de la caméra ?",
        [("no", "Non"), ("yes", "Oui")],
        "Choisissez oui ou non",
        "Répondez par oui ou par non.",
    )
    count = forms.IntegerField(
        label="Combien d'élèves (facultatif)",
        required=False,
        min_value=1,
        max_value=MAX_OUT_OF_FRAME,
        help_text="Un nombre seulement : ne notez jamais leurs noms.",
        error_messages={
            "invalid": "Donnez un nombre entier.",
            "min_value": f"Le nombre d'élèves va de 1 à {MAX_OUT_OF_FRAME}.",
            "max_value": f"Le nombre d'élèves va de 1 à {MAX_OUT_OF_FRAME}.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix=self.record, **kwargs)


FORMS = {
    form.record: form for form in (GuardiansForm, PupilForm, TeacherForm, FamiliesForm, FrameForm)
}
