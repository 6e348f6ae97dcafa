"""Scoring units by the efficacy-coefficient method (功效系数法), as Chinese assessments do.

Shared by the cockpit (promo.dashboard.scoring ranks its unit rows with it), the campaigns
and the bulletin (promo.reports.services ranks its unit lines with it): it lives in the
reports app because the dashboard imports the reports app, never the other way round.

For each metric, the worst unit scores 60 and the best 100, the others in proportion:
``60 + 40 × (x − worst) / (best − worst)``; when every unit has the same value each scores
100 (nobody is behind). The metric scores are averaged with the configured weights (so the
score stays on the 60–100 scale), then points are deducted per project past its planned
groundbreaking date (签约未按期开工), and the units are ranked; equal scores share a rank.

Weights and the deduction come from the settings (``PROMO_SCORE_WEIGHTS``,
``PROMO_SCORE_LATE_DEDUCTION``), read once through promo.core.env.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings

from .choices import Figure

LOW = Decimal(60)
SPAN = Decimal(40)
CENT = Decimal("0.01")

# Metric (a PeriodFigures field, counted from 1 January) → weight.
DEFAULT_WEIGHTS: dict[str, Decimal] = {
    Figure.SIGNED_AMOUNT: Decimal(30),
    Figure.SIGNED_COUNT: Decimal(20),
    Figure.GROUNDBREAKING_COUNT: Decimal(20),
    Figure.ARRIVED_FDI: Decimal(10),
    Figure.VALID_LEADS: Decimal(10),
    Figure.INVESTORS_VISITING: Decimal(10),
}


def parse_weights(text: str | None) -> dict[str, Decimal]:
    """``"signed_amount:30,signed_count:20"`` → weights; refuses unknown metrics loudly."""
    if not text:
        return dict(DEFAULT_WEIGHTS)
    weights: dict[str, Decimal] = {}
    for part in text.split(","):
        name, _sep, value = part.strip().partition(":")
        if name not in Figure.values:
            raise ValueError(f"PROMO_SCORE_WEIGHTS: unknown metric {name!r}")
        weights[name] = Decimal(value)
        if weights[name] < 0:
            raise ValueError(f"PROMO_SCORE_WEIGHTS: negative weight for {name!r}")
    if not any(weights.values()):
        raise ValueError("PROMO_SCORE_WEIGHTS: every weight is zero")
    return weights


def configured_weights() -> dict[str, Decimal]:
    return parse_weights(getattr(settings, "PROMO_SCORE_WEIGHTS", ""))


def configured_deduction() -> Decimal:
    return Decimal(getattr(settings, "PROMO_SCORE_LATE_DEDUCTION", "1") or "0")


@dataclass
class Score:
    key: Any
    metric_scores: dict[str, Decimal] = field(default_factory=dict)
    weighted: Decimal = Decimal(0)
    deduction: Decimal = Decimal(0)
    total: Decimal = Decimal(0)
    rank: int = 0


def efficacy_scores(
    values: Mapping[Any, Mapping[str, Any]],
    weights: Mapping[str, Decimal],
    *,
    late_projects: Mapping[Any, int] | None = None,
    deduction_per_project: Decimal = Decimal(0),
) -> list[Score]:
    """Scores of every key of ``values`` ({unit: {metric: value}}), best first, ranked."""
    keys = list(values)
    total_weight = sum(weights.values(), Decimal(0))
    scores = {key: Score(key=key) for key in keys}
    for metric, weight in weights.items():
        column = {key: Decimal(values[key].get(metric) or 0) for key in keys}
        if not column:
            continue
        best, worst = max(column.values()), min(column.values())
        for key, x in column.items():
            scaled = LOW + SPAN * (x - worst) / (best - worst) if best != worst else LOW + SPAN
            scores[key].metric_scores[metric] = scaled.quantize(CENT, ROUND_HALF_UP)
            scores[key].weighted += scaled * weight
    for score in scores.values():
        score.weighted = (score.weighted / total_weight).quantize(CENT, ROUND_HALF_UP)
        late = (late_projects or {}).get(score.key, 0)
        score.deduction = (deduction_per_project * late).quantize(CENT, ROUND_HALF_UP)
        score.total = score.weighted - score.deduction
    ranked = sorted(scores.values(), key=lambda s: s.total, reverse=True)
    for index, score in enumerate(ranked):
        same = index and ranked[index - 1].total == score.total
        score.rank = ranked[index - 1].rank if same else index + 1
    return ranked
