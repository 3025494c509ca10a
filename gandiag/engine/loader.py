"""Strict loader for rule files: every problem in every file, reported at once.

A rule file is TOML data (read with the standard library's ``tomllib``): no
code, no ``eval``, a closed set of keys, signals, operators and series.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path

from gandiag.engine.findings import Severity, Verdict
from gandiag.engine.model import SIGNAL_PARAMS, Condition, Family, Op, Persistence, Rule, RuleDocs, Signal
from gandiag.errors import RuleError, UsageError
from gandiag.history.model import SERIES_NAMES

#: Per-snapshot statistics of generated samples that sample rules can read.
SNAPSHOT_STATS: tuple[str, ...] = (
    "coverage",
    "coverage_ratio",  # coverage / its real-vs-real value
    "density",
    "density_ratio",
    "precision",
    "precision_ratio",  # precision / its real-vs-real value
    "recall",
    "ndb",
    "ndb_excess",  # share of NDB bins that differ, minus the real-vs-real share
    "mpd_ratio",  # mean pairwise distance, generated / real
    "dup_share",  # share of near-duplicate pairs among generated samples
    "mpd_vs_start",  # mean pairwise distance relative to the run's most diverse snapshot (no reference)
    "near_ratio",  # share of samples near the data (at the scale of its structure) / its real-vs-real value
    "reach_ratio",  # share of real samples with a generated one near them / its real-vs-real value
    "nonfinite_share",  # share of generated samples holding NaN or inf
    "nn_spread",  # median nearest-neighbour distance / mean pairwise distance among generated images (no reference)
    "nn1_excess",  # leave-one-out 1-NN two-sample accuracy (both sides) minus its real-vs-real value
)

CODE_RE = re.compile(r"^GD[1-9][0-9]{2}$")
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
TOP_KEYS = {"code", "name", "title", "severity", "verdict", "weight", "families", "message", "when", "persistence", "docs",
            "outcome_test"}
#: The tests of the outcome definition (docs/outcomes.md) a rule can decide, in their order.
OUTCOME_TESTS = {1: "non-finite losses or samples", 2: "the discriminator has won outright",
                 3: "one output for every input", 4: "output that does not look like the data",
                 5: "good samples of only part of the data"}
REQUIRED_TOP = {"code", "name", "title", "severity", "message", "when", "docs"}
WHEN_KEYS = {"series", "signal", "op", "value"}
OPTIONAL_WHEN_KEYS = {"tune"}
PERSISTENCE_KEYS = {"for_steps", "warmup_steps", "warmup_fraction", "settle_share", "for_snapshots", "max_gap"}
DOC_KEYS = ("what", "why", "example", "fix")
MESSAGE_FIELDS = {"observed", "threshold", "streak", "fraction", "onset", "end", "series", "period"}


def default_rules_dir() -> Path:
    """The rules shipped with gandiag: inside the wheel, or ``rules/`` in a checkout."""
    here = Path(__file__).resolve().parent.parent
    packaged = here / "_rules"
    if packaged.is_dir():
        return packaged
    return here.parent / "rules"


SCORES_FILE = "scores.toml"
SCORES_SCHEMA = "gandiag.scores/1"


def default_scores_path() -> Path:
    """The fitted thresholds shipped beside the rules (``gandiag calibrate`` writes such a file)."""
    return default_rules_dir() / SCORES_FILE


def _rule_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.glob("*.toml") if p.name != SCORES_FILE)
    return [path]


def load_scores(path: str | Path) -> dict[str, float]:
    """Fitted thresholds from a scores file: ``{rule code: threshold}``.

    Raises
    ------
    RuleError
        Listing every problem in the file.
    """
    p = Path(path)
    data, problem = _read_toml(p, "scores file")
    if problem is not None:
        raise RuleError([problem])
    problems = []
    if data.get("schema") != SCORES_SCHEMA:
        problems.append(f"{p}:schema: expected \"{SCORES_SCHEMA}\", got {data.get('schema')!r}")
    table = data.get("thresholds", {})
    if not isinstance(table, dict):
        problems.append(f"{p}:thresholds: must be a table of rule code = threshold")
        table = {}
    out = {}
    for code, value in table.items():
        if not CODE_RE.match(str(code)):
            problems.append(f"{p}:thresholds.{code}: not a rule code like GD302")
        elif not _number(value):
            problems.append(f"{p}:thresholds.{code}: must be a number, got {value!r}")
        else:
            out[str(code)] = float(value)
    if problems:
        raise RuleError(problems)
    return out


def apply_scores(rules: dict[str, Rule], thresholds: dict[str, float], *, where: str) -> dict[str, Rule]:
    """Set each tunable condition's threshold from ``thresholds`` (within the range its rule declares)."""
    import dataclasses

    problems = []
    out = dict(rules)
    for code, value in thresholds.items():
        rule = rules.get(code)
        if rule is None:
            continue  # a score for a rule that is not loaded (deselected or removed) does nothing
        idx = [i for i, c in enumerate(rule.when) if c.tune is not None]
        if not idx:
            continue  # the rule (perhaps a user's override of a shipped one) declares nothing to tune
        cond = rule.when[idx[0]]
        lo, hi = cond.tune
        if not lo <= value <= hi:
            problems.append(f"{where}:thresholds.{code}: {value:g} lies outside the rule's tuning range [{lo:g}, {hi:g}]")
            continue
        when = list(rule.when)
        when[idx[0]] = dataclasses.replace(cond, value=value)
        out[code] = dataclasses.replace(rule, when=tuple(when))
    if problems:
        raise RuleError(problems)
    return out


