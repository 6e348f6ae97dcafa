"""Every status change of an import batch goes through batch_transition, which reads
BATCH_TRANSITIONS: a step the table does not list is refused and changes nothing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from promo.core.errors import TransitionNotAllowed
from promo.imports import choices
from promo.imports.choices import BATCH_TRANSITIONS, BatchStatus, ImportKind
from promo.imports.models import ImportBatch
from promo.imports.services import batch_check, batch_transition, batch_upload
from promo.imports.tasks import run_import
from tests.imports.files import xlsx

ROWS = [["项目名称", "投资方", "总投资(万元)"], ["第1号产业园", "第1号精密机械有限公司", 1001]]


def _uploaded(actor) -> ImportBatch:
    return batch_upload(actor=actor, data=xlsx(ROWS), file_name="台账.xlsx", kind=ImportKind.LEADS)


def _snapshot(batch: ImportBatch) -> tuple:
    batch.refresh_from_db()
    return (batch.status, batch.claim, batch.message, batch.heartbeat_at, batch.checked_at)


@pytest.mark.django_db
def test_a_step_the_table_forbids_is_refused_and_the_batch_is_unchanged(bureau):
    batch = _uploaded(bureau.shanghai_officer)
    assert run_import(batch.pk) == BatchStatus.CHECKED
    before = _snapshot(batch)
    assert not choices.batch_can_transition(BatchStatus.CHECKED, BatchStatus.QUEUED)
    with pytest.raises(TransitionNotAllowed):
        batch_transition(
            batch=batch,
            from_status=BatchStatus.CHECKED,
            to_status=BatchStatus.QUEUED,
            message="rewound",
        )
    assert _snapshot(batch) == before


@pytest.mark.django_db
def test_a_terminal_status_has_no_way_out(bureau):
    batch = _uploaded(bureau.shanghai_officer)
    ImportBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.FAILED)
    for target in BatchStatus.values:
        with pytest.raises(TransitionNotAllowed):
            batch_transition(batch=batch, from_status=BatchStatus.FAILED, to_status=target)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED


@pytest.mark.django_db
def test_an_allowed_step_from_a_status_the_batch_is_no_longer_in_moves_nothing(bureau):
    batch = _uploaded(bureau.shanghai_officer)
    moved = batch_transition(
        batch=batch, from_status=BatchStatus.CHECKING, to_status=BatchStatus.CHECKED
    )
    assert moved is False
    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUEUED


@pytest.mark.django_db
def test_the_worker_reads_the_table_a_step_taken_out_of_it_is_refused(bureau, monkeypatch):
    batch = _uploaded(bureau.shanghai_officer)
    monkeypatch.setitem(BATCH_TRANSITIONS, BatchStatus.QUEUED, frozenset())
    with pytest.raises(TransitionNotAllowed):
        batch_check(batch=batch)
    batch.refresh_from_db()
    assert (batch.status, batch.claim) == (BatchStatus.QUEUED, "")


def test_no_code_of_the_imports_app_writes_a_batch_status_but_batch_transition():
    """A hand-written ``.update(status=...)`` would bypass the table."""
    folder = Path(choices.__file__).parent
    offenders = []
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("export_"):
            continue  # ExportJob's own status (queued → running → done/failed), not a batch's
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef) or function.name == "batch_transition":
                continue
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("update", "create", "save")
                    and any(k.arg == "status" for k in node.keywords)
                ):
                    offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
