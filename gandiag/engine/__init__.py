"""The rule engine: rule model, strict loader and evaluation."""

from .loader import default_rules_dir, load_rules, select_rules
from .model import Condition, Op, Persistence, Rule, RuleDocs

__all__ = ["Condition", "Op", "Persistence", "Rule", "RuleDocs", "default_rules_dir", "load_rules", "select_rules"]
