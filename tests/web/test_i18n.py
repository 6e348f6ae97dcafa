"""English as the second language: a complete catalogue, pages in English, a per-officer choice.

The ``.mo`` files are not committed: ``make`` compiles them with ``compile_translations``.
These tests compile a private copy of ``locale/`` themselves, so they neither depend on
nor race with the copy in the working tree.
"""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import polib
import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise

from leads import services as lead_services
from officers.services import officer_set_language
from promo.core.errors import PermissionDenied, RuleViolation
from promo.core.services import today
from tests.factories import PASSWORD, make_alerts, make_investor, make_project

LOCALE_DIR = Path(django_settings.BASE_DIR) / "locale"
PO_FILE = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"

# %(name)s, %(max)d, %s, %d and the literal %% (doubled in template strings).
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")
CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]+")


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


# -- the catalogue -------------------------------------------------------------------------


def catalogue() -> polib.POFile:
    return polib.pofile(str(PO_FILE))


def test_every_message_is_translated_and_none_is_fuzzy():
    po = catalogue()
    assert len(po) > 600
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy: {fuzzy}"
    assert not po.metadata_is_fuzzy
    assert po.metadata["Language"] == "en"
    assert po.percent_translated() == 100


def test_every_model_and_field_name_is_in_the_catalogue():
    """The catalogue is extended by hand (``makemessages`` rewrites the whole file), so a
    string never added to it is missed by the test above: the admin would show a model's or
    field's Chinese name in English. Every such name of promo's own models written through
    ``gettext_lazy`` is in the catalogue, translated."""
    translated = {entry.msgid for entry in catalogue() if entry.translated()}
    base = Path(django_settings.BASE_DIR)
    missing = set()
    with translation.override(None):  # names as written (Django's own are English)
        for model in apps.get_models():
            path = Path(model._meta.app_config.path)
            if not path.is_relative_to(base) or "site-packages" in path.parts:
                continue
            opts = model._meta
            names = [
                opts.original_attrs.get(key) for key in ("verbose_name", "verbose_name_plural")
            ]
            names += [getattr(field, "verbose_name", None) for field in opts.get_fields()]
            missing |= {
                str(name)
                for name in names
                if isinstance(name, Promise)
                and CJK.search(str(name))
                and str(name) not in translated
            }
    assert not missing, f"not in locale/en/LC_MESSAGES/django.po: {sorted(missing)}"


def test_translations_keep_every_placeholder():
    wrong = []
    for entry in catalogue():
        if entry.msgid_plural:
            pairs = [(entry.msgid, entry.msgstr_plural[0])]
            pairs += [(entry.msgid_plural, s) for i, s in entry.msgstr_plural.items() if i]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        wrong += [
            (msgid, msgstr)
            for msgid, msgstr in pairs
            if placeholders(msgid) != placeholders(msgstr)
        ]
    assert not wrong


def test_translations_are_english():
    # Chinese may stay only where it is quoted as is: the language's own name in the
    # switch, or an example of what a user may type (a date written 2023年5月6日).
    chinese = []
    for entry in catalogue():
        for msgstr in [entry.msgstr, *entry.msgstr_plural.values()]:
            chinese += [run for run in CJK.findall(msgstr) if run not in entry.msgid]
    assert not chinese


# -- compiled and rendered -----------------------------------------------------------------


