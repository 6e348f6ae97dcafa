"""The cockpit's unit rows scored by the efficacy-coefficient method (功效系数法).

The method itself (weights, deduction, :func:`efficacy_scores`) is in promo.reports.scoring,
shared with the bulletin's ranking; it is re-exported here for the cockpit and the campaigns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from promo.reports.choices import Figure
from promo.reports.scoring import (
    CENT,
    DEFAULT_WEIGHTS,
    LOW,
    SPAN,
    Score,
    configured_deduction,
    configured_weights,
    efficacy_scores,
    parse_weights,
)

__all__ = [
    "CENT",
    "DEFAULT_WEIGHTS",
    "LOW",
    "SPAN",
    "Score",
    "configured_deduction",
    "configured_weights",
    "efficacy_scores",
    "parse_weights",
    "rank_rows",
    "weight_labels",
]


def rank_rows(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """The cockpit's unit rows scored on their year-to-date figures."""
    if not rows:
        return []
    weights = configured_weights()
    by_key = {row.unit.pk: row for row in rows}
    ranked = efficacy_scores(
        {key: row.ytd.as_dict() for key, row in by_key.items()},
        weights,
        late_projects={
            key: row.projects.get("groundbreaking_late", 0) for key, row in by_key.items()
        },
        deduction_per_project=configured_deduction(),
    )
    return [
        {
            "rank": score.rank,
            "row": by_key[score.key],
            "weighted": score.weighted,
            "deduction": score.deduction,
            "total": score.total,
            "metric_scores": [score.metric_scores[m] for m in weights],
        }
        for score in ranked
    ]


def weight_labels() -> list[dict[str, Any]]:
    return [
        {"metric": m, "label": Figure(m).label, "weight": w}
        for m, w in configured_weights().items()
    ]
