"""The forms of the fleet register: kits, their statuses, devices and the devices CSV.

Only the fleet team sees them (``Action.FLEET_MANAGE``): the kits are the whole register,
with no scope to narrow. Writes go through ``services``; these forms check what was typed
and say, in French, what is wrong with it.
"""

from __future__ import annotations

from django import forms

from cartable.core.forms import Accessible

from .importers import code_problem, find_kit
from .models import KIT_TRANSITIONS, Device, Kit, Loan
from .services import HAND_STATUSES


class KitForm(Accessible, forms.Form):
    code = forms.CharField(
        label="Référence du cartable",
        max_length=30,
        help_text=(
            "Celle de l'étiquette du cartable, par exemple CC-G3-0142 (30 caractères au plus)."
        ),
        error_messages={
            "required": "Indiquez la référence du cartable.",
            "max_length": "La référence tient en 30 caractères au plus.",
        },
    )
    generation = forms.ChoiceField(
        label="Génération",
        choices=[("", "Choisissez la génération"), *Kit.Generation.choices],
        help_text="Les cartables V5 ne vont que dans les académies du pilote V5.",
        error_messages={
            "required": "Choisissez la génération du cartable.",
            "invalid_choice": "Choisissez une génération de la liste.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.describe_fields()

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        problem = code_problem(code, what="La référence")
        if problem:
            raise forms.ValidationError(problem)
        return code


class KitStatusForm(Accessible, forms.Form):
    """A change of status by hand. The list offers the statuses the kit may go to now; any
    known status is accepted when posted, so that a page left open while someone else
    changed the kit gets the service's own explanation rather than a bare "invalid
    choice"."""

    to = forms.ChoiceField(
        label="Nouveau statut",
        choices=Kit.Status.choices,
        error_messages={
            "required": "Choisissez le nouveau statut.",
            "invalid_choice": "Choisissez un statut de la liste.",
        },
    )
    note = forms.CharField(
        label="Remarque",
        max_length=200,
        required=False,
        help_text=(
            "Facultative : la raison du changement (panne, réforme…), 200 caractères au plus."
        ),
        error_messages={"max_length": "La remarque tient en 200 caractères au plus."},
    )

    def __init__(self, *args, kit: Kit, **kwargs):
        # Ids unique on the kit page, where this form sits beside others.
        kwargs.setdefault("auto_id", "statut_%s")
        super().__init__(*args, **kwargs)
        self.kit = kit
        # Only what the fleet team sets by hand, and nothing while a loan holds the kit: then
        # its status follows the loan's steps.
        self.held = Loan.objects.holding_kit().filter(kit=kit).first()
        allowed = KIT_TRANSITIONS.get(kit.status, frozenset()) & HAND_STATUSES
        if self.held is not None:
            allowed = frozenset()
        self.allowed = [(value, label) for value, label in Kit.Status.choices if value in allowed]
        self.fields["to"].widget.choices = [("", "Choisissez le statut"), *self.allowed]
        self.describe_fields()

    def clean_note(self) -> str:
        return " ".join(self.cleaned_data["note"].split())


class KitCodeField(forms.CharField):
    """A kit named by its reference (typed or scanned: faster than a list of thousands)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Référence du cartable")
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "Laissez vide pour un appareil rangé hors de tout cartable.")
        kwargs.setdefault(
            "error_messages", {"max_length": "La référence tient en 30 caractères au plus."}
        )
        super().__init__(**kwargs)

    def clean(self, value):
        code = super().clean(value).strip()
        if not code:
            return None
        kit = find_kit(code)
        if kit is None:
            raise forms.ValidationError(f"Aucun cartable ne porte la référence « {code} ».")
        return kit


class DeviceForm(Accessible, forms.Form):
    kind = forms.ChoiceField(
        label="Type d'appareil",
        choices=[("", "Choisissez le type"), *Device.Kind.choices],
        error_messages={
            "required": "Choisissez le type d'appareil.",
            "invalid_choice": "Choisissez un type de la liste.",
        },
    )
    serial = forms.CharField(
        label="Numéro de série",
        max_length=60,
        help_text="Tel qu'il est inscrit sur l'appareil (60 caractères au plus).",
        error_messages={
            "required": "Indiquez le numéro de série.",
            "max_length": "Le numéro de série tient en 60 caractères au plus.",
        },
    )
    software_version = forms.CharField(
        label="Version logicielle",
        max_length=40,
        required=False,
        help_text="Facultative, par exemple 5.2.1. L'appareil la donnera aussi lui-même.",
        error_messages={"max_length": "La version tient en 40 caractères au plus."},
    )
    kit = KitCodeField()

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["serial"]  # a device keeps its serial number for life
        self.describe_fields()

    def clean_serial(self) -> str:
        serial = self.cleaned_data["serial"].strip()
        problem = code_problem(serial, what="Le numéro de série")
        if problem:
            raise forms.ValidationError(problem)
        return serial

    def clean_software_version(self) -> str:
        return self.cleaned_data["software_version"].strip()


class DevicesImportForm(Accessible, forms.Form):
    file = forms.FileField(
        label="Fichier CSV des appareils",
        help_text=(
            "Colonnes numero_serie, type, cartable, version_logicielle ; séparateur "
            "point-virgule ou virgule ; encodage UTF-8. Rien n'est importé si une ligne "
            "est erronée."
        ),
        error_messages={
            "required": "Choisissez le fichier à importer.",
            "empty": "Le fichier est vide.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.describe_fields()


class KitFilterForm(forms.Form):
    """The kits list's filters (a GET form: an unknown value shows the whole register)."""

    statut = forms.ChoiceField(
        label="Statut", required=False, choices=[("", "Tous"), *Kit.Status.choices]
    )
    generation = forms.ChoiceField(
        label="Génération", required=False, choices=[("", "Toutes"), *Kit.Generation.choices]
    )
