"""Glue to other tools, kept in one place: MLflow reading, tagging and mirroring.

- :mod:`.mlflow_store`: ``mlflow:`` inputs read as histories;
- :mod:`.mlflow_tags`: verdicts written back as run tags;
- :mod:`.mlflow_mirror`: what :class:`~gandiag.live.runlog.RunLogger` logs, mirrored to an active MLflow run.

MLflow is imported only when one of these is used.
"""
