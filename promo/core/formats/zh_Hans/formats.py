"""Chinese dates: 2026年12月3日 (Django's own, stated here so that it cannot drift)."""

DATE_FORMAT = "Y年n月j日"
