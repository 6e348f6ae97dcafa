"""Content-Security-Policy (issue #16): on every answer, and no template relies on what it
forbids (an inline script or an on…= handler). The browser side: tests/browser/test_csp.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", re.I)
HANDLER = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/login/", "/", "/api/v1/leads/", "/healthz"])
def test_every_answer_carries_the_policy(client, bureau, path):
    client.force_login(bureau.shanghai_officer)
    policy = client.get(path)["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy


@pytest.mark.django_db
def test_an_empty_setting_sends_no_policy(client, settings):
    settings.PROMO_CSP = ""
    assert not client.get("/login/").has_header("Content-Security-Policy")


def test_no_template_has_an_inline_script_or_handler():
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, HANDLER):
            found += [
                f"{template.relative_to(TEMPLATES)}: {m.group(0)}" for m in pattern.finditer(text)
            ]
    assert found == []
