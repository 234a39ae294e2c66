from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from .models import AuditEntry


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class AuditFilterForm(forms.Form):
    person = forms.CharField(
        label="Personne",
        required=False,
        max_length=254,
        help_text="Adresse électronique ou numéro de compte.",
    )
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Toutes")] + AuditEntry.Verb.choices
    )
    object_type = forms.ChoiceField(label="Type d'objet", required=False, choices=[])
    since = forms.DateField(label="Du", required=False, widget=DateInput())
    until = forms.DateField(label="Au", required=False, widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        types = (
            AuditEntry.objects.order_by("object_type")
            .values_list("object_type", flat=True)
            .distinct()
        )
        self.fields["object_type"].choices = [("", "Tous")] + [(t, t) for t in types if t]

    def clean_person(self):
        value = self.cleaned_data["person"].strip()
        if not value:
            return None
        if value.isascii() and value.isdigit():
            return int(value)
        user = get_user_model().objects.filter(email__iexact=value).first()
        if user is None:
            raise forms.ValidationError("Aucun compte n'a cette adresse électronique.")
        return user.pk

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "La date de fin doit suivre la date de début.")
        return data


class PupilSearchForm(forms.Form):
    name = forms.CharField(label="Prénom d'usage de l'élève", max_length=60)
    school = forms.CharField(
        label="Établissement",
        required=False,
        max_length=200,
        help_text="Nom, commune ou code UAI (facultatif).",
    )
    school_class = forms.CharField(label="Classe", required=False, max_length=60)

    def clean_name(self):
        value = " ".join(self.cleaned_data["name"].split())
        if len(value) < 2:
            raise forms.ValidationError("Saisissez au moins deux lettres du prénom.")
        return value


class ErasureForm(forms.Form):
    MODES = [
        ("erase", "Effacer : tout ce qui concerne l'élève est supprimé"),
        (
            "pseudonymise",
            "Pseudonymiser : le prénom est retiré, les données sans nom sont gardées "
            "pour l'évaluation",
        ),
    ]
    mode = forms.ChoiceField(label="Que faire ?", choices=MODES, widget=forms.RadioSelect)
    confirm = forms.CharField(
        label="Pour confirmer, saisissez le prénom d'usage de l'élève",
        max_length=60,
    )

    def __init__(self, *args, pupil, **kwargs):
        super().__init__(*args, **kwargs)
        self.pupil = pupil

    def clean_confirm(self):
        value = " ".join(self.cleaned_data["confirm"].split())
        if value != self.pupil.display_name:
            raise forms.ValidationError(
                "Le prénom saisi ne correspond pas à celui de l'élève : rien n'a été fait."
            )
        return value
