"""Demo and benchmark data for promo (演示数据): built by ``manage.py seed_demo``.

``bureau`` builds one believable city bureau through the services, so every event and
history row exists as if officers had done the work; ``scale`` bulk-loads a large separate
bureau tree with COPY for benchmarks. ``names`` holds the Chinese name pools both use.
"""

from __future__ import annotations

# Every demo account shares this password (at least 10 characters: Django's validators).
DEMO_PASSWORD = "promo-demo-2026"
ADMIN_URL = "http://127.0.0.1:8000/admin/"
