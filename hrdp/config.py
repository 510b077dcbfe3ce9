"""hrdp.toml: any command-line option as a setting; flags on the command line win.

Format (docs/configuration.md)::

    # settings for every command that has them
    dns-zone = ["sample_mail/zone.db"]

    [classify]
    threshold = 5.0
    trust-header = ["spamassassin"]

Keys are option names without the leading dashes ("-" or "_" alike). The file is
``--config FILE``, else ``$HRDP_CONFIG``, else ``./hrdp.toml`` when it exists.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from typing import Any

from hrdp.errors import ConfigError

DEFAULT_NAME = "hrdp.toml"


def find(path: str | None) -> str | None:
    """The config file to read, or None when there is none."""
    if path:
        return path
    env = os.environ.get("HRDP_CONFIG")
    if env:
        return env
    return DEFAULT_NAME if os.path.isfile(DEFAULT_NAME) else None


def read(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _key(name: str) -> str:
    return name.strip().lstrip("-").replace("-", "_")


def default_map(
    data: Mapping[str, Any], commands: Mapping[str, Mapping[str, str]], path: str
) -> dict[str, dict[str, Any]]:
    """Turn the file into click's default_map: {command: {param: value}}.

    ``commands`` maps each command's option names (``dns_zone``, ``format``) to its
    parameter names (``fmt``); an unknown key is an error so a typo never silently
    does nothing.
    """
    shared = {_key(k): v for k, v in data.items() if not isinstance(v, dict)}
    result: dict[str, dict[str, Any]] = {}
    for name, options in commands.items():
        result[name] = {options[k]: v for k, v in shared.items() if k in options}
    for key in shared:
        if not any(key in options for options in commands.values()):
            raise ConfigError(f"{path}: unknown setting '{key.replace('_', '-')}'")
    for section, values in data.items():
        if not isinstance(values, dict):
            continue
        if section not in commands:
            raise ConfigError(f"{path}: unknown section [{section}]")
        for key, value in values.items():
            param = commands[section].get(_key(key))
            if param is None:
                raise ConfigError(f"{path}: unknown setting '{key}' in [{section}]")
            result[section][param] = value
    return result


def to_toml(value: Any) -> str:
    """A setting's value as TOML, for `hrdp config`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, frozenset | tuple | list):
        items = sorted(value) if isinstance(value, frozenset) else list(value)
        return "[" + ", ".join(to_toml(v) for v in items) + "]"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
