"""Request body parsers: DRF's, with the edges of JSON answered as the caller's bad input."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    """DRF's JSONParser, but JSON nested deeper than Python's recursion limit (a few
    kilobytes of ``[[[[…``) is a 400 ``malformed_request``: ``json.load`` raises a
    RecursionError there, which DRF does not catch, and the caller got a 500 page."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(_("JSON 嵌套层数过深。")) from exc
