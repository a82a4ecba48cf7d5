"""Candidate zones and states of a number and an address. Pure: no database."""

import re

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType, geocoder
from phonenumbers.geodata import GEOCODE_DATA

from compliance import jurisdictions
from compliance.jurisdictions import (
    STATE_OF_AREA_CODE,
    candidate_states,
    candidate_zones,
    number_parse,
    number_place,
    number_place_exact,
    place_digits,
)

US_STATE_NAMES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA", "Colorado": "CO",
    "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID",
    "Illinois": "IL", "Indiana": "IN", "Iowa": "IA", "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA",
    "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN",
    "Mississippi": "MS", "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV",
    "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX",
    "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington State": "WA", "West Virginia": "WV",
    "Wisconsin": "WI", "Wyoming": "WY", "Washington D.C.": "DC", "Puerto Rico": "PR", "Guam": "GU",
    "Northern Mariana Islands": "MP", "U.S. Virgin Islands": "VI",
}  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+1 305 555 0123", ("+13055550123", True)),
        ("(305) 555-0123", ("+13055550123", True)),
        ("305.555.0123", ("+13055550123", True)),
        ("+1 800 555 0123", ("+18005550123", True)),
        ("305 555 012", ("+1305555012", False)),
        ("not a number", (None, False)),
        ("", (None, False)),
    ],
)
def test_number_parse(raw, expected):
    assert number_parse(raw) == expected


def test_a_single_zone_area_code():
    assert candidate_zones(e164="+13055550123", postal_code=None) == ("America/New_York",)


@pytest.mark.parametrize("area_code", [208, 605, 701, 709, 775, 879, 907, 986])
def test_multi_zone_area_codes_give_every_zone(area_code):
    e164, valid = number_parse(f"+1{area_code}5550123")
    assert valid
    assert len(candidate_zones(e164=e164, postal_code=None)) >= 2


def test_208_spans_mountain_and_pacific():
    assert candidate_zones(e164="+12085550123", postal_code=None) == ("America/Boise", "America/Los_Angeles")


@pytest.mark.parametrize("area_code", [800, 833, 844, 855, 866, 877, 888, 900])
def test_toll_free_and_premium_numbers_have_no_zone(area_code):
    assert candidate_zones(e164=f"+1{area_code}5550123", postal_code=None) == ()
    assert candidate_states(e164=f"+1{area_code}5550123", state=None, postal_code=None) == ()


def test_unknown_numbers_have_no_zone():
    assert candidate_zones(e164=None, postal_code=None) == ()
    assert candidate_zones(e164="+1555", postal_code=None) == ()


def test_the_zip_adds_its_zone_and_state():
    assert candidate_zones(e164="+13055550123", postal_code="75201") == (
        "America/Chicago",
        "America/New_York",
    )
    assert candidate_states(e164="+13055550123", state="TX", postal_code="75201-1234") == ("FL", "TX")


def test_a_toll_free_number_with_an_address_gets_the_address_zone():
    assert candidate_zones(e164="+18005550123", postal_code="10001") == ("America/New_York",)


def test_the_address_state_counts_even_without_a_zip():
    assert candidate_states(e164="+13055550123", state="tx", postal_code=None) == ("FL", "TX")


@pytest.mark.parametrize("postal_code", ["", "ABCDE", "123", "00000", None])
def test_an_unknown_zip_adds_nothing(postal_code):
    assert candidate_zones(e164="+13055550123", postal_code=postal_code) == ("America/New_York",)
    assert candidate_states(e164="+13055550123", state=None, postal_code=postal_code) == ("FL",)


def test_an_unknown_address_state_is_ignored():
    assert candidate_states(e164="+13055550123", state="Texas?", postal_code=None) == ("FL",)


def test_a_canadian_number_has_a_zone_but_no_us_state():
    assert candidate_zones(e164="+14165550123", postal_code=None) == ("America/Toronto",)
    assert candidate_states(e164="+14165550123", state=None, postal_code=None) == ()


