"""Rule files of the ``rules`` scorer: TOML ``[[rule]]`` tables read, checked and merged.

The built-in rules are in rules_builtin.toml. A user file (``--scorer-opt file=PATH``)
has the same format; a rule there with a built-in's name and only a weight re-weights
it (weight 0 turns it off), a whole rule with a built-in's name replaces it. Every fault
is a one-line ScorerError naming the file, the rule and what is wrong.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from hrdp.errors import ScorerError
from hrdp.scoring.rule_checks import CHECKS
from hrdp.scoring.rule_set import KINDS, Rule

BUILTIN_FILE = Path(__file__).with_name("rules_builtin.toml")
MAX_WEIGHT = 100.0
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}\Z")


def _problem(where: str, text: str) -> ScorerError:
    return ScorerError(f"rules file {where}: {text}")


def _weight(entry: Mapping[str, Any], where: str) -> float:
    weight = entry.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise _problem(where, "needs a numeric weight")
    if not math.isfinite(weight) or abs(weight) > MAX_WEIGHT:
        raise _problem(where, f"weight {weight} is not in -{MAX_WEIGHT:g}..{MAX_WEIGHT:g}")
    return float(weight)


def _regex(text: object, where: str) -> re.Pattern[str]:
    if not isinstance(text, str) or not text or len(text) > 2000:
        raise _problem(where, "the pattern must be a non-empty string (at most 2000 characters)")
    try:
        return re.compile(text)
    except re.error as exc:
        raise _problem(where, f"bad regular expression {text!r}: {exc}") from None


def _phrases(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(p, str) for p in value):
        raise _problem(where, "phrases must be a non-empty list of strings")
    folded = tuple(" ".join(phrase.lower().split()) for phrase in value)
    if not all(folded):
        raise _problem(where, "phrases must not be blank")
    return folded


def parse_rule(entry: object, where: str) -> Rule:
    """One ``[[rule]]`` table as a Rule; ScorerError naming ``where`` and the fault."""
    if not isinstance(entry, dict):
        raise _problem(where, "is not a table")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise _problem(where, f"name {name!r} is not a letter then letters, digits or _")
    where = f"{where} ({name})"
    unknown = sorted(set(entry) - {"name", "weight", "description", "pattern", "exists", *KINDS})
    if unknown:
        raise _problem(where, f"unknown key {unknown[0]!r}")
    kinds = [kind for kind in KINDS if kind in entry]
    if len(kinds) != 1:
        raise _problem(where, f"needs exactly one of {', '.join(KINDS)}")
    kind, weight = kinds[0], _weight(entry, where)
    description = str(entry.get("description", ""))
    if kind == "check":
        if entry["check"] not in CHECKS:
            raise _problem(where, f"unknown check {entry['check']!r} ({', '.join(CHECKS)})")
        return Rule(name, weight, kind, entry["check"], description=description)
    if kind == "header":
        return _header_rule(entry, name, weight, where, description)
    if kind == "phrases":
        return Rule(name, weight, kind, description=description,
                    phrases=_phrases(entry["phrases"], where))
    return Rule(name, weight, kind, "", _regex(entry[kind], where), description=description)


def _header_rule(entry: dict[str, Any], name: str, weight: float, where: str,
                 description: str) -> Rule:
    header = entry["header"]
    if not isinstance(header, str) or not header.strip():
        raise _problem(where, "header must be a header name")
    exists = entry.get("exists", True)
    if ("pattern" in entry) == ("exists" in entry) or not isinstance(exists, bool):
        raise _problem(where, "a header rule needs a pattern or exists = true/false")
    if "exists" in entry:
        return Rule(name, weight, "header", header, None, entry["exists"], description)
    return Rule(name, weight, "header", header, _regex(entry["pattern"], where), None, description)


def read_rules(path: Path, builtins: Mapping[str, Rule] | None = None) -> dict[str, Rule]:
    """The rules of one TOML file by name; with ``builtins``, the merged rule set."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _problem(str(path), " ".join(str(exc).split())) from None
    entries = document.get("rule", [])
    if set(document) - {"rule"} or not isinstance(entries, list):
        raise _problem(str(path), "expected only [[rule]] tables")
    rules = dict(builtins or {})
    for number, entry in enumerate(entries, 1):
        where = f"{path}: rule {number}"
        if builtins and isinstance(entry, dict) and set(entry) <= {"name", "weight"}:
            old = builtins.get(str(entry.get("name")))
            if old is None:
                raise _problem(f"{where} ({entry.get('name')})", "no built-in rule of that name")
            rules[old.name] = replace(old, weight=_weight(entry, where))
            continue
        rule = parse_rule(entry, where)
        if rule.name in rules and (builtins is None or rule.name not in builtins):
            raise _problem(where, f"rule {rule.name} is defined twice")
        rules[rule.name] = rule
    return rules


def load_rules(user_file: str | None = None) -> list[Rule]:
    """The built-in rules, re-weighted and extended by ``user_file`` when given."""
    rules = read_rules(BUILTIN_FILE)
    if user_file:
        rules = read_rules(Path(user_file), rules)
    return list(rules.values())
