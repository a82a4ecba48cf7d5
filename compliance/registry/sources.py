"""How the rules, decisions, files and pages name a registry source:
`"national"` (the National DNC Registry), `"state:XX"` (the list a state
keeps, XX its two-letter code) or `"litigator"` (a list of numbers of people
who file TCPA suits: no do-not-call registry, and never read as one). The one
module that spells these keys; it imports nothing, so the pure decision
engine reads it too.
"""

NATIONAL_KEY = "national"
LITIGATOR_KEY = "litigator"
_STATE_PREFIX = "state:"
# RegistrySource.Kind's values, spelled here for the modules that cannot import models.
KIND_NATIONAL, KIND_STATE, KIND_LITIGATOR = "national", "state", "litigator"


def source_key(*, state: str | None) -> str:
    """The key of a state's list ("FL" -> "state:FL"), the national
    registry's when `state` is None or empty."""
    return f"{_STATE_PREFIX}{state}" if state else NATIONAL_KEY


def source_key_of(kind: str, state: str) -> str:
    """A source's key from its kind and state columns ("state", "FL" ->
    "state:FL"). ValueError for a kind this module does not know: a source of
    an unknown kind is never read as the national registry."""
    if kind == KIND_NATIONAL:
        return NATIONAL_KEY
    if kind == KIND_STATE:
        return source_key(state=state)
    if kind == KIND_LITIGATOR:
        return LITIGATOR_KEY
    raise ValueError(f"'{kind}' is not a kind of registry source.")


def source_kind_parse(key: str) -> tuple[str, str]:
    """(kind, state) of a key: ("national", ""), ("state", "FL") for
    "state:fl", ("litigator", ""). ValueError for a key that names no source."""
    if key == LITIGATOR_KEY:
        return KIND_LITIGATOR, ""
    state = source_key_parse(key)
    return (KIND_NATIONAL, "") if state is None else (KIND_STATE, state)


def source_key_parse(key: str) -> str | None:
    """The state a do-not-call key names ("state:fl" -> "FL"), None for the
    national registry. ValueError for a key that names no do-not-call
    registry (the litigator list is none: `source_kind_parse` reads it)."""
    if key == NATIONAL_KEY:
        return None
    prefix, _, state = key.partition(":")
    state = state.upper()
    if prefix + ":" != _STATE_PREFIX or len(state) != 2 or not state.isalpha() or not state.isascii():
        raise ValueError(
            f"'{key}' is not a registry source: use '{NATIONAL_KEY}', '{_STATE_PREFIX}XX' (e.g. state:FL) "
            f"or '{LITIGATOR_KEY}'."
        )
    return state


def source_describe(key: str) -> str:
    """A source in words, for people: "the National Do-Not-Call Registry",
    "the TX state do-not-call list", "the litigator list"."""
    if key == LITIGATOR_KEY:
        return "the litigator list"
    state = source_key_parse(key)
    return "the National Do-Not-Call Registry" if state is None else f"the {state} state do-not-call list"
