"""The questionnaire as a form: one scale per question and, for adults, a free text."""

from __future__ import annotations

from django import forms

from .questions import FREE_TEXT_MAX, wordings_for


class SurveyForm(forms.Form):
    def __init__(self, *args, respondent_kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.wordings = wordings_for(respondent_kind)
        for number, wording in enumerate(self.wordings, start=1):
            self.fields[wording.question] = forms.TypedChoiceField(
                label=f"Question {number}",
                choices=list(wording.scale),
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Choisissez une réponse.",
                    "invalid_choice": "Choisissez une des réponses proposées.",
                },
            )
            if wording.free_text:
                self.fields[f"{wording.question}_text"] = forms.CharField(
                    label=wording.free_text,
                    required=False,
                    max_length=FREE_TEXT_MAX,
                    widget=forms.Textarea(attrs={"rows": 3}),
                    error_messages={
                        "max_length": f"Ce texte tient en {FREE_TEXT_MAX} caractères au plus."
                    },
                )

    def questions(self):
        """(number, wording, scale field, free-text field or None), for the template."""
        for number, wording in enumerate(self.wordings, start=1):
            text = self[f"{wording.question}_text"] if wording.free_text else None
            yield number, wording, self[wording.question], text

    def answers(self) -> dict[str, tuple[int, str]]:
        data = self.cleaned_data
        return {
            w.question: (data[w.question], data.get(f"{w.question}_text", "") or "")
            for w in self.wordings
        }
