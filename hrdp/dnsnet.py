"""The network backend of the sender-domain check: dnspython's asyncio resolver.

MX, A and AAAA are asked concurrently for every domain and many domains at once, from one
event loop in a daemon thread (see dnscheck.py for the decision they feed).
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from concurrent.futures import Future

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.resolver

from hrdp.dnscheck import (
    MAX_IN_FLIGHT,
    QUERY_TYPES,
    Answer,
    AnswerStatus,
    DnsVerdict,
    decide,
    rdata_values,
)
from hrdp.errors import DnsError


def _failure_status(exc: dns.resolver.NoNameservers) -> AnswerStatus:
    """SERVFAIL or REFUSED from the rcode dnspython recorded; anything else is "error"."""
    for error in exc.kwargs.get("errors", []):
        if error[3] == "SERVFAIL":
            return "servfail"
        if error[3] == "REFUSED":
            return "refused"
    return "error"


class NetworkBackend:
    """MX, A and AAAA asked concurrently for every domain, many domains at once.

    One asyncio loop runs in a daemon thread; callers get concurrent.futures back, so a
    batch of messages stalls for about one lifetime however many silent domains it holds.
    """

    def __init__(self, resolver: dns.asyncresolver.Resolver, limit: int = MAX_IN_FLIGHT) -> None:
        self.queries = 0
        self.peak_in_flight = 0
        self._in_flight = 0
        self._resolver = resolver
        self._semaphore = asyncio.Semaphore(limit)  # bound to the loop at first use
        self._loop = asyncio.new_event_loop()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="hrdp-dns", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    def resolve(self, name: str) -> Future[DnsVerdict]:
        if self._closed:
            raise RuntimeError("the DNS checker is closed")
        return asyncio.run_coroutine_threadsafe(self._check(name), self._loop)

    async def _check(self, name: str) -> DnsVerdict:
        async with self._semaphore:
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
            try:
                qname = dns.name.from_text(name)
                found = await asyncio.gather(*(self._ask(qname, t) for t in QUERY_TYPES))
            finally:
                self._in_flight -= 1
        return decide(dict(zip(QUERY_TYPES, found, strict=True)))

    async def _ask(self, qname: dns.name.Name, rdtype: str) -> Answer:
        self.queries += 1
        try:
            answer = await self._resolver.resolve(qname, rdtype, search=False)
        except dns.resolver.NXDOMAIN:
            return Answer("nxdomain")
        except dns.resolver.NoAnswer:
            return Answer("nodata")
        except dns.resolver.NoNameservers as exc:
            return Answer(_failure_status(exc))
        except dns.exception.Timeout:  # LifetimeTimeout: the server stayed silent
            return Answer("timeout")
        except dns.exception.DNSException:
            return Answer("error")
        return Answer("records", rdata_values(answer))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()


def parse_nameserver(text: str) -> tuple[str, int]:
    """``HOST[:PORT]`` (IPv6 as ``[::1]:5353`` or bare ``::1``) -> (address, port)."""
    value = text.strip()
    host, port = value, "53"
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise DnsError(f"bad nameserver {text!r}: use HOST[:PORT] or [IPv6]:PORT")
        port = rest[1:] if rest else port
    elif value.count(":") == 1:
        host, _colon, port = value.partition(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise DnsError(f"bad nameserver {text!r}: {host!r} is not an IP address") from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise DnsError(f"bad nameserver {text!r}: port {port!r} is not 1-65535")
    return str(address), int(port)


def make_resolver(
    nameserver: str | None, timeout: float, lifetime: float
) -> dns.asyncresolver.Resolver:
    if timeout <= 0 or lifetime <= 0:
        raise DnsError("DNS timeout and lifetime must be positive")
    if nameserver is None:
        try:
            resolver = dns.asyncresolver.Resolver()  # /etc/resolv.conf
        except (dns.resolver.NoResolverConfiguration, OSError) as exc:
            raise DnsError(f"no usable nameserver in /etc/resolv.conf: {exc}") from None
    else:
        address, port = parse_nameserver(nameserver)
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(address, port)]
    resolver.timeout = timeout
    resolver.lifetime = lifetime
    resolver.cache = None  # DomainChecker keeps one verdict per domain for the whole run
    return resolver


