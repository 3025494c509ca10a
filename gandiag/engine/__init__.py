"""The rule engine: rule model, strict loader and evaluation.

In: rule files (``rules/*.toml``, data only) and a history with its snapshot
table. Out: :class:`~gandiag.engine.findings.Finding` objects, each with its
evidence (observed value, threshold, onset step, streak).
"""

from gandiag.engine.loader import default_rules_dir, load_rules, select_rules
from gandiag.engine.model import Condition, Op, Persistence, Rule, RuleDocs

__all__ = ["Condition", "Op", "Persistence", "Rule", "RuleDocs", "default_rules_dir", "load_rules", "select_rules"]
