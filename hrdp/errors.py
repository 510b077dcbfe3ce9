"""Errors that library code raises; only cli.py turns them into one-line messages."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Every exit status hrdp uses (docs/usage.md documents them)."""

    OK = 0
    ERROR = 1  # a path, a config file or an output file could not be used
    USAGE = 2  # click's own code for bad options
    INCOMPLETE = 3  # some messages could not be read or fully checked
    HIGH_RISK = 4  # --check only: at least one message goes to the high-risk pool
    TEMPFAIL = 75  # sysexits EX_TEMPFAIL, for MTA filter mode


class HrdpError(Exception):
    """Base of every error hrdp reports to a user; the text is one line written for people."""


class InputError(HrdpError):
    """An input path or archive cannot be read."""


class DnsError(HrdpError):
    """The DNS set-up is unusable (bad zone file, bad nameserver address)."""


class ScorerError(HrdpError):
    """A scorer cannot give a verdict (backend down, bad option, bad reply)."""


class ConfigError(HrdpError):
    """A configuration file or option value is wrong."""
