"""A batch of results on its way from a worker process to the main process: flat tuples.

Pickled as dataclass trees (Partial > Result > Sender > Domain, Score, Facts), a row costs
a dict per object to pickle and a new object and dict per object to unpickle: about
11 µs a row in all, paid by --jobs N and not by --jobs 1. As one tuple of plain values
it costs about a third of that. The main process builds the dataclasses again and lets
rows of one batch share equal value objects (they repeat a few sender domains and facts),
as a --jobs 1 run lets them share its placeholders: nothing changes a Domain, a Sender or
a Facts after it is made.

``pack`` and ``unpack`` know every field of Result and Partial (tests/test_wire.py fails
when one is added and not carried here).
"""

from __future__ import annotations

from typing import Any

from hrdp.examine import _NO_FACTS, _NOTHING, _UNDECIDED, Partial, Result
from hrdp.message import Domain, Sender
from hrdp.pool import Facts
from hrdp.scoring.base import Score

Row = tuple[Any, ...]

RESULT_FIELDS = ("source", "index", "decision", "message_id", "sender", "finding", "dns",
                 "score", "scorer", "error", "warnings")
PARTIAL_FIELDS = ("result", "facts", "domain", "score")
_NO_DOMAIN, _SENDER_DOMAIN = 0, 1  # Partial.domain: None, or the sender's domain object


def pack(partials: list[Partial]) -> list[Row]:
    return [_pack(partial) for partial in partials]


def _pack(partial: Partial) -> Row:
    if partial.score is not None:
        raise ValueError("a daemon score still in flight cannot leave its process")
    result, facts, domain = partial.result, partial.facts, partial.domain
    sender, score = result.sender, result.score
    return (
        result.source,
        result.index,
        None if result.decision is _UNDECIDED else result.decision,
        result.message_id,
        None if sender is None else (sender.address, sender.source, sender.domain.name,
                                     sender.domain.skip, sender.domain.invalid),
        None if result.finding is _NOTHING else result.finding,
        result.dns,
        None if score is None else (score.value, score.threshold, score.spam, score.detail),
        result.scorer,
        result.error,
        result.warnings or None,
        None if facts is _NO_FACTS else (facts.malformed, facts.dsn, facts.dns, facts.spam,
                                         facts.scorer_failed),
        _NO_DOMAIN if domain is None
        else _SENDER_DOMAIN if sender is not None and domain is sender.domain else domain,
    )


def unpack(rows: list[Row]) -> list[Partial]:
    senders: dict[tuple[Any, ...], Sender] = {}
    facts_seen: dict[tuple[Any, ...], Facts] = {}
    partials = []
    for (source, index, decision, message_id, sender_key, finding, dns, score_key, scorer,
         error, warnings, facts_key, domain) in rows:
        sender = None
        if sender_key is not None:
            sender = senders.get(sender_key)
            if sender is None:
                address, origin, name, skip, invalid = sender_key
                sender = senders[sender_key] = Sender(address, origin, Domain(name, skip, invalid))
        if facts_key is None:
            facts = _NO_FACTS
        elif facts_key[1] is not None:  # a DSN report: not hashable, and one per row anyway
            facts = Facts(*facts_key)
        else:
            facts = facts_seen.get(facts_key) or facts_seen.setdefault(facts_key, Facts(*facts_key))
        result = Result(source, index, decision or _UNDECIDED, message_id, sender,
                        finding or _NOTHING, dns, None if score_key is None else Score(*score_key),
                        scorer, error, warnings or [])
        if domain == _NO_DOMAIN:
            domain = None
        elif domain == _SENDER_DOMAIN:
            domain = sender.domain if sender is not None else None
        partials.append(Partial(result, facts, domain))
    return partials
