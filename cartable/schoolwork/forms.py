from django import forms

from .models import Work


class HandOutForm(forms.Form):
    title = forms.CharField(label="Titre", max_length=120, required=False)
    instructions = forms.CharField(
        label="Consigne", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    due_on = forms.DateField(
        label="À faire pour le", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    source = forms.ChoiceField(
        choices=[("", "Fichier"), ("photo", "Photo"), ("board", "Photo du tableau")],
        required=False,
    )
    kind = forms.ChoiceField(choices=Work.Kind.choices, required=False)


class ReturnForm(forms.Form):
    answer = forms.CharField(max_length=5000, required=False, strip=True)
    strokes = forms.CharField(max_length=4_000_000, required=False, strip=False)


class CorrectForm(forms.Form):
    comment = forms.CharField(max_length=2000, required=False, strip=True)
    strokes = forms.CharField(max_length=4_000_000, required=False, strip=False)
