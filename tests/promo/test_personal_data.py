"""Personal data (个人信息, issue #16): contacts' and intermediaries' phone numbers, e-mail and
WeChat ids (and officers' phones) are encrypted at rest, in the tables and in the history
tables; masked on pages, in the admin and in the API; shown in full only through a recorded
reveal to those with a need; matched by blind index; re-encrypted by ``rotate_field_keys``."""

from __future__ import annotations

import importlib
import io
import logging

import pgtrigger
import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from leads import services as lead_services
from leads.models import Intermediary, InvestorContact
from officers.choices import Role
from officers.models import Officer
from promo.api.clients import api_client_create, api_client_set_personal_data
from promo.core import crypto
from promo.core.errors import PermissionDenied, RuleViolation
from promo.core.masking import mask
from promo.core.signals import personal_data_revealed
from tests.factories import make_investor, make_lead, make_officer, met_elsewhere

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
EMAIL = "zhangsan@example.com"
WECHAT = "wx_zhangsan88"
CLEAR = (PHONE, EMAIL, WECHAT, "zhangsan@", "wx_zhangsan")


def _raw(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def _holds_clear(rows: list[tuple]) -> list[str]:
    """Every raw cell that holds one of the clear values (or its digits)."""
    found = []
    for row in rows:
        for cell in row:
            text = str(cell or "")
            if any(value in text for value in CLEAR) or "12345678" in text:
                found.append(text)
    return found


@pytest.fixture
def contact(bureau):
    investor = make_investor(bureau.shanghai_officer, "华鑫精密电子有限公司")
    make_lead(bureau.shanghai_officer, investor=investor)
    return lead_services.contact_add(
        actor=bureau.shanghai_officer,
        investor=investor,
        name="张三",
        phone=PHONE,
        email=EMAIL,
        wechat=WECHAT,
    )


@pytest.fixture
def revealed():
    """The ``personal_data_revealed`` signals sent during the test."""
    sent: list[dict] = []

    def receiver(sender, **kwargs):
        sent.append(kwargs)

    personal_data_revealed.connect(receiver)
    yield sent
    personal_data_revealed.disconnect(receiver)


# --- at rest -------------------------------------------------------------------------------


def test_the_raw_columns_hold_no_phone_number_email_or_wechat(bureau, contact):
    rows = _raw(
        "SELECT phone, email, wechat FROM leads_investorcontact WHERE id = %s", [contact.pk]
    )
    assert not _holds_clear(rows)
    assert all(cell.startswith(crypto.PREFIX) for cell in rows[0])
    # Read through the model, the values are the clear ones.
    again = InvestorContact.objects.get(pk=contact.pk)
    assert (again.phone, again.email, again.wechat) == (PHONE, EMAIL, WECHAT)
    broker = Intermediary.objects.create(
        name="老周", kind="agency", unit=bureau.shanghai, phone=PHONE, email=EMAIL
    )
    assert not _holds_clear(
        _raw("SELECT phone, email FROM leads_intermediary WHERE id = %s", [broker.pk])
    )
    officer = make_officer(bureau.shanghai, username="phone_owner")
    officer.phone = PHONE
    officer.save(update_fields=["phone"])
    assert not _holds_clear(_raw("SELECT phone FROM officers_officer WHERE id = %s", [officer.pk]))
    assert Officer.objects.get(pk=officer.pk).phone == PHONE


def test_the_history_tables_hold_ciphertext_only(bureau, contact):
    lead_services.contact_update(
        actor=bureau.shanghai_officer,
        contact=contact,
        changes={"phone": "13987654321", "title": "总经理"},
    )
    rows = _raw(
        "SELECT phone, email, wechat FROM leads_investorcontactevent WHERE pgh_obj_id = %s",
        [contact.pk],
    )
    assert len(rows) == 2  # insert, update
    assert not _holds_clear(rows) and "13987654321" not in str(rows)
    assert all(cell.startswith(crypto.PREFIX) for row in rows for cell in row)


def test_a_save_that_changes_no_personal_datum_keeps_its_ciphertext(bureau, contact):
    before = _raw("SELECT phone FROM leads_investorcontact WHERE id = %s", [contact.pk])
    events = _raw("SELECT count(*) FROM leads_investorcontactevent")[0][0]
    again = InvestorContact.objects.get(pk=contact.pk)
    again.save()
    assert _raw("SELECT phone FROM leads_investorcontact WHERE id = %s", [contact.pk]) == before
    assert _raw("SELECT count(*) FROM leads_investorcontactevent")[0][0] == events


def test_an_encrypted_field_refuses_a_lookup_by_its_content(contact):
    with pytest.raises(Exception, match="blind index"):
        list(InvestorContact.objects.filter(phone=PHONE))
    assert InvestorContact.objects.filter(phone="").count() == 0


def test_the_data_migration_encrypts_old_rows_and_their_history(bureau, contact):
    """Rows written in clear before encryption (as the table and its history held them) are
    encrypted by the migration, their blind index filled, and no history row is added."""
    with pgtrigger.ignore("leads.InvestorContact:update_update"), connection.cursor() as cur:
        cur.execute(
            "UPDATE leads_investorcontact SET phone = %s, email = %s, wechat = %s, "
            "phone_index = '', email_index = '' WHERE id = %s",
            [PHONE, EMAIL, WECHAT, contact.pk],
        )
        cur.execute(
            "UPDATE leads_investorcontactevent SET phone = %s, email = %s, wechat = %s "
            "WHERE pgh_obj_id = %s",
            [PHONE, EMAIL, WECHAT, contact.pk],
        )
    events = _raw("SELECT count(*) FROM leads_investorcontactevent")[0][0]
    assert _holds_clear(_raw("SELECT phone FROM leads_investorcontact"))  # the set-up worked
    migration = importlib.import_module("leads.migrations.0020_personal_data_encrypt_existing_rows")
    migration.encrypt(None, None)
    assert not _holds_clear(_raw("SELECT phone, email, wechat FROM leads_investorcontact"))
    assert not _holds_clear(_raw("SELECT phone, email, wechat FROM leads_investorcontactevent"))
    assert _raw("SELECT count(*) FROM leads_investorcontactevent")[0][0] == events
    again = InvestorContact.objects.get(pk=contact.pk)
    assert (again.phone, again.email, again.wechat) == (PHONE, EMAIL, WECHAT)
    assert again.phone_index == crypto.blind_index("phone", PHONE)


# --- key rotation ------------------------------------------------------------------------


def test_rotation_re_encrypts_every_row_under_the_new_key(bureau, contact, settings):
    old = list(settings.PROMO_FIELD_KEYS)
    new = Fernet.generate_key().decode()
    settings.PROMO_FIELD_KEYS = [new, *old]
    # Both keys decrypt: nothing to do before the rotation to keep reading.
    assert InvestorContact.objects.get(pk=contact.pk).phone == PHONE
    events = _raw("SELECT count(*) FROM leads_investorcontactevent")[0][0]
    call_command("rotate_field_keys", stdout=io.StringIO())
    settings.PROMO_FIELD_KEYS = [new]  # the old key removed
    again = InvestorContact.objects.get(pk=contact.pk)
    assert (again.phone, again.email, again.wechat) == (PHONE, EMAIL, WECHAT)
    history = _raw(
        "SELECT phone FROM leads_investorcontactevent WHERE pgh_obj_id = %s", [contact.pk]
    )
    assert [crypto.decrypt(row[0]) for row in history] == [PHONE]
    assert _raw("SELECT count(*) FROM leads_investorcontactevent")[0][0] == events
    settings.PROMO_FIELD_KEYS = old  # a key not in the list any more does not decrypt
    with pytest.raises(Exception, match="PROMO_FIELD_KEYS"):
        InvestorContact.objects.get(pk=contact.pk)


# --- masking -------------------------------------------------------------------------------


def test_one_masking_function():
    assert mask("13812345678", "phone") == "138****5678"
    assert mask("+86 138-1234-5678", "phone") == "861****5678"
    assert mask("zhangsan@example.com", "email") == "z***@example.com"
    assert mask("wx_zhangsan88", "wechat") == "w***8"
    assert mask("", "phone") == ""


def test_the_investor_page_masks_and_its_edit_form_holds_no_value(bureau, client_for, contact):
    page = client_for(bureau.shanghai_officer).get(f"/investors/{contact.investor_id}/")
    html = page.content.decode()
    assert not _holds_clear([(html,)])
    assert "138****5678" in html and "z***@example.com" in html and "w***8" in html
    assert f'action="/contacts/{contact.pk}/reveal/"' in html  # may reveal


def test_a_blank_personal_field_in_the_edit_form_keeps_the_value(bureau, client_for, contact):
    client = client_for(bureau.shanghai_officer)
    prefix = f"c{contact.pk}"
    response = client.post(
        f"/contacts/{contact.pk}/edit/",
        {f"{prefix}-name": "张三", f"{prefix}-title": "总经理", f"{prefix}-phone": ""},
    )
    assert response.status_code == 302
    again = InvestorContact.objects.get(pk=contact.pk)
    assert (again.title, again.phone, again.email) == ("总经理", PHONE, EMAIL)


# --- reveal ------------------------------------------------------------------------------


def test_reveal_shows_the_values_announces_and_logs(bureau, client_for, contact, revealed, caplog):
    client = client_for(bureau.teammate)
    with caplog.at_level(logging.INFO, logger="promo.security"):
        response = client.post(f"/contacts/{contact.pk}/reveal/", {"reason": "约见客商"})
    assert response.status_code == 200
    html = response.content.decode()
    assert PHONE in html and EMAIL in html and WECHAT in html
    assert f'name="c{contact.pk}-revealed" value="True"' in html  # the form holds the values
    assert [(s["officer"], s["obj"], s["field"], s["reason"]) for s in revealed] == [
        (bureau.teammate, contact, name, "约见客商") for name in ("phone", "email", "wechat")
    ]
    assert revealed[0]["request"] is not None
    assert "personal data revealed" in caplog.text and "约见客商" in caplog.text


def test_reveal_needs_a_reason(bureau, client_for, contact, revealed):
    response = client_for(bureau.teammate).post(f"/contacts/{contact.pk}/reveal/", {})
    assert response.status_code == 302
    assert revealed == []


def test_an_outsider_is_refused_and_nothing_is_recorded_or_changed(
    bureau, client_for, contact, revealed
):
    before = _raw("SELECT * FROM leads_investorcontact WHERE id = %s", [contact.pk])
    events = _raw("SELECT count(*) FROM leads_investorcontactevent")[0][0]
    client = client_for(bureau.outsider)
    # Not seeing the investor: as if it did not exist.
    assert client.post(f"/contacts/{contact.pk}/reveal/", {"reason": "看看"}).status_code == 404
    # Seeing it (a visit of their unit) without a need: refused.
    met_elsewhere(bureau.outsider, contact.investor)
    page = client.get(f"/investors/{contact.investor_id}/").content.decode()
    assert "138****5678" in page and PHONE not in page
    assert f"/contacts/{contact.pk}/reveal/" not in page
    response = client.post(f"/contacts/{contact.pk}/reveal/", {"reason": "看看"})
    assert response.status_code == 403 and PHONE not in response.content.decode()
    assert revealed == []
    assert _raw("SELECT * FROM leads_investorcontact WHERE id = %s", [contact.pk]) == before
    assert _raw("SELECT count(*) FROM leads_investorcontactevent")[0][0] == events
    with pytest.raises(Exception):  # noqa: B017 - the service refuses too
        lead_services.contact_reveal(actor=bureau.outsider, contact=contact, reason="看看")
    assert revealed == []


def test_an_intermediary_is_revealed_to_its_unit_only(bureau, client_for, revealed):
    broker = Intermediary.objects.create(
        name="老周", kind="agency", unit=bureau.shanghai, phone=PHONE, email=EMAIL
    )
    mine = client_for(bureau.teammate).post(
        f"/intermediaries/{broker.pk}/reveal/", {"reason": "核对奖励"}
    )
    assert mine.status_code == 200 and PHONE in mine.content.decode()
    assert [s["field"] for s in revealed] == ["phone", "email"]
    other = client_for(bureau.outsider).post(
        f"/intermediaries/{broker.pk}/reveal/", {"reason": "看看"}
    )
    assert other.status_code == 404
    assert len(revealed) == 2


# --- blind index ---------------------------------------------------------------------------


def test_a_duplicate_contact_is_found_by_blind_index_whatever_the_format(bureau, contact):
    with pytest.raises(RuleViolation) as refused:
        lead_services.contact_add(
            actor=bureau.shanghai_officer,
            investor=contact.investor,
            name="张三（重复）",
            phone="+86 138-1234-5678",
        )
    assert "phone" in refused.value.field_errors
    found = lead_services.contacts_matching(investor=contact.investor, email="ZhangSan@Example.com")
    assert found == [contact]
    assert contact.phone_index == crypto.blind_index("phone", "138 1234 5678")
    assert PHONE not in contact.phone_index


def test_duplicate_intermediaries_by_phone(bureau):
    broker = Intermediary.objects.create(
        name="老周", kind="agency", unit=bureau.shanghai, phone=PHONE
    )
    assert lead_services.intermediaries_matching(
        actor=bureau.shanghai_officer, phone="+86 13812345678"
    ) == [broker]
    assert lead_services.intermediaries_matching(actor=bureau.outsider, phone=PHONE) == []


# --- admin and API -----------------------------------------------------------------------


def test_the_admin_masks_and_finds_by_phone(bureau, client_for, settings):
    # The admin's see-everything account: a superuser, allowed business data here (decision 0019).
    settings.PROMO_SUPERUSER_READS_BUSINESS = True
    broker = Intermediary.objects.create(
        name="老周", kind="agency", unit=bureau.shanghai, phone=PHONE, email=EMAIL
    )
    chief = bureau.chief
    chief.is_staff = True
    chief.is_superuser = True
    chief.save()
    client = client_for(chief)
    listing = client.get("/admin/leads/intermediary/").content.decode()
    assert "138****5678" in listing and not _holds_clear([(listing,)])
    found = client.get("/admin/leads/intermediary/", {"q": "138 1234 5678"}).content.decode()
    assert "老周" in found
    change = client.get(f"/admin/leads/intermediary/{broker.pk}/change/").content.decode()
    assert "138****5678" in change and not _holds_clear([(change,)])
    investor = make_investor(bureau.shanghai_officer, "华鑫精密电子有限公司")
    lead_services.contact_add(
        actor=bureau.shanghai_officer, investor=investor, name="张三", phone=PHONE, email=EMAIL
    )
    inline = client.get(f"/admin/leads/investor/{investor.pk}/change/").content.decode()
    assert "138****5678" in inline and not _holds_clear([(inline,)])
    colleague = make_officer(bureau.shanghai, username="phone_owner")
    colleague.phone = PHONE
    colleague.save(update_fields=["phone"])
    officer_page = client.get(f"/admin/officers/officer/{colleague.pk}/change/")
    assert "138****5678" in officer_page.content.decode()
    assert not _holds_clear([(officer_page.content.decode(),)])


def test_the_admin_edits_a_number_and_a_blank_field_keeps_it(bureau, client_for, settings):
    settings.PROMO_SUPERUSER_READS_BUSINESS = True
    broker = Intermediary.objects.create(
        name="老周", kind="agency", unit=bureau.shanghai, phone=PHONE, email=EMAIL
    )
    chief = bureau.chief
    chief.is_staff = chief.is_superuser = True
    chief.save()
    client = client_for(chief)
    url = f"/admin/leads/intermediary/{broker.pk}/change/"
    form = {
        "name": "老周",
        "kind": "agency",
        "organization": "",
        "notes": "",
        "unit": broker.unit_id,
    }
    form.update({"introductions-TOTAL_FORMS": "0", "introductions-INITIAL_FORMS": "0"})
    assert client.post(url, {**form, "phone": "", "email": ""}).status_code == 302
    broker.refresh_from_db()
    assert (broker.phone, broker.email) == (PHONE, EMAIL)
    assert client.post(url, {**form, "phone": "13987654321", "email": ""}).status_code == 302
    broker.refresh_from_db()
    assert (broker.phone, broker.email) == ("13987654321", EMAIL)
    assert broker.phone_index == crypto.blind_index("phone", "13987654321")


def test_the_api_masks_unless_the_client_was_granted_full_values(bureau, contact, revealed):
    session = APIClient()
    session.force_login(bureau.shanghai_officer)
    detail = session.get(f"/api/v1/investors/{contact.investor_id}/").json()
    assert detail["contacts"][0]["phone"] == "138****5678"
    assert detail["contacts"][0]["email"] == "z***@example.com"
    assert revealed == []
    # API clients are the security administrator's (三员分立, decision 0019).
    security_admin = make_officer(None, role=Role.SECURITY_ADMIN, username="anquan")
    client, token = api_client_create(
        actor=security_admin, name="发改项目库", officer=bureau.shanghai_officer, access="read"
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get(f"/api/v1/investors/{contact.investor_id}/").json()["contacts"][0]["phone"] == (
        "138****5678"
    )
    api_client_set_personal_data(actor=security_admin, client=client, allowed=True)
    client.refresh_from_db()
    assert client.personal_data_set_by == security_admin
    full = api.get(f"/api/v1/investors/{contact.investor_id}/").json()["contacts"][0]
    assert (full["phone"], full["email"], full["wechat"]) == (PHONE, EMAIL, WECHAT)
    assert {(s["field"], s["reason"]) for s in revealed} == {
        ("phone", "api:发改项目库"),
        ("email", "api:发改项目库"),
        ("wechat", "api:发改项目库"),
    }


def test_the_api_intermediary_list_masks_in_a_fixed_number_of_queries(bureau):
    session = APIClient()
    session.force_login(bureau.shanghai_officer)
    Intermediary.objects.create(name="老周", kind="agency", unit=bureau.shanghai, phone=PHONE)
    with CaptureQueriesContext(connection) as one:
        first = session.get("/api/v1/intermediaries/").json()
    for n in range(5):
        Intermediary.objects.create(
            name=f"中介{n}", kind="agency", unit=bureau.shanghai, phone=f"1390000000{n}"
        )
    with CaptureQueriesContext(connection) as six:
        many = session.get("/api/v1/intermediaries/").json()
    assert [row["phone"] for row in first["results"]] == ["138****5678"]
    assert len(many["results"]) == 6 and all("****" in r["phone"] for r in many["results"])
    assert len(six) == len(one)


# --- imports -----------------------------------------------------------------------------


def test_an_import_encrypts_and_matches_its_contact_by_phone(bureau):
    from promo.imports.choices import ImportKind
    from tests.imports.files import xlsx
    from tests.imports.test_import import checked, commit

    me = bureau.shanghai_officer
    header = ["客商名称", "统一社会信用代码", "行业", "国别/地区", "联系人", "联系电话"]
    first = [header, ["苏州华鑫电子有限公司", "", "电子信息", "境内", "王经理", PHONE]]
    commit(checked(me, xlsx(first), ImportKind.INVESTORS), me)
    contact = InvestorContact.objects.get()
    assert contact.phone == PHONE
    assert not _holds_clear(_raw("SELECT phone FROM leads_investorcontact"))
    assert not _holds_clear(_raw("SELECT phone FROM leads_investorcontactevent"))
    # The same person under another name, the number written otherwise: matched, not added.
    again = [header, ["苏州华鑫电子有限公司", "", "数字经济", "境内", "王总", "+86 138 1234 5678"]]
    commit(checked(me, xlsx(again), ImportKind.INVESTORS), me)
    assert InvestorContact.objects.count() == 1


def test_only_the_security_administrator_grants_a_client_full_values(bureau):
    security_admin = make_officer(None, role=Role.SECURITY_ADMIN, username="anquan")
    client, _token = api_client_create(
        actor=security_admin, name="统计局", officer=bureau.shanghai_officer, access="read"
    )
    for officer in (bureau.chief, bureau.shanghai_head):
        with pytest.raises(PermissionDenied):
            api_client_set_personal_data(actor=officer, client=client, allowed=True)
    client.refresh_from_db()
    assert not client.reads_personal_data and client.personal_data_set_by is None
