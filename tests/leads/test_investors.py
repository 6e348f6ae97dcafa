"""客商查重: normalised names and credit codes catch the same company under another spelling."""

from __future__ import annotations

import pytest
from django.utils import timezone

from leads.models import Investor
from leads.normalize import is_valid_credit_code, normalize_name
from leads.services import investor_create
from promo.core.errors import DuplicateSuspected, RuleViolation


def with_check_digit(first17: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    total = sum(alphabet.index(c) * w for c, w in zip(first17, weights, strict=True))
    return first17 + alphabet[(31 - total % 31) % 31]


CODE = with_check_digit("91320594MA1MABCDE")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("苏州华鑫电子有限公司", "苏州华鑫电子股份有限公司"),
        ("苏州华鑫电子有限公司", " 苏州华鑫电子（中国）有限公司 "),
        ("ＡＢＣ精密机械有限公司", "abc精密机械集团"),
        ("Bosch Automotive (Suzhou) Co., Ltd.", "bosch automotive limited"),
    ],
)
def test_names_that_differ_only_in_form_normalise_alike(a, b):
    assert normalize_name(a) == normalize_name(b) != ""


def test_credit_code_check_digit():
    assert is_valid_credit_code(CODE)
    wrong = CODE[:-1] + ("0" if CODE[-1] != "0" else "1")
    assert not is_valid_credit_code(wrong)


def test_a_close_name_is_refused_with_its_candidates_until_confirmed(bureau):
    first = investor_create(
        actor=bureau.outsider, name="苏州华鑫电子有限公司", industry="electronics", credit_code=CODE
    )
    with pytest.raises(DuplicateSuspected) as err:
        investor_create(actor=bureau.shanghai_officer, name="华鑫电子集团", industry="electronics")
    assert err.value.status == 409
    assert Investor.objects.count() == 1
    with pytest.raises(DuplicateSuspected) as err:
        investor_create(
            actor=bureau.shanghai_officer, name="苏州华鑫电子股份有限公司", industry="electronics"
        )
    # Another unit's investor: named with its holder and date, without an id to act on.
    assert err.value.extra["candidates"] == [
        {
            "id": None,
            "name": "苏州华鑫电子有限公司",
            "unit": "深圳办事处",
            "since": timezone.localdate(first.created_at).isoformat(),
            "selectable": False,
            "open_leads": [],
        }
    ]


def test_the_same_credit_code_is_never_a_second_investor_even_when_confirmed(bureau):
    investor_create(actor=bureau.outsider, name="甲公司", industry="electronics", credit_code=CODE)
    with pytest.raises(DuplicateSuspected) as err:
        investor_create(
            actor=bureau.shanghai_officer,
            name="完全不同的名字有限公司",
            industry="electronics",
            credit_code=CODE.lower(),
            confirm_distinct=True,
        )
    assert "credit_code" in err.value.field_errors
    assert Investor.objects.count() == 1


def test_same_name_without_codes_needs_a_code_to_be_confirmed_distinct(bureau):
    investor_create(actor=bureau.outsider, name="华鑫电子有限公司", industry="electronics")
    with pytest.raises(DuplicateSuspected) as err:
        investor_create(
            actor=bureau.shanghai_officer,
            name="华鑫电子股份有限公司",
            industry="electronics",
            confirm_distinct=True,
        )
    assert "credit_code" in err.value.field_errors
    other = investor_create(
        actor=bureau.shanghai_officer,
        name="华鑫电子股份有限公司",
        industry="electronics",
        credit_code=CODE,
        confirm_distinct=True,
    )
    assert other.normalized_name == "华鑫电子"
    assert Investor.objects.count() == 2


def test_an_invalid_credit_code_is_refused_on_its_field(bureau):
    with pytest.raises(RuleViolation) as err:
        investor_create(
            actor=bureau.shanghai_officer, name="乙公司", industry="electronics", credit_code="123"
        )
    assert "credit_code" in err.value.field_errors
    assert not Investor.objects.exists()
