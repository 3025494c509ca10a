"""Every shipped rule file meets the registry's conventions (scikit-learn's estimator_checks idea)."""

import re

import pytest

from gandiag.engine.loader import default_rules_dir, load_rules

RULES = load_rules()
PREFIX_FAMILY = {"GD1": ("d_",), "GD2": ("g_",), "GD3": (), "GD9": ()}


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_conventions(code):
    rule = RULES[code]
    assert re.fullmatch(r"GD[1239]\d\d", code)
    assert rule.path.endswith(f"{code}-{rule.name}.toml")
    for section in (rule.docs.what, rule.docs.why, rule.docs.example, rule.docs.fix):
        assert len(section) > 10
    if code.startswith("GD1"):
        assert any(s.startswith("d_") for s in rule.series)
    if code.startswith("GD2"):
        assert any(s.startswith("g_") for s in rule.series)
    if code.startswith("GD3"):
        assert rule.on_samples
    if rule.severity.value == "error":
        assert rule.supports is not None and rule.supports.value != "stable"


def test_codes_and_names_unique():
    assert len({r.name for r in RULES.values()}) == len(RULES)
    assert len([p for p in default_rules_dir().glob("*.toml") if p.name != "scores.toml"]) == len(RULES)
