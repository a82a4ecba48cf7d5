"""Where a callee may be: candidate time zones and US states for a number and
an address. Every candidate must allow a call (REGULATIONS.md: a mobile or
ported number's area code and the customer's address may disagree, and FL,
OK and CT presume an in-state area code means an in-state resident).

Pure and memoised; facts gathering calls these once per decision."""

from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers import timezone as phone_timezone

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
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except (phonenumbers.NumberParseException, TypeError):
        return None, False
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, phonenumbers.is_valid_number(number)


def number_is_possible(raw: str) -> bool:
    """Could this be a phone number at all (length and digits)? A possible
    but invalid number is still decided (``invalid_number``); an impossible
    one is bad input."""
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(raw, DEFAULT_REGION))
    except (phonenumbers.NumberParseException, TypeError):
        return False


def _parsed(e164: str | None) -> phonenumbers.PhoneNumber | None:
    if not e164:
        return None
    try:
        return phonenumbers.parse(e164, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None


def _nanp_area_code(number: phonenumbers.PhoneNumber) -> int | None:
    national = str(number.national_number)
    if number.country_code != 1 or len(national) != 10:
        return None
    return int(national[:3])


@lru_cache(maxsize=65_536)
def number_zones(e164: str | None) -> tuple[str, ...]:
    """The zones of a number's prefix; () when it is tied to no place."""
    number = _parsed(e164)
    if number is None or not phonenumbers.is_valid_number(number):
        return ()
    area_code = _nanp_area_code(number)
    if area_code in NON_GEOGRAPHIC_AREA_CODES:
        return ()
    if phonenumbers.number_type(number) in NON_GEOGRAPHIC_TYPES:
        return ()
    zones = phone_timezone.time_zones_for_number(number)
    if UNKNOWN_ZONE in zones or len(zones) > MAX_ZONES_PER_NUMBER:
        return ()
    return tuple(zones)


@lru_cache(maxsize=65_536)
def number_state(e164: str | None) -> str | None:
    """The US state (or territory) of a NANP number's area code."""
    number = _parsed(e164)
    if number is None:
        return None
    return STATE_OF_AREA_CODE.get(_nanp_area_code(number))


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
