"""Scoring by the efficacy-coefficient method (功效系数法) against a hand-computed example."""

from __future__ import annotations

from decimal import Decimal

import pytest

from promo.dashboard.scoring import efficacy_scores, parse_weights


def test_scores_match_the_hand_computed_example():
    # Amount: best A 100, worst C 0  → A 100, B 60 + 40 × 50/100 = 80, C 60.
    # Count:  best B 4,   worst A 2  → A 60,  B 100,                  C 80.
    # Weighted 60/40: A (100×60 + 60×40)/100 = 84; B (80×60 + 100×40)/100 = 88;
    # C (60×60 + 80×40)/100 = 68. B has 3 projects late to break ground at 2 points each: 82.
    values = {
        "A": {"signed_amount": 100, "signed_count": 2},
        "B": {"signed_amount": 50, "signed_count": 4},
        "C": {"signed_amount": 0, "signed_count": 3},
    }
    weights = {"signed_amount": Decimal(60), "signed_count": Decimal(40)}
    ranked = efficacy_scores(
        values, weights, late_projects={"B": 3}, deduction_per_project=Decimal(2)
    )
    assert [(s.key, s.weighted, s.deduction, s.total, s.rank) for s in ranked] == [
        ("A", Decimal("84.00"), Decimal("0.00"), Decimal("84.00"), 1),
        ("B", Decimal("88.00"), Decimal("6.00"), Decimal("82.00"), 2),
        ("C", Decimal("68.00"), Decimal("0.00"), Decimal("68.00"), 3),
    ]
    assert ranked[1].metric_scores == {"signed_amount": Decimal("80.00"), "signed_count": 100}


def test_equal_values_score_full_marks_and_share_the_rank():
    values = {"A": {"signed_count": 3}, "B": {"signed_count": 3}, "C": {"signed_count": 1}}
    ranked = efficacy_scores(values, {"signed_count": Decimal(1)})
    assert [(s.key, s.total, s.rank) for s in ranked] == [
        ("A", Decimal("100.00"), 1),
        ("B", Decimal("100.00"), 1),
        ("C", Decimal("60.00"), 3),
    ]


def test_weights_are_parsed_strictly():
    assert parse_weights("signed_count:2, arrived_fdi:1") == {
        "signed_count": Decimal(2),
        "arrived_fdi": Decimal(1),
    }
    with pytest.raises(ValueError, match="unknown metric"):
        parse_weights("golf_handicap:3")
    with pytest.raises(ValueError, match="zero"):
        parse_weights("signed_count:0")
