"""Intermediary rewards (中介奖励): proposed → approved → paid, through one service that reads
REWARD_TRANSITIONS, checks who decides, and appends an event; the admin only calls it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import InternalError, connection, transaction
from django.urls import reverse

from leads.choices import REWARD_TRANSITIONS, RewardStatus, reward_can_transition
from leads.models import Intermediary, IntermediaryReward, IntermediaryRewardStatusEvent
from leads.services import (
    intermediary_reward_approve,
    intermediary_reward_pay,
    intermediary_reward_propose,
    intermediary_reward_transition,
)
from promo.core.errors import PermissionDenied, TransitionNotAllowed
from promo.core.services import today
from tests.factories import make_project


@pytest.fixture
def reward(bureau) -> IntermediaryReward:
    officer = bureau.shanghai_officer
    project = make_project(officer)
    intermediary = Intermediary.objects.create(name="张先生", kind="person", unit=bureau.shanghai)
    return intermediary_reward_propose(
        actor=officer, intermediary=intermediary, project=project, amount=Decimal("20")
    )


def _state(reward: IntermediaryReward) -> tuple:
    reward.refresh_from_db()
    return (
        reward.status,
        reward.decided_by_id,
        reward.decided_on,
        reward.status_events.count(),
    )


def _events(reward: IntermediaryReward) -> list[tuple]:
    return list(reward.status_events.values_list("from_status", "to_status", "actor_id", "reason"))


@pytest.mark.django_db
def test_proposing_records_the_proposer_and_a_first_event(bureau, reward):
    assert (reward.status, reward.proposed_by) == (RewardStatus.PROPOSED, bureau.shanghai_officer)
    assert _events(reward) == [("", RewardStatus.PROPOSED, bureau.shanghai_officer.pk, "")]


@pytest.mark.django_db
def test_the_unit_head_approves_and_the_chief_pays_each_step_leaving_an_event(bureau, reward):
    intermediary_reward_approve(reward=reward, actor=bureau.shanghai_head, reason="已核到位资金")
    reward.refresh_from_db()
    assert reward.status == RewardStatus.APPROVED
    assert (reward.decided_by, reward.decided_on) == (bureau.shanghai_head, today())
    intermediary_reward_pay(reward=reward, actor=bureau.chief, reason="财政已拨付")
    reward.refresh_from_db()
    assert reward.status == RewardStatus.PAID
    assert _events(reward)[1:] == [
        (RewardStatus.PROPOSED, RewardStatus.APPROVED, bureau.shanghai_head.pk, "已核到位资金"),
        (RewardStatus.APPROVED, RewardStatus.PAID, bureau.chief.pk, "财政已拨付"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["shanghai_officer", "teammate", "outsider"])
def test_an_officer_who_is_not_chief_or_head_cannot_approve_and_nothing_changes(
    bureau, reward, who
):
    before = _state(reward)
    with pytest.raises(PermissionDenied):
        intermediary_reward_approve(reward=reward, actor=getattr(bureau, who))
    assert _state(reward) == before


@pytest.mark.django_db
def test_the_head_of_another_unit_cannot_approve(bureau, reward):
    from officers.choices import Role
    from tests.factories import make_officer

    shenzhen_head = make_officer(bureau.shenzhen, role=Role.UNIT_HEAD)
    before = _state(reward)
    with pytest.raises(PermissionDenied):
        intermediary_reward_approve(reward=reward, actor=shenzhen_head)
    assert _state(reward) == before


@pytest.mark.django_db
def test_a_chief_who_proposed_a_reward_cannot_approve_it(bureau):
    project = make_project(bureau.shanghai_officer)
    intermediary = Intermediary.objects.create(name="李女士", kind="person", unit=bureau.shanghai)
    own = intermediary_reward_propose(
        actor=bureau.chief, intermediary=intermediary, project=project, amount=Decimal("5")
    )
    before = _state(own)
    with pytest.raises(PermissionDenied):
        intermediary_reward_approve(reward=own, actor=bureau.chief)
    assert _state(own) == before
    intermediary_reward_approve(reward=own, actor=bureau.shanghai_head)
    assert _state(own)[0] == RewardStatus.APPROVED


@pytest.mark.django_db
def test_paying_a_reward_not_yet_approved_is_refused_and_nothing_changes(bureau, reward):
    before = _state(reward)
    with pytest.raises(TransitionNotAllowed):
        intermediary_reward_pay(reward=reward, actor=bureau.chief)
    assert _state(reward) == before


@pytest.mark.django_db
def test_a_paid_reward_has_no_way_out(bureau, reward):
    intermediary_reward_approve(reward=reward, actor=bureau.chief)
    intermediary_reward_pay(reward=reward, actor=bureau.chief)
    before = _state(reward)
    for target in RewardStatus.values:
        with pytest.raises(TransitionNotAllowed):
            intermediary_reward_transition(reward=reward, actor=bureau.chief, to_status=target)
    assert _state(reward) == before


@pytest.mark.django_db
def test_the_service_reads_the_transition_table(bureau, reward, monkeypatch):
    monkeypatch.setitem(REWARD_TRANSITIONS, RewardStatus.PROPOSED, frozenset())
    assert not reward_can_transition(RewardStatus.PROPOSED, RewardStatus.APPROVED)
    with pytest.raises(TransitionNotAllowed):
        intermediary_reward_approve(reward=reward, actor=bureau.chief)
    assert reward.can_transition_to(RewardStatus.APPROVED) is False


@pytest.mark.django_db
def test_reward_status_events_are_append_only_even_for_raw_sql(reward):
    event = reward.status_events.get()
    with pytest.raises(InternalError) as err, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE leads_intermediaryrewardstatusevent SET to_status = 'paid' WHERE id = %s",
                [event.pk],
            )
    assert "append_only" in str(err.value)
    with pytest.raises(InternalError), transaction.atomic():
        IntermediaryRewardStatusEvent.objects.filter(pk=event.pk).delete()


# --- the admin ----------------------------------------------------------------------------


def _staff(officer):
    officer.user_permissions.add(
        *Permission.objects.filter(
            codename__in=("view_intermediaryreward", "change_intermediaryreward")
        )
    )
    return officer


@pytest.mark.django_db
def test_the_admin_shows_the_status_read_only(client, bureau, reward, settings):
    settings.SECURE_SSL_REDIRECT = False
    client.force_login(_staff(bureau.chief))
    url = reverse("admin:leads_intermediaryreward_change", args=[reward.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert "status" not in form.fields
    assert "decided_by" not in form.fields
    client.post(url, {"amount": "20", "note": "", "status": RewardStatus.PAID})
    reward.refresh_from_db()
    assert reward.status == RewardStatus.PROPOSED


@pytest.mark.django_db
def test_the_admin_actions_go_through_the_service(client, bureau, reward, settings):
    settings.SECURE_SSL_REDIRECT = False
    changelist = reverse("admin:leads_intermediaryreward_changelist")
    client.force_login(_staff(bureau.shanghai_officer))
    client.post(changelist, {"action": "approve_rewards", "_selected_action": [reward.pk]})
    assert _state(reward)[0] == RewardStatus.PROPOSED  # the proposer: refused
    client.force_login(_staff(bureau.shanghai_head))
    client.post(changelist, {"action": "approve_rewards", "_selected_action": [reward.pk]})
    assert _state(reward)[0] == RewardStatus.APPROVED
    assert reward.status_events.last().actor == bureau.shanghai_head
