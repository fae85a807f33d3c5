"""Where deliveries may go: the URL syntax the API accepts and the operator's allowlist.

The allowlist (``OPENMIRA_WEBHOOK_ALLOWED_HOSTS``) holds host names (``hooks.example.com``, or
``*.example.com`` for its subdomains), IP addresses and CIDRs, or ``*`` for anywhere. It is checked
twice: on the URL when an endpoint is saved, and on the resolved addresses when a delivery is sent, so a
name that was allowed cannot later be pointed (DNS rebinding) at an address the operator did not list:
a listed name may resolve to public addresses, but a loopback, private, link-local or otherwise
non-global address is reached only when that address (or a CIDR holding it) is itself listed.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
# http or https, a host name or dotted IPv4 (no user info, no IPv6 literal), an optional port, then any
# printable ASCII but a backslash (which some parsers read as a slash).
URL_PATTERN = rf"^[Hh][Tt][Tt][Pp][Ss]?://{_LABEL}(?:\.{_LABEL})*\.?(?::{_PORT})?(?:[/?#][!-\[\]-~]*)?$"
URL_MAX_LENGTH = 2048
_URL = re.compile(URL_PATTERN)
_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


def url_problem(url: str) -> str | None:
    """Why ``url`` is not an acceptable webhook URL, or None. The same rules as ``URL_PATTERN``."""
    if len(url) > URL_MAX_LENGTH or not _URL.fullmatch(url):
        return "must be an http or https URL with a host name or IPv4 address, no user name or password"
    return None


def url_host(url: str) -> str:
    return (urlsplit(url).hostname or "").rstrip(".").lower()


def _ip(value: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class HostPolicy:
    anywhere: bool
    names: frozenset[str]
    suffixes: tuple[str, ...]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def parse(cls, setting: str) -> HostPolicy:
        names: set[str] = set()
        suffixes: list[str] = []
        networks = []
        anywhere = False
        for entry in (e.strip().lower() for e in setting.split(",")):
            if not entry:
                continue
            if entry == "*":
                anywhere = True
            elif entry.startswith("*."):
                suffixes.append(entry[1:].rstrip("."))
            else:
                entry = entry.rstrip(".")
                try:
                    networks.append(ipaddress.ip_network(entry, strict=False))
                except ValueError:
                    if not _NAME.fullmatch(entry):
                        raise ValueError(f"{entry!r} is not a host name, *.domain, IP address or CIDR") from None
                    names.add(entry)
        for suffix in suffixes:
            if not _NAME.fullmatch(suffix[1:]):  # "*." alone must not become "*"
                raise ValueError(f"'*{suffix}' is not a *.domain wildcard")
        return cls(anywhere, frozenset(names), tuple(suffixes), tuple(networks))

    def _name_listed(self, host: str) -> bool:
        return host in self.names or any(host.endswith(s) for s in self.suffixes)

    def _address_listed(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)

    def allows_host(self, host: str) -> bool:
        """The check when an endpoint is saved: is the URL's host one the operator listed?"""
        if self.anywhere:
            return True
        address = _ip(host)
        return self._address_listed(address) if address is not None else self._name_listed(host)

    def refusal(self, host: str, addresses: list[IPAddress]) -> str | None:
        """The check when a delivery is sent, on what ``host`` resolved to: why it is refused, or None."""
        if self.anywhere:
            return None
        if not addresses:
            return f"{host} did not resolve to any address"
        for address in addresses:
            if self._address_listed(address):
                continue
            if address.is_global and self._name_listed(host):
                continue
            return f"{host} resolved to {address}, which is not in OPENMIRA_WEBHOOK_ALLOWED_HOSTS"
        return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    literal = _ip(host)
    if literal is not None:
        return [literal]
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found
