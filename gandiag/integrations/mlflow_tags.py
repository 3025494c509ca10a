"""``--mlflow-tag``: write each MLflow run's verdict back to the run it came from.

Three run tags, searchable in the MLflow UI and with ``mlflow.search_runs``
(``tags.`gandiag.verdict` = 'mode_collapse'``):

- ``gandiag.verdict``: ``stable``, ``mode_collapse``, ``non_converged`` or ``inconclusive``;
- ``gandiag.confidence``: the calibrated probability, three decimals;
- ``gandiag.onset_step``: the step where the failure began, ``none`` when there is none;

and the run's JSON report (schema ``gandiag.report/1``, one run) as the
artifact ``gandiag/report.json``. A run that cannot be written to (a
read-only store, no permission) is reported as an error for that run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gandiag.errors import GandiagError
from gandiag.verdict.diagnosis import Diagnosis

ARTIFACT = "gandiag/report.json"
TAG_PREFIX = "gandiag."


def run_tags(d: Diagnosis) -> dict[str, str]:
    """The tags written for one diagnosis."""
    return {
        f"{TAG_PREFIX}verdict": d.verdict.value,
        f"{TAG_PREFIX}confidence": f"{d.confidence:.3f}",
        f"{TAG_PREFIX}onset_step": "none" if d.onset_step is None else str(d.onset_step),
    }


def write_back(items: Sequence[tuple[object, Diagnosis]], report_of: Callable[[int], str]) -> list[tuple[str, str]]:
    """Tag each ``(MlflowRun, Diagnosis)`` and attach its report; ``report_of(i)`` is item i's JSON text.

    Returns ``(source, one-line message)`` for each run that could not be written.
    """
    from mlflow.entities import RunTag

    from gandiag.infra.guard import one_run
    from gandiag.integrations.mlflow_store import client, store_error

    errors = []
    for i, (run, diagnosis) in enumerate(items):
        try:
            with one_run(run.source):
                c = client(run.tracking_uri)
                try:
                    c.log_batch(run.run_id, tags=[RunTag(k, v) for k, v in run_tags(diagnosis).items()])
                    c.log_text(run.run_id, report_of(i), ARTIFACT)
                except GandiagError:
                    raise
                except Exception as exc:  # noqa: BLE001 - MLflow and its artifact stores raise many kinds
                    raise store_error(exc, run.tracking_uri, run.source) from None
        except GandiagError as exc:
            errors.append((run.source, f"--mlflow-tag: {exc.one_line()}"))
    return errors
