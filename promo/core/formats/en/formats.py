"""English dates as the bureau writes them: 3 Dec 2026 (day, short month, year)."""

DATE_FORMAT = "j M Y"
