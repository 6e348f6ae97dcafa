"""The benchmark bureau's agreements (#20): ``seed_demo --scale`` bulk-loads agreements on a
share of the projects (proportional at either scale), five commitments and two bureau promises
each, verified readings by another person, without history rows; the bulletin's figures and the
trend read them like any other."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import F, IntegerField, Value

from officers.models import Unit
from projects.models import Project
from promo.agreements.models import Agreement, Measurement, Promise, Term
from promo.agreements.selectors import keeping_rows, terms_with_trend
from promo.devtools.demo.scale import AGREEMENT_SHARE

pytestmark = pytest.mark.django_db


def test_scale_seed_gives_a_share_of_its_projects_agreements_without_history():
    history = apps.get_model("agreements", "AgreementEvent").objects
    before = history.count()
    call_command("seed_demo", scale="county", factor=0.001, stdout=StringIO())
    root = Unit.objects.get(name__startswith="县投资促进局(基准)")
    projects = Project.objects.filter(unit__path__startswith=root.path)
    agreements = Agreement.objects.filter(project__in=projects)
    n = agreements.count()
    assert 0 < n <= projects.count()
    assert n >= round(projects.count() * AGREEMENT_SHARE) - 3  # a share, drawn at random
    assert Term.objects.filter(agreement__in=agreements).count() == 5 * n
    assert Promise.objects.filter(agreement__in=agreements).count() == 2 * n
    # Signed on the project's contract date; every reading verified by someone else, after it.
    assert not agreements.exclude(signed_on=F("project__contract_date")).exists()
    readings = Measurement.objects.filter(term__agreement__in=agreements)
    assert not readings.filter(verified_at__isnull=True).exists()
    assert not readings.filter(measured_on__lt=F("term__agreement__signed_on")).exists()
    assert history.count() == before
    # The figures and the trend read the loaded rows.
    total = keeping_rows(
        group=lambda path: Value(0, output_field=IntegerField()), agreements=agreements
    )[0]
    assert 0 < total.agreements_judged <= n
    assert total.capital_judged <= n and total.promises_due <= 2 * n
    assert terms_with_trend(Term.objects.filter(agreement__in=agreements)).count() == 5 * n
