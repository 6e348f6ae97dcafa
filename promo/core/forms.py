"""Form helpers shared by the officers' pages: service errors on fields, plain widgets."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from django import forms
from django.forms.renderers import BaseRenderer
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from promo.core.errors import DomainError


def add_domain_error(
    form: forms.Form, exc: DomainError, field_map: Mapping[str, str] | None = None
) -> None:
    """Show a service's refusal on the form: each field error next to its field, the rest on top.

    ``field_map`` renames the service's argument names to the form's field names.
    """
    field_map = field_map or {}
    placed = False
    for name, messages in exc.field_errors.items():
        target = field_map.get(name, name)
        if target in form.fields:
            for message in messages:
                form.add_error(target, str(message))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))


class PlainCheckboxes(forms.CheckboxSelectMultiple):
    """Django's checkbox list, the same markup written in Python instead of by templates.

    A list page's filter panel has some forty checkboxes (类型, 行业, 来源渠道…); Django renders
    three templates for each (option, input, attributes), ~0.08 ms apiece: 3 ms of every list
    page. The markup is Django's own, character for character
    (tests/web/test_plain_widgets.py compares the two).
    """

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        own_id = widget["attrs"].get("id")
        css = widget["attrs"].get("class")
        parts = [
            "<div",
            f' id="{conditional_escape(own_id)}"' if own_id else "",
            f' class="{conditional_escape(css)}"' if css else "",
            ">",
        ]
        for group, options, _index in widget["optgroups"]:
            if group:
                parts.append(f"\n  <div><label>{conditional_escape(group)}</label>")
            for option in options:
                parts.append("<div>\n    ")
                parts.append(_option_html(option))
                parts.append("</div>")
            if group:
                parts.append("\n  </div>")
        parts.append("\n</div>")
        return mark_safe("".join(parts))


def _option_html(option: Mapping[str, Any]) -> str:
    """Django's checkbox_option.html (input_option, input and attrs.html) for one option."""
    attrs = option["attrs"]
    written = "".join(
        f" {conditional_escape(key)}"
        + ("" if value is True else f'="{conditional_escape(str(value))}"')
        for key, value in attrs.items()
        if value is not False
    )
    value = (
        "" if option["value"] is None else f' value="{conditional_escape(str(option["value"]))}"'
    )
    tag = (
        f'<input type="{conditional_escape(option["type"])}" '
        f'name="{conditional_escape(option["name"])}"{value}{written}>'
    )
    # Each template file ends in a newline, which the includes keep.
    if not option["wrap_label"]:
        return f"{tag}\n\n\n"
    label_for = f' for="{conditional_escape(attrs["id"])}"' if attrs.get("id") else ""
    return f"<label{label_for}>{tag}\n {conditional_escape(option['label'])}</label>\n\n"


class PlainSelect(forms.Select):
    """A <select> whose options are joined in Python, not rendered one template each.

    The lead list's officer filter offers every active officer in scope (2,240 for the
    province chief): Django's per-option widget templates took ~200 ms of the page.
    Same markup: name, id and attributes, ``selected`` on the chosen value.
    """

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        final_attrs = self.build_attrs(self.attrs, attrs)
        final_attrs["name"] = name
        chosen = {str(v) for v in self.format_value(value)} or {""}
        # The standard library's escape (the same five characters as Django's) on plain
        # strings: format_html_join's lazy-aware escaping was 20 ms for 2,240 options.
        options = "\n".join(
            f'<option value="{escape(str(key))}"{" selected" if str(key) in chosen else ""}>'
            f"{escape(str(label))}</option>"
            for key, label in self.choices
        )
        return format_html("<select{}>\n{}\n</select>", flatatt(final_attrs), mark_safe(options))
