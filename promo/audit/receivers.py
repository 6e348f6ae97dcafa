"""Receivers: the events the audit trail records (filled below)."""
