"""Answer sender-domain checks from RFC 1035 zone files, with no network.

The answers are those a real authoritative server and resolver would give (RFC 1034
section 4.3.2, RFC 2308, RFC 4592), checked against unbound 1.17 serving the same file
(tests/test_dnscheck.py runs one table over both):
- a name with no node and no names below it: NXDOMAIN; an existing name without the
  type, or an empty non-terminal (no records, names below it): NODATA;
- CNAME chains followed up to 10 hops (Postfix's limit); a CNAME to a missing name is
  NODATA, as unbound answers it (both mean "no A/MX" anyway); a longer chain or a loop
  is SERVFAIL;
- a wildcard ``*.wild`` covers ``x.wild`` and ``a.b.wild`` unless the name, or ``b.wild``,
  exists (RFC 4592 section 2.2: synthesis from the closest encloser only);
- names outside every loaded zone, or at or below a delegation in one, are REFUSED: the
  loaded data cannot answer them, so the check is a tempfail, never "absent".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.node
import dns.rdataclass
import dns.rdatatype
import dns.zone

from hrdp.dnscheck import QUERY_TYPES, Answer, DnsVerdict, decide, done, rdata_values
from hrdp.errors import DnsError

MAX_CNAME_HOPS = 10
_WILDCARD = dns.name.Name((b"*",))
# An owner in the first column, then (class, TTL) and the type SOA, before any comment.
_SOA_LINE = re.compile(r"^([^\s;$]\S*)\s[^;\n]*?\bSOA\s", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class LoadedZone:
    zone: dns.zone.Zone
    origin: dns.name.Name
    names: frozenset[dns.name.Name]  # owner names and every name between them and the origin
    cuts: frozenset[dns.name.Name]  # delegation points (NS below the apex)

    @classmethod
    def of(cls, zone: dns.zone.Zone) -> LoadedZone:
        assert zone.origin is not None  # from_file sets it or raises UnknownOrigin
        names: set[dns.name.Name] = set()
        cuts: set[dns.name.Name] = set()
        for name, node in zone.nodes.items():
            if name != zone.origin and node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NS):
                cuts.add(name)
            while name not in names and name.is_subdomain(zone.origin):
                names.add(name)
                if name == zone.origin:
                    break
                name = name.parent()
        return cls(zone, zone.origin, frozenset(names), frozenset(cuts))

    def delegated(self, name: dns.name.Name) -> bool:
        return any(name.is_subdomain(cut) for cut in self.cuts)

    def node(self, name: dns.name.Name) -> dns.node.Node | None:
        """The node answering for ``name``: its own, a wildcard's (RFC 4592), or None."""
        if name in self.names:
            return self.zone.get_node(name)  # None for an empty non-terminal
        encloser = name.parent()
        while encloser not in self.names:  # the origin is always in names
            encloser = encloser.parent()
        return self.zone.get_node(_WILDCARD.concatenate(encloser))


def _soa_owner(path: str) -> dns.name.Name:
    """The origin of a file with no $ORIGIN: the absolute owner of its SOA record.

    Found by a line scan; dnspython then checks that the SOA really is at that origin.
    """
    with open(path, encoding="utf-8") as handle:
        match = _SOA_LINE.search(handle.read())
    if match is None or not match.group(1).endswith("."):
        raise dns.zone.UnknownOrigin
    return dns.name.from_text(match.group(1))


def load_zone(path: str) -> dns.zone.Zone:
    """Parse one zone file; DnsError with the file name (and line, when dnspython has it)."""
    try:
        try:
            return dns.zone.from_file(path, origin=None, relativize=False)
        except dns.zone.UnknownOrigin:
            return dns.zone.from_file(path, origin=_soa_owner(path), relativize=False)
    except dns.zone.UnknownOrigin:
        raise DnsError(f"{path}: zone origin unknown: add $ORIGIN or an absolute SOA") from None
    except dns.exception.SyntaxError as exc:
        raise DnsError(f"bad zone file {exc}") from None  # text is "FILE:LINE: problem"
    except dns.exception.DNSException as exc:
        raise DnsError(f"bad zone file {path}: {exc}") from None
    except OSError as exc:
        raise DnsError(f"cannot read zone file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise DnsError(f"bad zone file {path}: not UTF-8 text") from None


class ZoneBackend:
    """Answers synchronously from the loaded zones; futures come back already done."""

    def __init__(self, zones: Sequence[dns.zone.Zone]) -> None:
        loaded = [LoadedZone.of(zone) for zone in zones]
        # Most specific zone first, as a resolver follows delegations down to it.
        self._zones = sorted(loaded, key=lambda z: len(z.origin), reverse=True)
        self.queries = 0
        self.peak_in_flight = 0

    @classmethod
    def load(cls, paths: Sequence[str]) -> ZoneBackend:
        zones: dict[dns.name.Name, str] = {}
        parsed = []
        for path in paths:
            zone = load_zone(path)
            assert zone.origin is not None
            if zone.origin in zones:
                raise DnsError(
                    f"{path}: zone {zone.origin} is already loaded from {zones[zone.origin]}"
                )
            zones[zone.origin] = path
            parsed.append(zone)
        return cls(parsed)

    def resolve(self, name: str) -> Future[DnsVerdict]:
        self.peak_in_flight = 1
        qname = dns.name.from_text(name)
        return done(decide({rdtype: self.query(qname, rdtype) for rdtype in QUERY_TYPES}))

    def _zone_for(self, name: dns.name.Name) -> LoadedZone | None:
        for zone in self._zones:
            if name.is_subdomain(zone.origin):
                return zone
        return None

    def query(self, qname: dns.name.Name, rdtype: str) -> Answer:
        """One query, answered as an authoritative server plus a resolver would."""
        self.queries += 1
        wanted = dns.rdatatype.from_text(rdtype)
        name = qname
        for _hop in range(MAX_CNAME_HOPS + 1):
            zone = self._zone_for(name)
            if zone is None or zone.delegated(name):
                return Answer("refused")
            node = zone.node(name)
            if node is None:
                missing = name == qname and name not in zone.names
                return Answer("nxdomain" if missing else "nodata")
            rdataset = node.get_rdataset(dns.rdataclass.IN, wanted)
            if rdataset:
                return Answer("records", rdata_values(rdataset))
            cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if not cname:
                return Answer("nodata")
            name = cname[0].target
        return Answer("servfail")  # chain too long, or a loop

    def close(self) -> None:
        pass
