"""Guards for systems that sync with promo: Idempotency-Key, ETag/If-Match, upsert by external
key, and the per-caller throttle."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from leads.choices import LeadStatus
from leads.models import Investor, Lead, LeadStatusEvent
from promo.api.models import IdempotencyRecord
from promo.api.throttling import OfficerRateThrottle
from tests.factories import make_investor, make_lead

pytestmark = pytest.mark.django_db


def _lead_body(investor) -> dict:
    return {
        "investor": investor.pk,
        "name": "重试的项目",
        "industry": "electronics",
        "source_channel": "stationed",
    }


# --- Idempotency-Key --------------------------------------------------------------------------


def test_retried_post_with_the_same_key_returns_the_first_answer_and_writes_nothing(
    bureau, client_for
):
    investor = make_investor(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    first = client.post(
        "/api/v1/leads/", _lead_body(investor), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == 201
    events = LeadStatusEvent.objects.count()
    again = client.post(
        "/api/v1/leads/", _lead_body(investor), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Lead.objects.count() == 1
    assert LeadStatusEvent.objects.count() == events


def test_same_key_with_another_body_is_422_and_nothing_written(bureau, client_for):
    investor = make_investor(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    client.post("/api/v1/leads/", _lead_body(investor), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = {**_lead_body(investor), "name": "另一个项目"}
    response = client.post("/api/v1/leads/", other, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Lead.objects.count() == 1


def test_a_refused_post_is_not_remembered_so_a_corrected_retry_runs(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    url = f"/api/v1/leads/{lead.pk}/transition/"
    refused = client.post(url, {"to_status": "dropped"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert refused.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    body = {"to_status": "dropped", "reason": "投资方战略调整"}
    done = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert done.status_code == 200
    replay = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    # Without the key this retry would be a 409 (dropped is terminal); with it, the first answer.
    assert replay.status_code == 200
    assert replay.json()["status"] == LeadStatus.DROPPED
    assert lead.status_events.filter(to_status=LeadStatus.DROPPED).count() == 1


def test_keys_belong_to_their_caller(bureau, client_for):
    for officer in (bureau.shanghai_officer, bureau.teammate):
        # One investor each: two open leads of one unit on one investor would be a same-unit
        # duplicate (decision 0013); the key is what is shared here.
        investor = make_investor(officer)
        response = client_for(officer).post(
            "/api/v1/leads/", _lead_body(investor), format="json", HTTP_IDEMPOTENCY_KEY="shared"
        )
        assert response.status_code == 201
    assert Lead.objects.count() == 2


def test_an_overlong_key_is_400(bureau, client_for):
    investor = make_investor(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_officer).post(
        "/api/v1/leads/", _lead_body(investor), format="json", HTTP_IDEMPOTENCY_KEY="k" * 300
    )
    assert response.status_code == 400
    assert not Lead.objects.exists()


# --- ETag / If-Match --------------------------------------------------------------------------


def test_detail_has_an_etag_and_if_none_match_gives_304(bureau, client_for):
    investor = make_investor(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    first = client.get(f"/api/v1/investors/{investor.pk}/")
    etag = first.headers["ETag"]
    assert etag.startswith('"')
    again = client.get(f"/api/v1/investors/{investor.pk}/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304


def test_patch_with_a_stale_if_match_is_412_and_nothing_changes(bureau, client_for):
    investor = make_investor(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    etag = client.get(f"/api/v1/investors/{investor.pk}/").headers["ETag"]
    # Someone else edits the investor in between.
    changed = client_for(bureau.teammate).patch(
        f"/api/v1/investors/{investor.pk}/", {"city": "苏州"}, format="json"
    )
    assert changed.headers["ETag"] != etag
    response = client.patch(
        f"/api/v1/investors/{investor.pk}/", {"city": "无锡"}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"
    assert response.json()["etag"] == changed.headers["ETag"]
    investor.refresh_from_db()
    assert investor.city == "苏州"


def test_patch_with_the_current_etag_succeeds_and_returns_the_new_one(bureau, client_for):
    investor = make_investor(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    etag = client.get(f"/api/v1/investors/{investor.pk}/").headers["ETag"]
    response = client.patch(
        f"/api/v1/investors/{investor.pk}/", {"city": "无锡"}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200
    assert response.headers["ETag"] != etag
    assert (
        client.get(f"/api/v1/investors/{investor.pk}/").headers["ETag"] == response.headers["ETag"]
    )


def test_a_stale_if_match_also_guards_actions(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    etag = client.get(f"/api/v1/leads/{lead.pk}/").headers["ETag"]
    client.post(f"/api/v1/leads/{lead.pk}/transition/", {"to_status": "valid"}, format="json")
    response = client.post(
        f"/api/v1/leads/{lead.pk}/transition/",
        {"to_status": "dropped", "reason": "重复"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 412
    lead.refresh_from_db()
    assert lead.status == LeadStatus.VALID


# --- Upsert by (source_system, external_id) ---------------------------------------------------


def test_upsert_creates_once_then_updates(bureau, client_for):
    client = client_for(bureau.chief)
    url = "/api/v1/investors/by-external-id/samr/91310000X/"
    body = {"name": "上海同步科技有限公司", "industry": "digital", "unit": bureau.shanghai.pk}
    created = client.put(url, body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["source_system"] == "samr"
    updated = client.put(url, {**body, "city": "上海"}, format="json")
    assert updated.status_code == 200, updated.json()
    assert updated.json()["id"] == created.json()["id"]
    assert Investor.objects.count() == 1
    assert Investor.objects.get().city == "上海"


def test_upsert_of_a_key_held_outside_the_scope_is_409_and_nothing_changes(bureau, client_for):
    make_investor(bureau.outsider, source_system="samr", external_id="SZ-1", city="深圳")
    response = client_for(bureau.shanghai_officer).put(
        "/api/v1/investors/by-external-id/samr/SZ-1/",
        {"name": "深圳某公司", "industry": "digital", "city": "上海"},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert Investor.objects.get().city == "深圳"


def test_upsert_with_bad_input_is_400_and_nothing_written(bureau, client_for):
    response = client_for(bureau.chief).put(
        "/api/v1/investors/by-external-id/samr/X1/",
        {"name": "某公司", "industry": "not-an-industry"},
        format="json",
    )
    assert response.status_code == 400
    assert "industry" in response.json()["fields"]
    assert not Investor.objects.exists()


# --- Throttling -------------------------------------------------------------------------------


def test_a_caller_over_budget_gets_429_with_retry_after(bureau, client_for, monkeypatch):
    monkeypatch.setattr(OfficerRateThrottle, "rate", "3/min", raising=False)
    officer = bureau.shanghai_officer
    cache.delete(f"throttle_officer_{officer.pk}")
    client = client_for(officer)
    codes = [client.get("/api/v1/leads/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.get("/api/v1/leads/")
    assert response.json()["code"] == "throttled"
    assert int(response.headers["Retry-After"]) > 0
    # Another caller has its own budget.
    assert client_for(bureau.teammate).get("/api/v1/leads/").status_code == 200
    cache.delete(f"throttle_officer_{officer.pk}")


# --- Bulk upsert ------------------------------------------------------------------------------

BULK = "/api/v1/investors/bulk-upsert/"


def _row(n: int, **fields) -> dict:
    return {
        "source_system": "samr",
        "external_id": f"E-{n}",
        "name": f"批量客商{n}号有限公司",
        "industry": "digital",
        **fields,
    }


def test_bulk_upsert_creates_then_updates_the_same_records(bureau, client_for):
    client = client_for(bureau.shanghai_officer)
    first = client.post(BULK, {"rows": [_row(1), _row(2), _row(3)]}, format="json")
    assert first.status_code == 200, first.json()
    assert [r["created"] for r in first.json()["results"]] == [True, True, True]
    again = client.post(BULK, {"rows": [_row(1, city="上海"), _row(2), _row(3)]}, format="json")
    assert [r["created"] for r in again.json()["results"]] == [False, False, False]
    assert Investor.objects.count() == 3
    assert Investor.objects.get(external_id="E-1").city == "上海"


def test_bulk_upsert_is_all_or_nothing_and_names_row_and_field(bureau, client_for):
    make_investor(bureau.outsider, source_system="samr", external_id="E-9")
    rows = [
        _row(1),
        _row(2, industry="warp-drives"),
        _row(3, credit_code="91310000MA1FL0000X"),
        _row(9),
        _row(4, unknown_field=1),
    ]
    response = client_for(bureau.shanghai_officer).post(BULK, {"rows": rows}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "bulk_rejected"
    assert set(body["fields"]) == {
        "rows[1].industry",
        "rows[2].credit_code",
        "rows[3].non_field_errors",
        "rows[4].unknown_field",
    }
    # Row 0 was valid, but nothing of the batch is written.
    assert list(Investor.objects.values_list("external_id", flat=True)) == ["E-9"]


def test_bulk_upsert_refuses_empty_and_oversized_batches(bureau, client_for):
    client = client_for(bureau.shanghai_officer)
    for body in ({"rows": []}, {"rows": [_row(n) for n in range(1001)]}, {"rows": "all"}, []):
        response = client.post(BULK, body, format="json")
        assert response.status_code == 400, body
    assert not Investor.objects.exists()


# --- issue #13, finding 6: no existence oracle -------------------------------------------------


def test_an_out_of_scope_external_key_gets_the_generic_conflict_naming_nothing(bureau, client_for):
    import json

    make_investor(
        bureau.outsider, name="深圳隐秘科技有限公司", source_system="samr", external_id="SZ-1"
    )
    client = client_for(bureau.shanghai_officer)
    before = list(Investor.objects.values_list("pk", "name", "city", "unit"))
    answer = client.put(
        "/api/v1/investors/by-external-id/samr/SZ-1/",
        {"name": "上海新登记有限公司", "industry": "digital", "city": "上海"},
        format="json",
    )
    assert answer.status_code == 409
    text = json.dumps(answer.json(), ensure_ascii=False)
    for leak in ("其他单位", "深圳", "隐秘", "SZ-1"):
        assert leak not in text, leak
    # The same words as any conflict a database rule catches: nothing tells them apart.
    assert answer.json() == {
        "code": "conflict",
        "message": "该请求与已有记录冲突（如来源系统与外部编号已被使用），未做任何修改。",
    }
    bulk = client.post(
        "/api/v1/investors/bulk-upsert/",
        {
            "rows": [
                {
                    "source_system": "samr",
                    "external_id": "SZ-1",
                    "name": "上海新登记有限公司",
                    "industry": "digital",
                }
            ]
        },
        format="json",
    )
    assert "其他单位" not in json.dumps(bulk.json(), ensure_ascii=False)
    assert list(Investor.objects.values_list("pk", "name", "city", "unit")) == before
