"""The UAI (ex-RNE) school code: seven digits and a check letter.

The letter is ``ALPHABET[int(first seven digits) % 23]``, where the alphabet is A to Z
without I, O and Q (the rule used by the ministry's own tools; see docs/reference).
"""

from django.core.exceptions import ValidationError

UAI_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ"


def uai_check_letter(digits: str) -> str:
    return UAI_ALPHABET[int(digits) % 23]


def normalise_uai(value: str) -> str:
    """Upper-case, strip spaces, and restore a leading zero lost by a spreadsheet."""
    cleaned = "".join(value.split()).upper()
    if len(cleaned) == 7 and cleaned[:6].isdigit():
        cleaned = "0" + cleaned
    return cleaned


def validate_uai(value: str) -> None:
    if len(value) != 8 or not value[:7].isdigit() or not value[7].isalpha():
        raise ValidationError(
            "Le code UAI doit comporter 7 chiffres suivis d'une lettre (par exemple 0783774D).",
            code="uai_format",
        )
    expected = uai_check_letter(value[:7])
    if value[7] != expected:
        raise ValidationError(
            "Le code UAI %(value)s n'est pas valide : la lettre de contrôle devrait être "
            "%(expected)s.",
            code="uai_check",
            params={"value": value, "expected": expected},
        )
