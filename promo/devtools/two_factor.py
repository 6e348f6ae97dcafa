"""Signing a test client in past the second factor, for the tests and the bench.

``Client.force_login`` skips the sign-in form and so the code page. Pages measured or tested
through such a client must be the pages, not the redirect to the code page: this marks the
session as the code page would have (promo/accounts/two_factor.py), with the officer's own
device, made once for an officer who must use one and has none yet.
"""

from __future__ import annotations

from typing import Any


def verify_client_session(client: Any, officer: Any, *, device_name: str = "test") -> None:
    """Mark ``client``'s session as having passed the second factor when ``officer`` must pass
    one (or has a device); record the sign-in as the code step does when it was pending."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from officers.permissions import must_use_two_factor
    from officers.services import officer_session_record
    from promo.accounts.two_factor import PENDING

    device = TOTPDevice.objects.filter(user_id=officer.pk, confirmed=True).first()
    if device is None:
        if not must_use_two_factor(officer):
            return
        device = TOTPDevice.objects.create(user=officer, name=device_name, confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    if session.pop(PENDING, None):
        officer_session_record(
            officer=officer, session_key=session.session_key, ip="-", user_agent=""
        )
    session.save()
