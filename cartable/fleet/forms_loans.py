"""The forms of the loan pages: asking for a kit, and the small forms of each step.

Choices come from the access layer (the pupils a coordinator may ask for) or from the
services' own rule (the kits ``services.pilot_allows`` for the loan). What is posted is
then checked again by the services, which alone write: a forged kit gets the service's
French refusal, not a silent success.
"""

from __future__ import annotations

from django import forms

from cartable.core.forms import Accessible
from cartable.organisation.access import Action, Actor, pupils_for
from cartable.organisation.models import Department, Pupil

from .models import Kit, Loan
from .services import pilot_allows

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
DATE_ERRORS = {
    "required": "Indiquez la date.",
    "invalid": "Date attendue au format JJ/MM/AAAA (par exemple 14/09/2026).",
}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def date_field(label: str, **kwargs) -> forms.DateField:
    errors = dict(DATE_ERRORS)
    errors.update(kwargs.pop("error_messages", {}))
    return forms.DateField(
        label=label, input_formats=DATE_FORMATS, widget=DateInput(), error_messages=errors, **kwargs
    )


class PupilChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Pupil) -> str:
        klass = obj.school_class
        return (
            f"{obj.display_name} — {klass.name} ({klass.get_level_display()}, "
            f"{klass.school_year}) — {klass.school.name}"
        )


class DepartmentChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Department) -> str:
        return f"{obj.code} {obj.name}".strip()


class LoanRequestForm(Accessible, forms.Form):
    pupil = PupilChoice(
        label="Élève",
        queryset=Pupil.objects.none(),
        empty_label="Choisissez l'élève",
        help_text="Chaque élève est présenté avec sa classe et son établissement.",
        error_messages={
            "required": "Choisissez l'élève pour qui vous demandez un cartable.",
            "invalid_choice": "Cet élève est hors de votre département.",
        },
    )
    starts_on = date_field(
        "Début prévu",
        error_messages={"required": "Indiquez la date de début prévue."},
    )
    ends_on = date_field(
        "Fin prévue",
        error_messages={"required": "Indiquez la date de fin prévue."},
    )
    place_kind = forms.ChoiceField(
        label="Lieu où se trouve l'élève",
        choices=Loan.PlaceKind.choices,
        initial=Loan.PlaceKind.HOME,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choisissez le lieu où se trouve l'élève.",
            "invalid_choice": "Choisissez un lieu de la liste.",
        },
    )
    pupil_department = DepartmentChoice(
        label="Département où se trouve l'élève",
        queryset=Department.objects.order_by("code"),
        required=False,
        empty_label="Celui de l'établissement",
        help_text="Un hôpital peut se trouver dans un autre département que l'établissement.",
        error_messages={"invalid_choice": "Choisissez un département de la liste."},
    )

    def __init__(self, *args, actor: Actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pupil"].queryset = (
            pupils_for(actor, Action.LOAN_REQUEST)
            .select_related("school_class__school__department")
            .order_by("school_class__school__name", "school_class__name", "display_name")
        )
        self.describe_fields()

    def clean(self):
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", "La fin prévue doit suivre le début.")
        pupil = data.get("pupil")
        if pupil is not None and data.get("pupil_department") is None:
            data["pupil_department"] = pupil.school_class.school.department
        return data


class KitChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Kit) -> str:
        return f"{obj.code} ({obj.get_generation_display()})"


class AssignForm(Accessible, forms.Form):
    """The kits offered are those in stock that the pilot rule allows for this loan; any
    kit id is accepted here, so that a forged one reaches the service and its refusal."""

    kit = KitChoice(
        label="Cartable à attribuer",
        queryset=Kit.objects.all(),
        empty_label="Choisissez un cartable en stock",
        help_text="Seuls les cartables en stock autorisés pour cette académie sont proposés.",
        error_messages={
            "required": "Choisissez le cartable à attribuer.",
            "invalid_choice": "Ce cartable n'existe pas.",
        },
    )

    def __init__(self, *args, loan: Loan, **kwargs):
        super().__init__(*args, **kwargs)
        self.offered = offered_kits(loan)
        field = self.fields["kit"]
        field.widget.choices = [("", field.empty_label)] + [
            (kit.pk, field.label_from_instance(kit)) for kit in self.offered
        ]
        self.describe_fields()


def offered_kits(loan: Loan) -> list[Kit]:
    """Kits in stock, not held by a loan, that may go to ``loan`` (the pilot rule)."""
    kits = (
        Kit.objects.filter(status=Kit.Status.IN_STOCK)
        .exclude(pk__in=Loan.objects.holding_kit().filter(kit__isnull=False).values("kit_id"))
        .order_by("generation", "code")
    )
    return [kit for kit in kits if pilot_allows(kit, loan)]


class ExtendForm(Accessible, forms.Form):
    ends_on = date_field(
        "Nouvelle fin prévue",
        error_messages={"required": "Indiquez la nouvelle date de fin."},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "prolonger")
        super().__init__(*args, **kwargs)
        self.describe_fields()


class ReturnForm(Accessible, forms.Form):
    needs_repair = forms.BooleanField(
        label="Le cartable revient abîmé : il part en réparation",
        required=False,
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "retour")
        super().__init__(*args, **kwargs)
        self.describe_fields()
