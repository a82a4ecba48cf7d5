"""Where a callee may be: candidate time zones and US states for a number and
an address. Every candidate must allow a call (REGULATIONS.md: a mobile or
ported number's area code and the customer's address may disagree, and FL,
OK and CT presume an in-state area code means an in-state resident).

Pure and memoised; facts gathering calls these once per decision."""

import re
import re._constants as _regex_constants  # Python's own regex parser: what phonenumbers' patterns mean
import re._parser as _regex_parser
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberType
from phonenumbers import timezone as phone_timezone
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE
from phonenumbers.tzdata import TIMEZONE_DATA

from customers.places import zip_table

DEFAULT_REGION = "US"
UNKNOWN_ZONE = "Etc/Unknown"
# A number whose prefix maps to more zones than this is not tied to a place
# (toll-free and other non-geographic numbers map to dozens).
MAX_ZONES_PER_NUMBER = 6
# NANP non-geographic area codes: toll-free (8XX), premium (900), personal
# communications (5XX), Canadian non-geographic (600, 622), carrier (700) and
# US government (710) services.
NON_GEOGRAPHIC_AREA_CODES = frozenset(
    {800, 822, 833, 844, 855, 866, 877, 888, *range(880, 890), 900, 500, *range(521, 530)}
    | {533, 544, 566, 577, 588, 600, 622, 700, 710}
)
NON_GEOGRAPHIC_TYPES = frozenset(
    {
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.PERSONAL_NUMBER,
        PhoneNumberType.UAN,
        PhoneNumberType.VOICEMAIL,
        PhoneNumberType.PAGER,
    }
)


def _area_codes(text: str) -> tuple[int, ...]:
    return tuple(int(code) for code in text.split())


# NANP area codes of the US and its territories, by state. Taken from the
# phonenumbers geocoder data (tests/compliance/test_jurisdictions.py checks
# the two agree and that every geographic US area code is here); a table
# because the geocoder answers some prefixes with a city ("North Haven, CT")
# and a few area codes (203, 310, 713, 718) only at longer prefixes.
AREA_CODES_BY_STATE: dict[str, tuple[int, ...]] = {
    "AK": _area_codes("907"),
    "AL": _area_codes("205 251 256 334 659 938"),
    "AR": _area_codes("327 479 501 870"),
    "AZ": _area_codes("480 520 602 623 928"),
    "CA": _area_codes(
        "209 213 279 310 323 341 350 369 408 415 424 442 510 530 559 562 619 626 628 650 657 661 669 707 714 738 747 760 805 818 820 831 840 858 909 916 925 949 951"
    ),
    "CO": _area_codes("303 719 720 748 970 983"),
    "CT": _area_codes("203 475 860 959"),
    "DC": _area_codes("202 771"),
    "DE": _area_codes("302"),
    "FL": _area_codes(
        "239 305 321 324 352 386 407 448 561 645 656 689 727 728 754 772 786 813 850 863 904 941 954"
    ),
    "GA": _area_codes("229 404 470 478 678 706 762 770 912 943"),
    "GU": _area_codes("671"),
    "HI": _area_codes("808"),
    "IA": _area_codes("319 515 563 641 712"),
    "ID": _area_codes("208 986"),
    "IL": _area_codes("217 224 309 312 331 447 464 618 630 708 730 773 779 815 847 872"),
    "IN": _area_codes("219 260 317 463 574 765 812 930"),
    "KS": _area_codes("316 620 785 913"),
    "KY": _area_codes("270 364 502 606 859"),
    "LA": _area_codes("225 318 337 504 985"),
    "MA": _area_codes("339 351 413 508 617 774 781 857 978"),
    "MD": _area_codes("227 240 301 410 443 667"),
    "ME": _area_codes("207"),
    "MI": _area_codes("231 248 269 313 517 586 616 734 810 906 947 989"),
    "MN": _area_codes("218 320 507 612 651 763 952"),
    "MO": _area_codes("235 314 417 557 573 636 660 816 975"),
    "MP": _area_codes("670"),
    "MS": _area_codes("228 601 662 769"),
    "MT": _area_codes("406"),
    "NC": _area_codes("252 336 472 704 743 828 910 919 980 984"),
    "ND": _area_codes("701"),
    "NE": _area_codes("308 402 531"),
    "NH": _area_codes("603"),
    "NJ": _area_codes("201 551 609 640 732 848 856 862 908 973"),
    "NM": _area_codes("505 575"),
    "NV": _area_codes("702 725 775"),
    "NY": _area_codes("212 315 329 332 347 363 516 518 585 607 631 646 680 716 718 838 845 914 917 929 934"),
    "OH": _area_codes("216 220 234 283 326 330 380 419 440 513 567 614 740 937"),
    "OK": _area_codes("405 539 572 580 918"),
    "OR": _area_codes("458 503 541 971"),
    "PA": _area_codes("215 223 267 272 412 445 484 570 582 610 717 724 814 835 878"),
    "PR": _area_codes("787 939"),
    "RI": _area_codes("401"),
    "SC": _area_codes("803 821 839 843 854 864"),
    "SD": _area_codes("605"),
    "TN": _area_codes("423 615 629 731 865 901 931"),
    "TX": _area_codes(
        "210 214 254 281 325 346 361 409 430 432 469 512 682 713 726 737 806 817 830 832 903 915 936 940 945 956 972 979"
    ),
    "UT": _area_codes("385 435 801"),
    "VA": _area_codes("276 434 540 571 686 703 757 804 826 948"),
    "VI": _area_codes("340"),
    "VT": _area_codes("802"),
    "WA": _area_codes("206 253 360 425 509 564"),
    "WI": _area_codes("262 274 353 414 534 608 715 920"),
    "WV": _area_codes("304 681"),
    "WY": _area_codes("307"),
}
STATE_OF_AREA_CODE: dict[int, str] = {
    area_code: state for state, area_codes in AREA_CODES_BY_STATE.items() for area_code in area_codes
}
STATE_CODES = frozenset(AREA_CODES_BY_STATE)


