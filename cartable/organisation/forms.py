"""The forms of the organisation pages: classes, pupils, invitations, the school directory.

Each form is built for one actor: its choices are the actor's scope, taken from the access
layer, so a class of another département is not a choice (posting its id anyway gets the
field's "outside your scope" error, and the view's own check answers 404 for editing).
"""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordForm
from django.utils import timezone

from cartable.core.forms import Accessible

from .access import Action, Actor, classes_for, grantable_scopes, invitable_roles, schools_for
from .models import ROLE_SCOPE, Role, School, SchoolClass
from .validators import normalise_uai


def current_school_year(today=None) -> str:
    today = today or timezone.localdate()
    start = today.year if today.month >= 8 else today.year - 1
    return f"{start}-{start + 1}"


class SchoolChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: School) -> str:
        where = f" — {obj.commune}" if obj.commune else ""
        return f"{obj.name}{where} ({obj.uai})"


class ClassChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: SchoolClass) -> str:
        return f"{obj.name} ({obj.get_level_display()}, {obj.school_year}) — {obj.school.name}"


class SchoolClassForm(Accessible, forms.Form):
    school = SchoolChoice(
        label="Établissement",
        queryset=School.objects.none(),
        empty_label="Choisissez l'établissement",
        error_messages={
            "required": "Choisissez l'établissement de la classe.",
            "invalid_choice": "Cet établissement est hors de votre département.",
        },
    )
    name = forms.CharField(
        label="Nom de la classe",
        max_length=60,
        help_text="Par exemple : 5e B, CM1-CM2.",
        error_messages={
            "required": "Donnez un nom à la classe.",
            "max_length": "Le nom de la classe tient en 60 caractères au plus.",
        },
    )
    level = forms.ChoiceField(
        label="Niveau",
        choices=[("", "Choisissez le niveau"), *SchoolClass.Level.choices],
        error_messages={
            "required": "Choisissez le niveau de la classe.",
            "invalid_choice": "Choisissez un niveau de la liste.",
        },
    )
    school_year = forms.CharField(
        label="Année scolaire",
        max_length=9,
        help_text="Sous la forme 2026-2027.",
        error_messages={"required": "Indiquez l'année scolaire, par exemple 2026-2027."},
    )

    def __init__(self, *args, actor: Actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools_for(actor, Action.CLASS_MANAGE).order_by(
            "name", "uai"
        )
        if not self.is_bound and not self.initial.get("school_year"):
            self.initial["school_year"] = current_school_year()
        self.describe_fields()

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_school_year(self) -> str:
        value = self.cleaned_data["school_year"].strip().replace("/", "-").replace(" ", "")
        match = re.fullmatch(r"(\d{4})-(\d{4})", value)
        if not match or int(match[2]) != int(match[1]) + 1:
            raise forms.ValidationError(
                "L'année scolaire s'écrit avec deux années qui se suivent, par exemple 2026-2027."
            )
        return value


class PupilForm(Accessible, forms.Form):
    display_name = forms.CharField(
        label="Prénom d'usage de l'élève",
        max_length=60,
        help_text=(
            "Le prénom seulement, tel que l'élève aime qu'on l'appelle : ni nom de famille, "
            "ni date de naissance, ni aucune information de santé."
        ),
        error_messages={
            "required": "Indiquez le prénom d'usage de l'élève.",
            "max_length": "Le prénom tient en 60 caractères au plus.",
        },
    )
    school_class = ClassChoice(
        label="Classe",
        queryset=SchoolClass.objects.none(),
        empty_label="Choisissez la classe",
        help_text="Le niveau de l'élève est celui de sa classe.",
        error_messages={
            "required": "Choisissez la classe de l'élève.",
            "invalid_choice": "Cette classe est hors de votre département.",
        },
    )

    def __init__(self, *args, actor: Actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school_class"].queryset = (
            classes_for(actor, Action.PUPIL_MANAGE)
            .select_related("school")
            .order_by("school__name", "school_year", "name")
        )
        self.describe_fields()

    def clean_display_name(self) -> str:
        return " ".join(self.cleaned_data["display_name"].split())


OUTSIDE = "Ce rôle est hors de votre périmètre."
# For each kind of scope: the form field that names it and the message when it is missing.
SCOPE_FIELD_LABELS = {
    "school_class": ("Classe (pour un enseignant)", "Choisissez la classe de l'enseignant."),
    "school": (
        "Code UAI de l'établissement (pour un chef d'établissement)",
        "Indiquez le code UAI de l'établissement.",
    ),
    "loan": (
        "Cartable prêté (pour un personnel hospitalier)",
        "Choisissez le cartable dont la personne s'occupera.",
    ),
    "department": (
        "Département (pour un coordonnateur)",
        "Choisissez le département du coordonnateur.",
    ),
    "academy": ("Académie (pour une DANE)", "Choisissez l'académie."),
}


class LoanChoice(forms.ModelChoiceField):
    # Never the pupil's name: an invitation names the kit, the class and the school.
    def label_from_instance(self, obj) -> str:
        klass = obj.school_class
        kit = f"Cartable {obj.kit.code}" if obj.kit_id else f"Demande de cartable n° {obj.pk}"
        return f"{kit} — {klass.name}, {klass.school.name}"


class InvitationForm(Accessible, forms.Form):
    email = forms.EmailField(
        label="Adresse électronique de la personne invitée",
        max_length=254,
        error_messages={
            "required": "Indiquez l'adresse électronique de la personne à inviter.",
            "invalid": "Saisissez une adresse électronique valide, par exemple "
            "prenom.nom@ac-versailles.fr.",
        },
    )
    role = forms.ChoiceField(
        label="Rôle",
        error_messages={"required": "Choisissez le rôle.", "invalid_choice": OUTSIDE},
    )

    def __init__(self, *args, actor: Actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        roles = invitable_roles(actor)
        self.fields["role"].choices = [("", "Choisissez le rôle")] + [
            (role, Role(role).label) for role in roles
        ]
        self.scope_fields: list[str] = []
        for role in roles:
            level = ROLE_SCOPE[role]
            if level is None or level in self.scope_fields:
                continue
            self.scope_fields.append(level)
            label, _ = SCOPE_FIELD_LABELS[level]
            if level == "school":
                field = forms.CharField(label=label, max_length=12, required=False)
                field.help_text = "7 chiffres et une lettre, par exemple 0783774D."
            else:
                queryset = grantable_scopes(actor, role)
                if level == "loan":
                    queryset = queryset.active().select_related("kit", "school_class__school")
                    field = LoanChoice(queryset=queryset, required=False)
                elif level == "school_class":
                    field = ClassChoice(
                        queryset=queryset.select_related("school").order_by("school__name", "name"),
                        required=False,
                    )
                else:
                    field = forms.ModelChoiceField(queryset=queryset, required=False)
                field.label = label
                field.empty_label = "—"
                field.error_messages["invalid_choice"] = OUTSIDE
            self.fields[level] = field
        self.describe_fields()

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        role = cleaned.get("role")
        if not role:
            return cleaned
        level = ROLE_SCOPE[role]
        cleaned["scope"] = None
        if level is None:
            return cleaned
        value = cleaned.get(level)
        if level in self.errors:
            return cleaned
        if not value:
            self.add_error(level, SCOPE_FIELD_LABELS[level][1])
            return cleaned
        if level == "school":
            value = grantable_scopes(self.actor, role).filter(uai=normalise_uai(value)).first()
            if value is None:
                self.add_error(
                    "school",
                    "Aucun établissement de votre périmètre n'a ce code UAI : "
                    f"{OUTSIDE[0].lower()}{OUTSIDE[1:]}",
                )
                return cleaned
        cleaned["scope"] = value
        return cleaned


class InvitationAcceptForm(Accessible, SetPasswordForm):
    """The new account's password, checked by Django's validators (settings)."""

    def __init__(self, *args, email: str, **kwargs):
        # An unsaved user, so the validators can compare the password with the address.
        user = get_user_model()(username=email, email=email)
        super().__init__(user, *args, **kwargs)
        self.fields["new_password1"].label = "Mot de passe"
        self.fields[
            "new_password1"
        ].help_text = (
            "Au moins 12 caractères ; évitez un mot de passe courant ou proche de votre adresse."
        )
        self.fields["new_password2"].label = "Confirmez le mot de passe"
        self.fields["new_password2"].help_text = ""
        self.describe_fields()


class SchoolsImportForm(Accessible, forms.Form):
    file = forms.FileField(
        label="Fichier CSV de l'Annuaire de l'éducation",
        help_text=(
            "L'export CSV publié sur data.education.gouv.fr (séparateur point-virgule, "
            "encodage UTF-8). Rien n'est importé si une ligne est erronée."
        ),
        error_messages={
            "required": "Choisissez le fichier à importer.",
            "empty": "Le fichier est vide.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.describe_fields()
