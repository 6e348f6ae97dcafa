"""PlainCheckboxes writes exactly the markup Django's checkbox templates write."""

from __future__ import annotations

import pytest
from django import forms
from django.utils.safestring import mark_safe

from promo.core.choices import Industry
from promo.core.forms import PlainCheckboxes

CHOICES = [
    ("visit", "拜访"),
    ("a&b", 'Tom & "Jerry" <x>'),
    (3, mark_safe("<b>安全</b>")),
    ("", "—"),
]
GROUPED = [("国内", [("sh", "上海"), ("sz", "深圳")]), ("境外", [("hk", "香港")]), ("xx", "其他")]


@pytest.mark.parametrize(
    ("choices", "value", "attrs"),
    [
        (CHOICES, ["visit", "3"], {"id": "id_kind"}),
        (CHOICES, None, None),
        (CHOICES, [], {"id": "id_k", "class": "inline"}),
        (GROUPED, ["hk"], {"id": "id_region"}),
        (list(Industry.choices), [Industry.choices[1][0]], {"id": "id_industry"}),
    ],
)
def test_same_markup_as_django(choices, value, attrs):
    plain = PlainCheckboxes(choices=choices).render("kind", value, attrs=attrs)
    django = forms.CheckboxSelectMultiple(choices=choices).render("kind", value, attrs=attrs)
    assert plain == django


def test_same_field_group_in_a_bound_form():
    class Both(forms.Form):
        plain = forms.MultipleChoiceField(
            label="类型", choices=CHOICES, required=False, widget=PlainCheckboxes
        )
        django = forms.MultipleChoiceField(
            label="类型", choices=CHOICES, required=False, widget=forms.CheckboxSelectMultiple
        )

    form = Both({"plain": ["visit"], "django": ["visit"]})
    assert form.is_valid()
    html = {name: str(form[name].as_field_group()) for name in ("plain", "django")}
    assert html["plain"].replace("plain", "NAME") == html["django"].replace("django", "NAME")
    assert "checked" in html["plain"] and 'value="a&amp;b"' in html["plain"]