def load_rules(paths: Sequence[str | Path] | None = None, *, include_default: bool = True,
               scores: str | Path | None = None, default_scores: bool = True) -> dict[str, Rule]:
    """Load rules from the default set plus ``paths`` (files or folders), with fitted thresholds.

    A rule in a later path with the same code replaces the earlier one (that
    is how ``--rules`` overrides a shipped rule); two rules with one code in
    the same source are an error. Thresholds fitted by ``gandiag calibrate``
    are applied from ``scores`` or, by default, the shipped
    ``rules/scores.toml`` (``default_scores=False`` keeps the rule files'
    own values).

    Raises
    ------
    RuleError
        Listing every problem found, each as ``file:key: what``.
    """
    sources: list[Path] = []
    if include_default:
        sources.append(default_rules_dir())
    for p in paths or ():
        p = Path(p)
        if not p.exists():
            raise UsageError("rules path not found", where=str(p), hint="Give a .toml rule file or a folder of them")
        sources.append(p)
    rules: dict[str, Rule] = {}
    problems: list[str] = []
    for source in sources:
        seen: dict[str, str] = {}
        files = _rule_files(source)
        if source.is_dir() and not files and source != default_rules_dir():
            problems.append(f"{source}: folder holds no .toml rule files")
        for f in files:
            rule, errs = _load_file(f)
            problems.extend(errs)
            if rule is None:
                continue
            if rule.code in seen:
                problems.append(f"{f}:code: duplicate code {rule.code} (also in {seen[rule.code]})")
                continue
            seen[rule.code] = str(f)
            rules[rule.code] = rule
    names: dict[str, str] = {}
    for rule in rules.values():
        if rule.name in names and names[rule.name] != rule.code:
            problems.append(f"{rule.path}:name: name '{rule.name}' is also used by {names[rule.name]}")
        names[rule.name] = rule.code
    if problems:
        raise RuleError(problems)
    score_path = Path(scores) if scores is not None else default_scores_path() if default_scores else None
    if score_path is not None and (scores is not None or score_path.is_file()):
        if not score_path.is_file():
            raise UsageError("scores file not found", where=str(score_path),
                             hint="Give a file written by `gandiag calibrate`")
        rules = apply_scores(rules, load_scores(score_path), where=str(score_path))
    return dict(sorted(rules.items()))


