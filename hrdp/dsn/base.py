"""The Detector protocol: the door every bounce detector goes through."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from hrdp.dsn.report import Finding
    from hrdp.message import ParsedMessage


@runtime_checkable
class Detector(Protocol):
    """One family of bounce formats (an RFC, an MTA, a heuristic).

    ``examine()`` asks the detectors in order of authority and keeps the first
    answer, so a detector answers only when its format is recognised and returns
    None otherwise. A detector reads cheap facts (headers, content type) before it
    walks or decodes any body part; ``hrdp.dsn.evidence.evidence()`` caches them.
    """

    name: str

    def detect(self, message: ParsedMessage) -> Finding | None:
        """A Finding when this detector recognises the message, None otherwise."""
        ...
