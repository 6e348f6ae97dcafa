"""promo's date formats per language (``FORMAT_MODULE_PATH``), over Django's own.

Issue #15: a date is written 2026年12月3日 in Chinese and 3 Dec 2026 in English — Django's
English ``DATE_FORMAT`` ("Dec. 3, 2026") is the American one. Only ``DATE_FORMAT`` is set
here; every other format falls back to Django's locale files. Templates write
``{{ day|date:"DATE_FORMAT" }}``.
"""
