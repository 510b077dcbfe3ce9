"""The Scorer protocol and its result: the door every scorer, built-in or plugin, uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from hrdp.message import ParsedMessage


@dataclass(frozen=True)
class Score:
    """A verdict: spam when ``value >= threshold`` (as SpamAssassin and rspamd decide).

    ``detail`` names what the value came from (the header, the rules that hit) so a
    user can see why; it is free text for people, not parsed by hrdp.
    """

    value: float
    threshold: float
    spam: bool
    detail: list[str] = field(default_factory=list)


@runtime_checkable
class Scorer(Protocol):
    """A spam scorer, registered under the ``hrdp.scorers.v1`` entry-point group.

    The entry point names a callable (usually the class) called as
    ``factory(options: dict[str, str], threshold: float | None)``; ``options`` come from
    ``--scorer-opt KEY=VALUE`` and ``threshold`` from ``--threshold`` (None: the scorer's
    own default). A factory raises ScorerError for bad options.
    """

    name: str

    def score(self, message: ParsedMessage) -> Score | None:
        """The verdict on one message, or None when the scorer has no opinion (the
        ``headers`` scorer on a message with no trusted verdict header). Raises
        ScorerError when the backend fails: never return a clean verdict for an outage."""
        ...