@lru_cache(maxsize=65_536)
def number_parse(raw: str) -> tuple[str | None, bool]:
    """(E.164 or None when unparseable, valid and dialable), US by default."""
    if _CANONICAL_NANP.fullmatch(raw):  # already E.164 (stored numbers): as phonenumbers would print it
        return raw, number_place(raw).valid
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except (phonenumbers.NumberParseException, TypeError):
        return None, False
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, number_place(e164).valid


def number_is_possible(raw: str) -> bool:
    """Could this be a phone number at all (length and digits)? A possible
    but invalid number is still decided (``invalid_number``); an impossible
    one is bad input."""
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(raw, DEFAULT_REGION))
    except (phonenumbers.NumberParseException, TypeError):
        return False


# --- what a number says of its place, memoised by prefix ----------------------


@dataclass(frozen=True, slots=True)
class NumberPlace:
    """What phonenumbers says of a number: valid and dialable, the zones of
    its prefix (() when it is tied to no place), its area code's state."""

    valid: bool
    zones: tuple[str, ...]
    area_state: str | None


_NO_PLACE = NumberPlace(valid=False, zones=(), area_state=None)
_CANONICAL_NANP = re.compile(r"\+1[2-9]\d{9}")
_places: dict[str, NumberPlace] = {}
_PLACES_MAX = 1_000_000  # prefixes kept before starting afresh (a national base has ~200,000)


