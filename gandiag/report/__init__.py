"""Reporters: one module per output format, and the figures.

In: :class:`~gandiag.verdict.diagnosis.Diagnosis` objects (numbers and text).
Out: text, JSON, JUnit, GitHub and GitLab annotations, SARIF, Markdown, HTML
pages and figures. Nothing here decides anything.
"""
