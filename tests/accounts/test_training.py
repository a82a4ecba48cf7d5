"""Managers record agents' training (command and admin); it gates the dialer."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import TrainingAcknowledgement
from accounts.services import training_current_until


def test_record_training_makes_agents_current(agent, manager, capsys):
    assert training_current_until(agent=agent) is None
    call_command("record_training", agent.username, "--by", manager.username, "--note", "TCPA course v3")
    assert training_current_until(agent=agent) is not None
    ack = TrainingAcknowledgement.objects.get()
    assert (ack.recorded_by, ack.note) == (manager, "TCPA course v3")
    assert ack.history.first().history_user == manager
    assert "valid until" in capsys.readouterr().out


def test_record_training_refuses_unknown_users_and_non_agents_and_records_nothing(agent, manager):
    with pytest.raises(CommandError, match=r"no user 'ghost'.*'mike\.manager' is not in Agents"):
        call_command("record_training", agent.username, "ghost", manager.username)
    assert not TrainingAcknowledgement.objects.exists()


def test_a_manager_records_training_in_the_admin_and_cannot_rewrite_it(client, manager, agent):
    client.force_login(manager)
    answer = client.post(
        "/admin/accounts/trainingacknowledgement/add/",
        {
            "agent": agent.pk,
            "acknowledged_at_0": "2026-11-20",
            "acknowledged_at_1": "09:00:00",
            "note": "onboarding",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    ack = TrainingAcknowledgement.objects.get()
    assert (ack.agent, ack.recorded_by) == (agent, manager)
    page = client.get(f"/admin/accounts/trainingacknowledgement/{ack.pk}/change/")
    assert b'name="note"' not in page.content  # read-only
    assert client.post(f"/admin/accounts/trainingacknowledgement/{ack.pk}/delete/").status_code == 403
