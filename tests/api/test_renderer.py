"""The API's JSON (promo/api/renderers.py, orjson) is the JSON DRF's renderer writes: the same
bytes for every kind of value the API's serializers and errors produce, DRF's own output where
indentation is asked for, and every API response encoded by it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy, override
from rest_framework import renderers

from promo.api.renderers import JSONRenderer

SHANGHAI = timezone(timedelta(hours=8))

VALUES = {
    "text": '上海张江科技园 — "引号" \\ \n\t tab',
    "separators": "line\u2028paragraph\u2029end",
    "control": "\x00\x1f\x7f",
    "emoji": "😀 surrogate pair",
    "ints": [0, -1, 2**53, -(2**63), 2**64 - 1],
    "floats": [0.1, 1.0, -2.5, 123456789.123, 0.0001, 100.0],
    "bools": [True, False, None],
    "decimal": Decimal("1234.50"),
    "decimal list": [Decimal("0"), Decimal("-0.01")],
    "utc": datetime(2026, 12, 4, 18, 30, 5, 123456, tzinfo=UTC),
    "utc whole": datetime(2026, 12, 4, 18, 30, tzinfo=UTC),
    "shanghai": datetime(2026, 12, 5, 2, 30, 5, tzinfo=SHANGHAI),
    "naive": datetime(2026, 12, 5, 2, 30, 5, 250),
    "date": date(2026, 12, 4),
    "time": time(9, 30, 0, 5),
    "duration": timedelta(days=1, seconds=5),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "lazy": gettext_lazy("请选择本协议的投资方承诺。"),
    "nested": {"a": [{"b": {"c": [1, {"d": None}]}}], "empty": {}, "list": []},
    "tuple": (1, "two"),
    "set": {3},
    "bytes": b"raw",
    1: "an int key",
}


def _drf(data, media_type=None, context=None) -> bytes:
    return renderers.JSONRenderer().render(data, media_type, context)


def _ours(data, media_type=None, context=None) -> bytes:
    return JSONRenderer().render(data, media_type, context)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_kind_of_value_is_written_as_drf_writes_it(language):
    with override(language):
        for name, value in VALUES.items():
            assert _ours({"v": value}) == _drf({"v": value}), name
        assert _ours(VALUES) == _drf(VALUES)
    assert b"\\u2028" in _ours(VALUES["separators"])  # escaped, as DRF escapes them
    assert _ours(None) == _drf(None) == b""


def test_what_orjson_cannot_write_is_written_by_drf_or_refused_as_drf_refuses_it():
    huge = {"n": 2**70}  # past 64 bits
    assert _ours(huge) == _drf(huge) == b'{"n":1180591620717411303424}'
    aware_time = {"t": time(9, 30, tzinfo=UTC)}
    with pytest.raises(ValueError):
        _drf(aware_time)
    with pytest.raises(ValueError):
        _ours(aware_time)

    class Opaque:
        pass

    with pytest.raises(TypeError):
        _drf({"x": Opaque()})
    with pytest.raises(TypeError):
        _ours({"x": Opaque()})


def test_floats_in_exponent_form_are_the_same_numbers():
    data = {"big": 1e16, "small": 2.5e-7}
    assert json.loads(_ours(data)) == json.loads(_drf(data)) == data


def test_indented_output_is_drfs():
    data = {"a": [1, {"b": "上海"}]}
    media = "application/json; indent=4"
    assert _ours(data, media) == _drf(data, media)
    assert b"\n    " in _ours(data, media)
    assert _ours(data, None, {"indent": 2}) == _drf(data, None, {"indent": 2})


def test_api_responses_are_encoded_by_it(bureau, client_for):
    from promo.api.renderers import JSONRenderer as Ours

    client = client_for(bureau.chief)
    for url in ("/api/v1/leads/", "/api/v1/agreements/", "/api/v1/leads/0/"):
        response = client.get(url)
        assert type(response.accepted_renderer) is Ours, url
        assert response.content == _drf(response.data), url
    # An error in the caller's language goes through it too.
    response = client.post("/api/v1/leads/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert type(response.accepted_renderer) is Ours
    assert response.content == _drf(response.data)