def number_place(e164: str | None) -> NumberPlace:
    """The place facts of an E.164 number, computed once per prefix.

    phonenumbers takes 50-100 µs a number, a third of a 1M-target scrub, yet
    for a NANP number its answers depend on the first few digits only: how
    many, per area code, `place_digits` reads off phonenumbers' own metadata,
    so the memo is exact for the installed version (6 digits for US area
    codes, 7 where a Caribbean plan's patterns look further). The memo holds
    prefixes and their facts, never a whole number: other numbers (rare) are
    not memoised."""
    if not e164:
        return _NO_PLACE
    if not _CANONICAL_NANP.fullmatch(e164):
        return number_place_exact(e164)  # rare: not memoised, so the memo holds no whole number
    key = e164[: 2 + place_digits(int(e164[2:5]))]
    found = _places.get(key)
    if found is None:
        if len(_places) >= _PLACES_MAX:
            _places.clear()
        found = _places[key] = number_place_exact(e164)
    return found


def number_place_exact(e164: str) -> NumberPlace:
    """`number_place` without the memo: phonenumbers on this very number."""
    try:
        number = phonenumbers.parse(e164, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return _NO_PLACE
    valid = phonenumbers.is_valid_number(number)
    area_code = _nanp_area_code(number)
    return NumberPlace(
        valid=valid,
        zones=_number_zones(number, area_code) if valid else (),
        area_state=STATE_OF_AREA_CODE.get(area_code) if area_code is not None else None,
    )


def _nanp_area_code(number: phonenumbers.PhoneNumber) -> int | None:
    national = str(number.national_number)
    if number.country_code != 1 or len(national) != 10:
        return None
    return int(national[:3])


def _number_zones(number: phonenumbers.PhoneNumber, area_code: int | None) -> tuple[str, ...]:
    if area_code in NON_GEOGRAPHIC_AREA_CODES:
        return ()
    if phonenumbers.number_type(number) in NON_GEOGRAPHIC_TYPES:
        return ()
    zones = phone_timezone.time_zones_for_number(number)
    if UNKNOWN_ZONE in zones or len(zones) > MAX_ZONES_PER_NUMBER:
        return ()
    return tuple(zones)


def number_zones(e164: str | None) -> tuple[str, ...]:
    """The zones of a number's prefix; () when it is tied to no place."""
    return number_place(e164).zones


def number_state(e164: str | None) -> str | None:
    """The US state (or territory) of a NANP number's area code."""
    return number_place(e164).area_state


@lru_cache(maxsize=1)
def _place_digits_by_area_code() -> dict[int, int]:
    """For each NANP area code, how many national digits phonenumbers reads
    to decide validity, type, region and time zones.

    Each pattern of each NANP region (its number types, general description
    and leading digits) is parsed with Python's own regex parser, and
    `_pattern_reach` bounds the last position at which it constrains a digit
    (`\\d` and `[0-9]` do not). A region with leading digits that only look
    at the area code serves the area codes those match; any other region is
    counted for every area code. The time-zone table adds its longest NANP
    prefix."""
    longest_zone_prefix = max(len(prefix) - 1 for prefix in TIMEZONE_DATA if prefix.startswith("1"))
    every_area_code = range(200, 1000)
    digits = dict.fromkeys(every_area_code, max(6, longest_zone_prefix))
    for region in COUNTRY_CODE_TO_REGION_CODE[1]:
        metadata = PhoneMetadata.metadata_for_region(region)
        if metadata is None:
            return dict.fromkeys(every_area_code, 10)
        patterns = [
            desc.national_number_pattern
            for desc in (
                metadata.general_desc,
                metadata.fixed_line,
                metadata.mobile,
                metadata.toll_free,
                metadata.premium_rate,
                metadata.shared_cost,
                metadata.personal_number,
                metadata.voip,
                metadata.pager,
                metadata.uan,
                metadata.voicemail,
            )
            if desc is not None and desc.national_number_pattern
        ]
        leading = metadata.leading_digits
        reach = max((_pattern_reach(pattern) for pattern in [*patterns, leading or ""]), default=10)
        if leading and _pattern_reach(leading) <= 3:
            served = [code for code in every_area_code if re.match(leading, f"{code}0000000")]
        else:
            served = list(every_area_code)
        for code in served:
            digits[code] = max(digits[code], min(reach, 10))
    return digits


def place_digits(area_code: int) -> int:
    """National digits that fix a NANP number's place facts (see above)."""
    return _place_digits_by_area_code().get(area_code, 10)


_UNBOUNDED = 10  # a NANP national number's length: the whole number


def _pattern_reach(pattern: str) -> int:
    """The last position (1-based) at which `pattern` constrains a digit;
    10 (the whole number) for any construct it does not know."""
    try:
        reach, _width = _reach(_regex_parser.parse(pattern))
    except (ValueError, TypeError, re.error):
        return _UNBOUNDED
    return min(reach, _UNBOUNDED)


def _any_digit(node: tuple[Any, Any]) -> bool:
    op, arg = node
    return op is _regex_constants.IN and arg in (
        [(_regex_constants.CATEGORY, _regex_constants.CATEGORY_DIGIT)],
        [(_regex_constants.RANGE, (ord("0"), ord("9")))],
    )


def _reach(sequence: Any) -> tuple[int, int]:
    """(last constrained position, longest width) of a parsed regex sequence."""
    reach = width = 0
    for node in sequence:
        op, arg = node
        if op in (_regex_constants.MAX_REPEAT, _regex_constants.MIN_REPEAT):
            _low, high, sub = arg
            if high is _regex_constants.MAXREPEAT:
                return _UNBOUNDED, _UNBOUNDED
            if len(sub) == 1 and _any_digit(sub[0]):
                width += high
                continue
            sub_reach, sub_width = _reach(sub)
            if sub_reach:
                reach = max(reach, width + sub_width * (high - 1) + sub_reach)
            width += sub_width * high
        elif op is _regex_constants.SUBPATTERN:
            sub_reach, sub_width = _reach(arg[-1])
            if sub_reach:
                reach = max(reach, width + sub_reach)
            width += sub_width
        elif op is _regex_constants.BRANCH:
            branches = [_reach(alternative) for alternative in arg[1]]
            best = max((r for r, _w in branches), default=0)
            if best:
                reach = max(reach, width + best)
            width += max((w for _r, w in branches), default=0)
        elif op in (_regex_constants.LITERAL, _regex_constants.NOT_LITERAL, _regex_constants.IN):
            width += 1
            if not _any_digit(node):
                reach = max(reach, width)
        else:  # anchors, groups by reference, look-arounds: not bounded here
            return _UNBOUNDED, _UNBOUNDED
    return reach, width


def _zip5(postal_code: str | None) -> str | None:
    if not postal_code:
        return None
    digits = postal_code.strip().split("-")[0].strip()
    return digits if len(digits) == 5 and digits.isdigit() else None


def zip_place(postal_code: str | None) -> tuple[str | None, str | None]:
    """(IANA zone, state) of a US ZIP code, (None, None) when unknown."""
    zip5 = _zip5(postal_code)
    if zip5 is None:
        return None, None
    return zip_table().get(zip5, (None, None))


def candidate_zones(*, e164: str | None, postal_code: str | None) -> tuple[str, ...]:
    """Every zone the callee may be in: the number's and the ZIP's. Sorted;
    () when none is known (toll-free, non-geographic, no ZIP)."""
    zip_zone, _state = zip_place(postal_code)
    zones = set(number_zones(e164))
    if zip_zone:
        zones.add(zip_zone)
    return tuple(sorted(zones))


def candidate_states(*, e164: str | None, state: str | None, postal_code: str | None) -> tuple[str, ...]:
    """Every US state whose rules may bind the call: the area code's, the
    address's and the ZIP's. Sorted."""
    states = set()
    area_state = number_state(e164)
    if area_state:
        states.add(area_state)
    if state and state.strip().upper() in STATE_CODES:
        states.add(state.strip().upper())
    _zone, zip_state = zip_place(postal_code)
    if zip_state:
        states.add(zip_state)
    return tuple(sorted(states))