def _read_toml(path: Path, what: str) -> tuple[dict | None, str | None]:
    """A rule or scores file's data, or the one problem with it: not a regular file, too big, not TOML."""
    from gandiag.errors import InputError
    from gandiag.infra.files import check_input_path
    from gandiag.infra.limits import current_limits

    where = str(path)
    try:
        st = check_input_path(path, what=what)
    except InputError as exc:
        return None, f"{where}: {exc.message}"
    limit = current_limits().max_rule_bytes
    if st.st_size > limit:
        return None, f"{where}: {what} is {st.st_size} bytes, more than the {limit}-byte limit (GANDIAG_MAX_RULE_BYTES)"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), None
    except tomllib.TOMLDecodeError as exc:
        return None, f"{where}: TOML syntax error: {exc}"
    except RecursionError:
        return None, f"{where}: TOML nested too deeply to read"
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"{where}: cannot read {what}: {exc}"


def _load_file(path: Path) -> tuple[Rule | None, list[str]]:
    where = str(path)
    data, problem = _read_toml(path, "rule file")
    if problem is not None:
        return None, [problem]
    problems: list[str] = []

    def bad(key: str, what: str) -> None:
        problems.append(f"{where}:{key}: {what}")

    for key in sorted(set(data) - TOP_KEYS):
        bad(key, f"unknown key (allowed: {', '.join(sorted(TOP_KEYS))})")
    for key in sorted(REQUIRED_TOP - set(data)):
        bad(key, "missing required key")

    code = _get(data, "code", str, bad)
    if code is not None and not CODE_RE.match(code):
        bad("code", f"'{code}' is not a code like GD101 (GD1xx discriminator, GD2xx generator, GD3xx samples, GD9xx data quality)")
    if code is not None and CODE_RE.match(code) and path.stem.split("-")[0].upper() != code and path.stem.upper() != code:
        bad("code", f"code {code} does not match the file name '{path.name}' (expected {code}-<name>.toml)")
    name = _get(data, "name", str, bad)
    if name is not None and not NAME_RE.match(name):
        bad("name", f"'{name}' must be lower-case words joined by '-'")
    title = _get(data, "title", str, bad)
    severity = _enum(data, "severity", Severity, bad)
    verdict = None
    if "verdict" in data:
        raw = data["verdict"]
        if raw == "none":
            verdict = None
        else:
            verdict = _enum(data, "verdict", Verdict, bad)
            if verdict is Verdict.INCONCLUSIVE:
                bad("verdict", "a rule cannot support 'inconclusive'")
    weight = 0.5
    if "weight" in data:
        w = data["weight"]
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 <= w <= 1:
            bad("weight", f"must be a number in [0, 1], got {w!r}")
        else:
            weight = float(w)
    families: tuple[Family, ...] = (Family.BCE,)
    if "families" in data:
        fam = data["families"]
        if not isinstance(fam, list) or not fam:
            bad("families", "must be a non-empty list such as [\"bce\", \"lsgan\"] or [\"any\"]")
        else:
            out = []
            for i, f in enumerate(fam):
                try:
                    out.append(Family(f))
                except ValueError:
                    bad(f"families[{i}]", f"unknown loss family {f!r} (allowed: {', '.join(x.value for x in Family)})")
            families = tuple(out)
    message = _get(data, "message", str, bad)
    if message is not None:
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(message) if f is not None}
        except ValueError as exc:
            bad("message", f"invalid template: {exc}")
        else:
            unknown = {f.split(".")[0].split("[")[0] for f in fields} - MESSAGE_FIELDS
            if unknown:
                bad("message", f"unknown placeholder(s) {sorted(unknown)} (allowed: {sorted(MESSAGE_FIELDS)})")

    outcome_test = None
    if "outcome_test" in data:
        t = data["outcome_test"]
        if not isinstance(t, int) or isinstance(t, bool) or t not in OUTCOME_TESTS:
            bad("outcome_test", f"must be one of {sorted(OUTCOME_TESTS)} (docs/outcomes.md), got {t!r}")
        else:
            outcome_test = t
            if t in (1, 2) and verdict is not Verdict.NON_CONVERGED or t in (3, 5) and verdict is not Verdict.MODE_COLLAPSE \
                    or t == 4 and verdict is not Verdict.NON_CONVERGED:
                bad("outcome_test", f"test {t} ({OUTCOME_TESTS[t]}) decides "
                    f"{'mode_collapse' if t in (3, 5) else 'non_converged'}, but the rule supports {data.get('verdict')!r}")
    conditions = _conditions(data.get("when"), bad) if "when" in data else ()
    persistence = _persistence(data.get("persistence", {}), bad)
    docs = _docs(data.get("docs"), bad) if "docs" in data else None

    if problems:
        return None, problems
    return (
        Rule(
            code=code, name=name, title=title, severity=severity, supports=verdict, weight=weight,
            families=families, when=conditions, persistence=persistence, message=message, docs=docs,
            path=where, outcome_test=outcome_test,
        ),
        [],
    )


