"""How promo writes dates and times in each language (FORMAT_MODULE_PATH, issue #15).

Chinese keeps Django's 2026年12月3日; English reads 3 Dec 2026 — a day-month-year a reader in
Hong Kong or London takes the same way, never the American 12/03/2026 that one reads as March.
Times are 24-hour in both. Only output formats are set here: the input formats (what a form
accepts) stay Django's for each language, and date inputs always send ISO 2026-12-03.
Displayed datetimes are in Beijing time (TIME_ZONE), whatever zone the server runs in.
"""
