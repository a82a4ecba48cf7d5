"""The calls-made provider (core.calls): the help desk reads calls through
it, never through campaigns' models; with none registered it refuses."""

import pytest

from core import calls


def test_reading_calls_without_a_registered_provider_is_an_error_not_no_calls(monkeypatch):
    monkeypatch.setattr(calls, "_provider", None)
    with pytest.raises(calls.CallsMadeMissing):
        calls.calls_made_provider()


def test_campaigns_registers_the_provider_the_help_desk_reads():
    from campaigns.selectors import CustomerCalls

    assert isinstance(calls.calls_made_provider(), CustomerCalls)