def _get(data: dict, key: str, typ: type, bad) -> object:
    if key not in data:
        return None
    value = data[key]
    if not isinstance(value, typ) or (typ is str and not value.strip()):
        bad(key, f"must be a non-empty {typ.__name__}, got {type(value).__name__} {value!r}")
        return None
    return value


def _enum(data: dict, key: str, enum, bad):
    if key not in data:
        return None
    try:
        return enum(data[key])
    except ValueError:
        bad(key, f"unknown value {data[key]!r} (allowed: {', '.join(e.value for e in enum)})")
        return None


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _conditions(raw, bad) -> tuple[Condition, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(c, dict) for c in raw):
        bad("when", "must be one or more [[when]] tables")
        return ()
    out = []
    for i, c in enumerate(raw):
        key = f"when[{i}]"
        ok = True
        for k in sorted(set(c) - WHEN_KEYS - OPTIONAL_WHEN_KEYS - {p for params in SIGNAL_PARAMS.values() for p in params}):
            bad(f"{key}.{k}", "unknown key")
            ok = False
        for k in sorted(WHEN_KEYS - set(c)):
            bad(f"{key}.{k}", "missing required key")
            ok = False
        try:
            signal = Signal(c.get("signal"))
        except ValueError:
            bad(f"{key}.signal", f"unknown signal {c.get('signal')!r} (allowed: {', '.join(s.value for s in Signal)})")
            continue
        series = c.get("series")
        series_t = (series,) if isinstance(series, str) else tuple(series) if isinstance(series, list) else None
        allowed = SNAPSHOT_STATS if signal is Signal.SNAPSHOT else SERIES_NAMES
        if not series_t or not all(isinstance(s, str) for s in series_t):
            bad(f"{key}.series", "must be a series name or a list of them")
            ok = False
        else:
            for s in series_t:
                if s not in allowed:
                    bad(f"{key}.series", f"unknown series {s!r} for signal '{signal.value}' (allowed: {', '.join(allowed)})")
                    ok = False
        spec = SIGNAL_PARAMS[signal]
        params = []
        for k in sorted(set(c) - WHEN_KEYS - OPTIONAL_WHEN_KEYS):
            if k not in spec:
                bad(f"{key}.{k}", f"signal '{signal.value}' takes no parameter '{k}' (takes: {', '.join(spec) or 'none'})")
                ok = False
        for pname, (ptype, default) in spec.items():
            if pname in c:
                v = c[pname]
                if ptype is int and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
                    bad(f"{key}.{pname}", f"must be a positive integer, got {v!r}")
                    ok = False
                    continue
                if ptype is float and not _number(v):
                    bad(f"{key}.{pname}", f"must be a number, got {v!r}")
                    ok = False
                    continue
                params.append((pname, ptype(v)))
            elif default is None:
                bad(f"{key}.{pname}", f"signal '{signal.value}' needs '{pname}'")
                ok = False
            else:
                params.append((pname, default))
        try:
            op = Op(c.get("op"))
        except ValueError:
            bad(f"{key}.op", f"unknown operator {c.get('op')!r} (allowed: {', '.join(o.value for o in Op)})")
            continue
        value = c.get("value")
        if op in (Op.BETWEEN, Op.OUTSIDE):
            if not (isinstance(value, list) and len(value) == 2 and all(_number(v) for v in value) and value[0] <= value[1]):
                bad(f"{key}.value", f"operator '{op.value}' needs [low, high] with low <= high, got {value!r}")
                ok = False
            else:
                value = (float(value[0]), float(value[1]))
        elif not _number(value):
            bad(f"{key}.value", f"must be a number, got {value!r}")
            ok = False
        else:
            value = float(value)
        tune = None
        if "tune" in c:
            t = c["tune"]
            if op in (Op.BETWEEN, Op.OUTSIDE):
                bad(f"{key}.tune", f"operator '{op.value}' cannot be tuned (only <, <=, >, >=)")
                ok = False
            elif not (isinstance(t, list) and len(t) == 2 and all(_number(v) for v in t) and t[0] < t[1]):
                bad(f"{key}.tune", f"must be [low, high] with low < high, got {t!r}")
                ok = False
            elif _number(value) and not t[0] <= value <= t[1]:
                bad(f"{key}.tune", f"value {value:g} lies outside its tuning range [{t[0]:g}, {t[1]:g}]")
                ok = False
            else:
                tune = (float(t[0]), float(t[1]))
        if ok:
            out.append(Condition(series=series_t, signal=signal, params=tuple(params), op=op, value=value, tune=tune))
    return tuple(out)


