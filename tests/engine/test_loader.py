import textwrap
from pathlib import Path

import pytest

from gandiag.engine.loader import default_rules_dir, load_rules, select_rules
from gandiag.errors import RuleError, UsageError

GOOD = textwrap.dedent('''
    code = "GD150"
    name = "test-rule"
    title = "A test rule"
    severity = "warning"
    verdict = "non_converged"
    weight = 0.4
    message = "observed {observed:.2f}"

    [[when]]
    series = "g_loss"
    signal = "rolling_mean"
    window = 5
    op = ">"
    value = 3

    [persistence]
    for_steps = 4

    [docs]
    what = "w"
    why = "y"
    example = "e"
    fix = "f"
''')


def test_default_rules_load_and_cover_the_tutorial():
    rules = load_rules()
    assert {"GD101", "GD102", "GD201", "GD203", "GD901", "GD110", "GD210"} <= set(rules)


def test_extra_rule_file_adds_and_overrides(tmp_path):
    (tmp_path / "GD150-test-rule.toml").write_text(GOOD)
    rules = load_rules([tmp_path])
    assert rules["GD150"].when[0].param("window") == 5
    override = GOOD.replace('code = "GD150"', 'code = "GD101"').replace('name = "test-rule"', 'name = "discriminator-loss-vanishes"')
    (tmp_path / "GD150-test-rule.toml").unlink()
    (tmp_path / "GD101-mine.toml").write_text(override)
    assert load_rules([tmp_path])["GD101"].severity.value == "warning"


def test_loader_reports_every_problem_with_file_and_key(tmp_path):
    bad = GOOD.replace('signal = "rolling_mean"', 'signal = "vibes"').replace("weight = 0.4", 'weight = "high"')
    bad = 'colour = "red"\n' + bad.replace('series = "g_loss"', 'series = "g_lossy"')
    f = tmp_path / "GD150-test-rule.toml"
    f.write_text(bad)
    with pytest.raises(RuleError) as err:
        load_rules([tmp_path])
    text = " ".join(err.value.problems)
    assert f"{f}:weight" in text and f"{f}:colour: unknown key" in text and "unknown signal 'vibes'" in text


def test_wrong_types_and_unknown_operator(tmp_path):
    bad = GOOD.replace("window = 5", 'window = "five"').replace('op = ">"', 'op = "=~"')
    (tmp_path / "GD150-test-rule.toml").write_text(bad)
    with pytest.raises(RuleError) as err:
        load_rules([tmp_path])
    problems = err.value.problems
    assert any("when[0].window" in p and "positive integer" in p for p in problems)
    assert any("when[0].op" in p and "unknown operator" in p for p in problems)


def test_syntax_error_is_one_problem(tmp_path):
    (tmp_path / "GD150-x.toml").write_text("code = \n")
    with pytest.raises(RuleError) as err:
        load_rules([tmp_path])
    assert "TOML syntax error" in err.value.problems[0]


def test_duplicate_codes_in_one_source(tmp_path):
    (tmp_path / "GD150-test-rule.toml").write_text(GOOD)
    (tmp_path / "GD150-copy.toml").write_text(GOOD.replace('name = "test-rule"', 'name = "copy"'))
    with pytest.raises(RuleError) as err:
        load_rules([tmp_path], include_default=False)
    assert any("duplicate code GD150" in p for p in err.value.problems)


def test_code_must_match_file_name(tmp_path):
    (tmp_path / "GD151-test-rule.toml").write_text(GOOD)
    with pytest.raises(RuleError) as err:
        load_rules([tmp_path], include_default=False)
    assert "does not match the file name" in err.value.problems[0]


def test_message_placeholders_are_a_closed_set(tmp_path):
    (tmp_path / "GD150-test-rule.toml").write_text(GOOD.replace("{observed:.2f}", "{__class__}"))
    with pytest.raises(RuleError) as err:
        load_rules([tmp_path], include_default=False)
    assert "unknown placeholder" in err.value.problems[0]


def test_select_and_ignore_by_prefix():
    rules = load_rules()
    assert set(select_rules(rules, select=["GD1"])) == {c for c in rules if c.startswith("GD1")}
    assert "GD202" not in select_rules(rules, ignore=["GD202"])
    with pytest.raises(UsageError):
        select_rules(rules, select=["GD7"])


def test_default_rules_dir_is_the_checkout_rules_folder_here():
    assert default_rules_dir().name in ("rules", "_rules")
    assert any(Path(default_rules_dir()).glob("GD101-*.toml"))
