"""Find scorers through the ``hrdp.scorers.v1`` entry-point group and start one.

Built-in scorers are declared in hrdp's own pyproject.toml and come through the same
door as third-party plugins (as in llm); the group name is versioned (as in httpie) so
a changed contract can get a new group. A plugin that fails to import breaks only
itself: asking for it raises ScorerError, listing reports a warning and goes on.

Third-party plugins and pytest (as llm does it): a plugin installed in a developer's
environment must not change test results, so

- ``HRDP_LOAD_PLUGINS=1`` loads third-party plugins, ``HRDP_LOAD_PLUGINS=0`` never does;
- unset: they are loaded, unless pytest is running (``"pytest" in sys.modules``).

Built-ins (entry points whose module is inside the ``hrdp`` package) are always loaded.
A third-party plugin cannot take a built-in's name: the built-in wins, with a warning.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib.metadata import EntryPoint, entry_points

from hrdp.errors import ScorerError
from hrdp.scoring.base import Scorer

GROUP = "hrdp.scorers.v1"
ENV_LOAD_PLUGINS = "HRDP_LOAD_PLUGINS"

Warn = Callable[[str], None]


def plugins_enabled() -> bool:
    """Whether third-party plugins are loaded (see the module docstring)."""
    setting = os.environ.get(ENV_LOAD_PLUGINS, "").strip().lower()
    if setting in ("1", "true", "yes", "on"):
        return True
    if setting in ("0", "false", "no", "off"):
        return False
    return "pytest" not in sys.modules


def _is_builtin(ep: EntryPoint) -> bool:
    return ep.module == "hrdp" or ep.module.startswith("hrdp.")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _entry_points(on_warning: Warn | None) -> dict[str, EntryPoint]:
    """Usable entry points by scorer name, built-ins first so none can be shadowed."""
    third_party = plugins_enabled()
    found: dict[str, EntryPoint] = {}
    ordered: Iterable[EntryPoint] = sorted(
        entry_points(group=GROUP), key=lambda ep: (not _is_builtin(ep), ep.name)
    )
    for ep in ordered:
        if not third_party and not _is_builtin(ep):
            continue
        taken = found.get(ep.name)
        if taken is None:
            found[ep.name] = ep
        elif taken.value != ep.value and on_warning is not None:
            on_warning(
                f"scorer {ep.name!r} from {ep.value} ignored: the name is taken by {taken.value}"
            )
    return found


def _import_failure(name: str, ep: EntryPoint, exc: BaseException) -> str:
    return f"scorer plugin {name!r} ({ep.value}) failed to import: {_one_line(exc)}"


def _describe(ep: EntryPoint, factory: object) -> str:
    doc = inspect.getdoc(factory)
    summary = doc.strip().splitlines()[0].strip() if doc and doc.strip() else ""
    return summary or ep.value


def available(on_warning: Warn | None = None) -> dict[str, str]:
    """Installed scorers: name -> one-line description (``module:attr`` when it has none).

    Each plugin is imported to describe it; one that fails to import is left out and
    reported through ``on_warning`` (one line, for stderr) instead of raising.
    """
    listing: dict[str, str] = {}
    for name, ep in _entry_points(on_warning).items():
        try:
            factory = ep.load()
        except Exception as exc:  # any import-time failure of a plugin, by design (httpie)
            if on_warning is not None:
                on_warning(_import_failure(name, ep, exc))
            continue
        listing[name] = _describe(ep, factory)
    return listing


def _unknown(name: str, known: Iterable[str]) -> str:
    message = f"unknown scorer {name!r}; installed: {', '.join(sorted(known)) or 'none'}"
    if not plugins_enabled():
        message += f" (third-party plugins are off; {ENV_LOAD_PLUGINS}=1 turns them on)"
    return message


def load(name: str, options: Mapping[str, str], threshold: float | None) -> Scorer:
    """Start the scorer ``name`` as ``factory(options, threshold)``.

    Raises ScorerError (one line, for users) when the name is unknown, the plugin fails
    to import, the factory rejects its options or fails, or the object it returns is
    not a Scorer.
    """
    found = _entry_points(None)
    ep = found.get(name)
    if ep is None:
        raise ScorerError(_unknown(name, found))
    try:
        factory = ep.load()
    except Exception as exc:  # any import-time failure of the plugin asked for
        raise ScorerError(_import_failure(name, ep, exc)) from exc
    try:
        scorer = factory(dict(options), threshold)
    except ScorerError:
        raise
    except Exception as exc:  # a plugin bug or a non-ScorerError option check
        raise ScorerError(f"scorer {name!r} could not start: {_one_line(exc)}") from exc
    if not isinstance(scorer, Scorer):
        raise ScorerError(f"scorer {name!r} ({ep.value}) does not provide name and score()")
    return scorer


def parse_options(pairs: Sequence[str]) -> dict[str, str]:
    """``--scorer-opt KEY=VALUE`` pairs as a dict (the value may hold "="; last key wins)."""
    options: dict[str, str] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        key = key.strip()
        if not equals or not key:
            raise ScorerError(f"bad --scorer-opt {pair!r}: expected KEY=VALUE")
        options[key] = value
    return options
