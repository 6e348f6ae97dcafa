"""What a campaign may rank on: the period figures of the reports app, plus visits logged."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from promo.reports.choices import Figure

VISITS = "visits"

# Figure's choices, plus the number of visits logged (走访次数): the race is as much about
# getting out of the office (每个条线都要外出招商) as about what was signed.
# django-stubs types the functional API's members as (name, label) only, not (name, (value, label)).
CampaignFigure = models.TextChoices(  # type: ignore[call-overload]
    "CampaignFigure",
    [(value.upper(), (value, label)) for value, label in Figure.choices]
    + [(VISITS.upper(), (VISITS, _("走访次数(次)")))],
)

# Figures that can be credited to one officer (as 主办 of the lead or project, or as the one
# who logged the visit). Period-end stock figures (在手/在谈), arrived FDI and investors
# visiting are unit figures only.
OFFICER_FIGURES: tuple[str, ...] = (
    Figure.SIGNED_COUNT,
    Figure.SIGNED_AMOUNT,
    Figure.TEN_MILLION_COUNT,
    Figure.HUNDRED_MILLION_COUNT,
    Figure.GROUNDBREAKING_COUNT,
    Figure.VALID_LEADS,
    VISITS,
)