def _persistence(raw, bad) -> Persistence:
    if not isinstance(raw, dict):
        bad("persistence", "must be a table")
        return Persistence()
    for k in sorted(set(raw) - PERSISTENCE_KEYS):
        bad(f"persistence.{k}", f"unknown key (allowed: {', '.join(sorted(PERSISTENCE_KEYS))})")
    kwargs = {}
    for k in ("for_steps", "warmup_steps", "for_snapshots", "max_gap"):
        if k in raw:
            v = raw[k]
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                bad(f"persistence.{k}", f"must be a non-negative integer, got {v!r}")
            else:
                kwargs[k] = v
    for k in ("warmup_fraction", "settle_share"):
        if k in raw:
            v = raw[k]
            if not _number(v) or not 0 <= v <= 1:
                bad(f"persistence.{k}", f"must be a number in [0, 1], got {v!r}")
            else:
                kwargs[k] = float(v)
    return Persistence(**kwargs)


def _docs(raw, bad) -> RuleDocs | None:
    if not isinstance(raw, dict):
        bad("docs", "must be a table with what, why, example, fix")
        return None
    for k in sorted(set(raw) - set(DOC_KEYS)):
        bad(f"docs.{k}", f"unknown key (allowed: {', '.join(DOC_KEYS)})")
    ok = True
    for k in DOC_KEYS:
        if not isinstance(raw.get(k), str) or not raw[k].strip():
            bad(f"docs.{k}", "missing or empty (every rule documents what it does, why it is bad, an example and the fix)")
            ok = False
    return RuleDocs(**{k: raw[k].strip() for k in DOC_KEYS}) if ok else None


def select_rules(
    rules: dict[str, Rule], *, select: Iterable[str] | None = None, ignore: Iterable[str] | None = None
) -> dict[str, Rule]:
    """Keep rules whose code starts with a ``select`` prefix and with no ``ignore`` prefix."""
    select = [s.strip().upper() for s in (select or []) if s.strip()]
    ignore = [s.strip().upper() for s in (ignore or []) if s.strip()]
    for prefix in select + ignore:
        if not prefix.startswith("GD") or not any(code.startswith(prefix) for code in rules):
            raise UsageError(f"no rule code starts with '{prefix}'", hint="See `gandiag rules list`")
    out = {}
    for code, rule in rules.items():
        if select and not any(code.startswith(p) for p in select):
            continue
        if any(code.startswith(p) for p in ignore):
            continue
        out[code] = rule
    return out