@pytest.fixture
def compiled(settings, tmp_path):
    """A private copy of locale/, compiled by the command, used by every page rendered."""
    copy = tmp_path / "locale"
    shutil.copytree(LOCALE_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
    # Changing LOCALE_PATHS also drops Django's cached catalogues (setting_changed).
    settings.LOCALE_PATHS = [copy]
    call_command("compile_translations", verbosity=0)
    mo_file = copy / "en" / "LC_MESSAGES" / "django.mo"
    assert mo_file.stat().st_size > 10_000
    return mo_file


def english_client(**kwargs) -> Client:
    client = Client(**kwargs)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def chinese_left(html: str, *data: str) -> list[str]:
    """Chinese text left on a page once the records' own data (names typed in Chinese) and
    the language's own name in the switch are taken out."""
    for value in (*data, "简体中文"):
        html = html.replace(value, "")
    return CJK.findall(html)


def test_compile_translations_writes_a_catalogue_gettext_reads(compiled):
    import gettext

    with compiled.open("rb") as handle:
        translations = gettext.GNUTranslations(handle)
    assert translations.gettext("登记走访") == "Log a visit"
    assert translations.ngettext("剩余 %(days)s 天", "剩余 %(days)s 天", 2) == "%(days)s days left"


def test_sign_in_page_in_english(compiled):
    html = english_client().get("/login/").content.decode()
    assert '<html lang="en">' in html
    assert "<h1>Sign in</h1>" in html
    assert "Repeated wrong passwords lock the account" in html
    assert "登录" not in html and "多次输错密码" not in html
    assert chinese_left(html) == []


def test_sign_in_page_defaults_to_chinese(compiled):
    html = Client().get("/login/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "<h1>登录</h1>" in html and "Sign in" not in html


@pytest.mark.django_db
def test_home_page_in_english_with_english_numbers_and_dates(compiled, bureau):
    me = bureau.shanghai_officer
    me.language = "en"
    me.save(update_fields=["language"])
    due = today()
    lead_services.visit_log(
        actor=me,
        kind="visit",
        visited_on=due - timedelta(days=1),
        investor=make_investor(me, name="苏州测试精密机械有限公司"),
        summary="洽谈扩产计划",
        next_step="寄送园区政策资料",
        next_step_due=due,
    )
    project = make_project(me, amount=123456, name="精密零部件扩产项目")
    client = english_client()
    client.force_login(me)

    html = client.get("/").content.decode()

    assert '<html lang="en">' in html
    assert "Log a visit" in html and "登记走访" not in html
    assert "My work" in html and "我的工作" not in html
    assert "Due today" in html and "今天到期" not in html
    assert "123,456 10k CNY" in html  # English groups thousands; Chinese does not
    # 3 Dec 2026, never the American 12/03/2026 (promo/core/formats).
    assert f"{due.day} {due.strftime('%b')} {due.year}" in html
    assert due.strftime("%m/%d/%Y") not in html
    left = chinese_left(
        html,
        me.display_name,
        "寄送园区政策资料",
        "苏州测试精密机械有限公司",
        project.name,
        project.investor.name,
    )
    # Punctuation written into the templates themselves (not translatable) is all that may stay.
    assert all(re.fullmatch(r"[＋（）：，]+", text) for text in left), left


@pytest.mark.django_db
def test_home_alert_summary_in_english_counts_every_alert_with_grouped_thousands(compiled, bureau):
    from promo.reports.choices import AlertLevel

    chief = bureau.chief
    chief.language = "en"
    chief.save(update_fields=["language"])
    make_alerts(1005, responsible=bureau.teammate, level=AlertLevel.RED)
    client = english_client()
    client.force_login(chief)
    html = client.get("/").content.decode()
    summary = html.split("<summary>")[1].split("</summary>")[0]
    assert "1,005 red items bureau-wide" in summary
    assert "Above, the 20 oldest." in html


@pytest.mark.django_db
def test_home_page_defaults_to_chinese_numbers_and_dates(compiled, bureau, client_for):
    me = bureau.shanghai_officer
    make_project(me, amount=123456)
    html = client_for(me).get("/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登记走访" in html and "Log a visit" not in html
    assert "123456 万元" in html


# -- choosing the language -----------------------------------------------------------------


def test_the_switch_in_the_top_bar_posts_to_promos_own_view(compiled):
    assert reverse("set_language") == "/language/"
    assert 'action="/language/"' in Client().get("/login/").content.decode()


@pytest.mark.django_db
def test_choosing_english_is_saved_on_the_officer_and_follows_them(compiled, bureau):
    client = Client()
    assert (
        client.post("/login/", {"username": "sh_officer", "password": PASSWORD}).status_code == 302
    )
    assert "登记走访" in client.get("/").content.decode()

    response = client.post("/language/", {"language": "en", "next": "/leads/"})

    assert response.status_code == 302 and response["Location"] == "/leads/"
    assert response.cookies["django_language"].value == "en"
    assert response.cookies["django_language"]["samesite"] == "Lax"
    bureau.shanghai_officer.refresh_from_db()
    assert bureau.shanghai_officer.language == "en"
    assert "Log a visit" in client.get("/").content.decode()

    # Another device: a new session, no cookie; signing in brings the saved language.
    phone = Client()
    assert (
        phone.post("/login/", {"username": "sh_officer", "password": PASSWORD}).status_code == 302
    )
    html = phone.get("/").content.decode()
    assert '<html lang="en">' in html and "Log a visit" in html and "登记走访" not in html

    # And back to Chinese.
    phone.post("/language/", {"language": "zh-hans", "next": "/"})
    bureau.shanghai_officer.refresh_from_db()
    assert bureau.shanghai_officer.language == "zh-hans"
    assert "登记走访" in phone.get("/").content.decode()


@pytest.mark.django_db
def test_anonymous_choice_only_sets_the_cookie(compiled, bureau):
    client = Client()
    response = client.post("/language/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert "<h1>Sign in</h1>" in client.get("/login/").content.decode()
    bureau.shanghai_officer.refresh_from_db()
    assert bureau.shanghai_officer.language == "zh-hans"


@pytest.mark.django_db
def test_unknown_language_and_foreign_next_change_nothing(bureau, client_for):
    client = client_for(bureau.shanghai_officer)
    response = client.post("/language/", {"language": "fr", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "django_language" not in response.cookies
    bureau.shanghai_officer.refresh_from_db()
    assert bureau.shanghai_officer.language == "zh-hans"


def test_the_switch_is_post_only(client):
    assert client.get("/language/").status_code == 405


@pytest.mark.django_db
def test_service_lets_an_officer_set_only_their_own_language(bureau):
    me, other = bureau.shanghai_officer, bureau.teammate
    with pytest.raises(PermissionDenied):
        officer_set_language(officer=other, actor=me, language="en")
    with pytest.raises(RuleViolation):
        officer_set_language(officer=me, actor=me, language="fr")
    officer_set_language(officer=other, actor=bureau.chief, language="en")
    other.refresh_from_db()
    me.refresh_from_db()
    assert (other.language, me.language) == ("en", "zh-hans")


def test_dates_use_each_languages_short_format(compiled):
    from django.utils import formats, translation

    day = date(2026, 9, 5)
    with translation.override("en"):
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "5 Sep 2026"
    with translation.override("zh-hans"):
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "2026年9月5日"


# -- every main page in English ------------------------------------------------------------


@pytest.mark.django_db
def test_the_main_pages_in_english_have_no_chinese_but_the_users_own_data(compiled, bureau):
    """Walk the pages a chief reads (cockpit, bulletins, notices, alerts, leads, projects) in
    English: no Chinese character may be left but the records' own names (typed by users;
    the bureau's units and officers have Chinese names), and no full-width "：" at all."""
    from django.utils import timezone as tz

    from officers.models import Officer, Unit
    from projects.services import project_create
    from promo.core.choices import Industry
    from promo.reports.choices import BulletinKind
    from promo.reports.services import alerts_evaluate, bulletin_generate, bulletin_publish
    from tests.factories import make_lead

    me = bureau.chief
    me.language = "en"
    me.save(update_fields=["language"])
    officer = bureau.shanghai_officer
    on = tz.localdate()
    lead = make_lead(
        officer, investor=make_investor(officer, name="Acme Holdings"), name="Acme lead"
    )
    project = project_create(
        actor=officer,
        investor=make_investor(officer, name="Volt Energy"),
        name="Battery Plant",
        industry=Industry.ELECTRONICS,
        contract_date=on - timedelta(days=200),
        total_investment=123456,
    )
    alerts_evaluate(on=on)
    month = (on.replace(day=1) - timedelta(days=1)).replace(day=1)
    draft = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=month)
    published = bulletin_generate(
        kind=BulletinKind.MONTHLY, period_start=month.replace(year=month.year - 1)
    )
    bulletin_publish(bulletin=published, actor=me)

    data = [
        *Unit.objects.values_list("name", flat=True),
        *Unit.objects.exclude(short_name="").values_list("short_name", flat=True),
        *[o.display_name for o in Officer.objects.all()],
        *Officer.objects.values_list("full_name", flat=True),
    ]
    # Longest first: a unit's name may contain another's.
    data.sort(key=len, reverse=True)
    client = english_client()
    client.force_login(me)
    pages = [
        "/",
        reverse("dashboard:index"),
        reverse("reports:notices"),
        reverse("reports:bulletins"),
        reverse("reports:bulletin", args=[draft.pk]),
        reverse("reports:bulletin", args=[published.pk]),
        reverse("admin:reports_bulletin_print", args=[published.pk]),
        reverse("leads:list"),
        reverse("leads:detail", args=[lead.pk]),
        reverse("projects:list"),
        reverse("projects:detail", args=[project.pk]),
    ]
    found = {}
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        # A style sheet's font names (仿宋, 黑体 for the print page) and comments are not copy.
        html = re.sub(r"<style>.*?</style>", "", response.content.decode(), flags=re.S)
        # The ideographic space indents the unit tree in the filters' options: layout, not text.
        left = chinese_left(html.replace("\u3000", " "), *data)
        # American dates (12/03/2026) are not English copy here: 3 Dec 2026.
        left += re.findall(r"\b\d{1,2}/\d{1,2}/\d{4}\b", html)
        if left:
            found[url] = sorted(set(left))
    assert found == {}
    # The bulletin's headers and note read in English, the year to date under its own head.
    html = client.get(reverse("reports:bulletin", args=[draft.pk])).content.decode()
    for text in ("Leads in hand", "New signings", "Year to date", "How units are ranked"):
        assert text in html, text
