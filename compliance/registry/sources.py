"""How the rules, decisions, files and pages name a do-not-call registry
source: `"national"` (the National DNC Registry) or `"state:XX"` (the list a
state keeps, XX its two-letter code). The one module that spells these keys;
it imports nothing, so the pure decision engine reads it too.
"""

NATIONAL_KEY = "national"
_STATE_PREFIX = "state:"


def source_key(*, state: str | None) -> str:
    """The key of a state's list ("FL" -> "state:FL"), the national
    registry's when `state` is None or empty."""
    return f"{_STATE_PREFIX}{state}" if state else NATIONAL_KEY


def source_key_parse(key: str) -> str | None:
    """The state a key names ("state:fl" -> "FL"), None for the national
    registry. ValueError for a key that names no source."""
    if key == NATIONAL_KEY:
        return None
    prefix, _, state = key.partition(":")
    state = state.upper()
    if prefix + ":" != _STATE_PREFIX or len(state) != 2 or not state.isalpha() or not state.isascii():
        raise ValueError(
            f"'{key}' is not a registry source: use '{NATIONAL_KEY}' or '{_STATE_PREFIX}XX' (e.g. state:FL)."
        )
    return state


def source_describe(key: str) -> str:
    """A source in words, for people: "the National Do-Not-Call Registry",
    "the TX state do-not-call list"."""
    state = source_key_parse(key)
    return "the National Do-Not-Call Registry" if state is None else f"the {state} state do-not-call list"
