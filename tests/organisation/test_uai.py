"""The UAI check rule, against real schools' codes."""

import pytest
from django.core.exceptions import ValidationError

from cartable.organisation.validators import (
    UAI_ALPHABET,
    normalise_uai,
    uai_check_letter,
    validate_uai,
)

# Real establishments (docs/REFERENCE.md §2), each found in a public source.
REAL_UAIS = [
    "0783774D",  # Nouveau collège André Chénier, Mantes-la-Jolie
    "0010005A",  # Collège Roger Poulnard, Bâgé-Dommartin
    "0301674G",  # École primaire, Lasalle
    "0480680D",
    "0400193T",
    "0400219W",
    "0400229G",
    "0400236P",
    "0400241V",
    "0781977A",  # a PIAL
    "0400105X",
    "0400026L",
]


@pytest.mark.parametrize("uai", REAL_UAIS)
def test_real_uais_are_valid(uai):
    validate_uai(uai)
    assert uai_check_letter(uai[:7]) == uai[7]


@pytest.mark.parametrize("uai", REAL_UAIS)
def test_any_other_letter_is_refused(uai):
    for letter in UAI_ALPHABET.replace(uai[7], ""):
        with pytest.raises(ValidationError) as caught:
            validate_uai(uai[:7] + letter)
        assert caught.value.code == "uai_check"
        assert f"devrait être {uai[7]}" in caught.value.messages[0]


@pytest.mark.parametrize("uai", REAL_UAIS)
def test_a_changed_digit_is_caught(uai):
    # 23 is prime and divides no single-digit change (d × 10^k), so the letter catches
    # every mistyped digit.
    for position in range(7):
        for digit in "0123456789":
            if digit == uai[position]:
                continue
            altered = uai[:position] + digit + uai[position + 1 : 7] + uai[7]
            with pytest.raises(ValidationError):
                validate_uai(altered)


def test_swapped_digits_are_caught():
    with pytest.raises(ValidationError):
        validate_uai("0787374D")  # 0783774D with 3 and 7 swapped


@pytest.mark.parametrize(
    "value", ["", "0783774", "078377DD", "ABCDEFGH", "07837744D", "0783774-", "O783774D"]
)
def test_malformed_codes_are_refused(value):
    with pytest.raises(ValidationError) as caught:
        validate_uai(value)
    assert caught.value.code == "uai_format"


def test_the_alphabet_has_no_i_o_or_q():
    assert len(UAI_ALPHABET) == 23
    assert not set("IOQ") & set(UAI_ALPHABET)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("783774D", "0783774D"),  # a spreadsheet read it as a number
        ("10005A", "10005A"),  # two zeros lost: not guessed, left to fail validation
        (" 0783774d ", "0783774D"),
        ("0783 774 D", "0783774D"),
        ("0783774D", "0783774D"),
    ],
)
def test_normalisation_restores_one_lost_leading_zero(raw, expected):
    assert normalise_uai(raw) == expected