@pytest.mark.parametrize(
    ("e164", "state"),
    [
        ("+12035550100", "CT"),
        ("+13105550100", "CA"),
        ("+17135550100", "TX"),
        ("+17185550100", "NY"),
        ("+12085550100", "ID"),
    ],
)
def test_area_codes_the_geocoder_answers_with_a_city(e164, state):
    assert candidate_states(e164=e164, state=None, postal_code=None) == (state,)


def _geocoder_state(description: str) -> str | None:
    if description in US_STATE_NAMES:
        return US_STATE_NAMES[description]
    match = re.fullmatch(r".*, ([A-Z]{2})", description)
    return match.group(1) if match else None


def test_the_area_code_table_agrees_with_the_geocoder():
    unanswered = set()
    for area_code, state in STATE_OF_AREA_CODE.items():
        number = phonenumbers.parse(f"+1{area_code}2345678")
        description = GEOCODE_DATA.get(f"1{area_code}", {}).get("en") or geocoder.description_for_number(
            number, "en"
        )
        if not description:
            unanswered.add(area_code)
            continue
        assert _geocoder_state(description) == state, (area_code, description)
    assert unanswered == {340}  # the US Virgin Islands: the geocoder has no text for them


def test_every_geographic_us_area_code_is_in_the_table():
    missing = []
    for area_code in range(200, 1000):
        for exchange in ("2345678", "5550123", "3456789", "7891234"):
            number = phonenumbers.parse(f"+1{area_code}{exchange}")
            if phonenumbers.is_valid_number(number):
                break
        else:
            continue
        geographic = phonenumbers.number_type(number) in (
            PhoneNumberType.FIXED_LINE,
            PhoneNumberType.MOBILE,
            PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
        if (
            geographic
            and phonenumbers.region_code_for_number(number) == "US"
            and area_code not in STATE_OF_AREA_CODE
        ):
            missing.append(area_code)
    assert missing == []


@pytest.mark.parametrize(
    "area_code", sorted({*STATE_OF_AREA_CODE, 204, 246, 268, 416, 658, 787, 800, 876, 900})
)
def test_the_place_memo_answers_as_phonenumbers_does_for_each_number(area_code):
    # number_place memoises by prefix (the bulk fact path meets 1M numbers);
    # numbers sharing a prefix must get what phonenumbers says of each one.
    jurisdictions._places.clear()
    for exchange in (212, 555, 736, 989):
        for line in ("0000", "1234", "5550", "9999"):
            e164 = f"+1{area_code}{exchange}{line}"
            assert number_place(e164) == number_place_exact(e164), e164


def test_the_prefix_length_is_read_off_phonenumbers_metadata():
    # US area codes: validity, type and zones depend on NPA-NXX; Barbados and
    # Jamaica's patterns look at a seventh digit, and the memo follows them.
    assert place_digits(305) == 6
    assert {code: place_digits(code) for code in (246, 658, 876)} == {246: 7, 658: 7, 876: 7}
    assert all(6 <= place_digits(code) <= 10 for code in range(200, 1000))


@pytest.mark.parametrize(
    "pattern, reach",
    [
        (r"[2-9]\d{6}", 1),
        (r"246521[0369]\d{3}", 7),
        (r"(?:2(?:0[1-35-9]|1[02-9]))[2-9]\d{6}", 4),
        (r"\d{10}", 0),
        (r"(?:12)+\d", 10),  # unbounded repetition: the whole number
        (r"(?=1)\d", 10),  # a look-ahead: not bounded here
    ],
)
def test_a_patterns_reach_is_the_last_digit_it_constrains(pattern, reach):
    assert jurisdictions._pattern_reach(pattern) == reach


def test_the_memo_keeps_prefixes_never_whole_numbers():
    jurisdictions._places.clear()
    number_place("+13055550123")
    number_place("+18765550123")
    number_place("+442079460000")  # not NANP: answered, not kept
    assert set(jurisdictions._places) == {"+1305555", "+18765550"}
