"""Where deliveries may go: the URL syntax the API accepts and the operator's allowlist.

The allowlist (``OPENMIRA_WEBHOOK_ALLOWED_HOSTS``) holds host names (``hooks.example.com``, or
``*.example.com`` for its subdomains), IP addresses and CIDRs, or ``*`` for anywhere, each with an
optional port (``hooks.example.com:8443``, ``[::1]:8080``, ``10.1.0.0/16:*`` for any port); an entry
without one allows ports 80 and 443 only, so a listed internal host is not open to a port scan. It is checked
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


def url_port(url: str) -> int:
    """The port a URL reaches: its own, or its scheme's."""
    parts = urlsplit(url)
    return parts.port or (443 if parts.scheme.lower() == "https" else 80)


def _ip(value: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


Ports = frozenset[int] | None  # None: any port
DEFAULT_PORTS: Ports = frozenset({80, 443})
_PORT_ENTRY = re.compile(_PORT)


def _ports(value: str, entry: str) -> Ports:
    if value == "*":
        return None
    if not _PORT_ENTRY.fullmatch(value):
        raise ValueError(f"{entry!r}: the port must be 1 to 65535, or * for any")
    return frozenset({int(value)})


def _split_port(entry: str) -> tuple[str, Ports]:
    """``host:port``, ``[v6]:port``, ``[v6]``, a bare IPv6 address or network, or a host without a port."""
    if entry.startswith("["):
        inside, bracket, rest = entry[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{entry!r} is not [IPv6 address] or [IPv6 address]:port")
        return inside, _ports(rest[1:], entry) if rest else DEFAULT_PORTS
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        return host, _ports(port, entry)
    return entry, DEFAULT_PORTS  # no colon, or a bare IPv6 address (whose port needs the brackets)


def _port_ok(ports: Ports, port: int) -> bool:
    return ports is None or port in ports


@dataclass(frozen=True)
class HostPolicy:
    """The parsed allowlist: each entry a host (name, ``*.domain``, address or network, or ``*``) and the
    ports it may be reached on (80 and 443 unless the entry names one, ``:*`` for any)."""

    anywhere: tuple[Ports, ...]
    names: tuple[tuple[str, Ports], ...]
    suffixes: tuple[tuple[str, Ports], ...]
    networks: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, Ports], ...]

    @classmethod
    def parse(cls, setting: str) -> HostPolicy:
        names: list[tuple[str, Ports]] = []
        suffixes: list[tuple[str, Ports]] = []
        networks = []
        anywhere: list[Ports] = []
        for entry in (e.strip().lower() for e in setting.split(",")):
            if not entry:
                continue
            host, ports = _split_port(entry)
            if host == "*":
                anywhere.append(ports)
            elif host.startswith("*."):
                suffix = host[1:].rstrip(".")
                if not _NAME.fullmatch(suffix[1:]):  # "*." alone must not become "*"
                    raise ValueError(f"{entry!r} is not a *.domain wildcard")
                suffixes.append((suffix, ports))
            else:
                host = host.rstrip(".")
                try:
                    networks.append((ipaddress.ip_network(host, strict=False), ports))
                except ValueError:
                    if not _NAME.fullmatch(host):
                        raise ValueError(
                            f"{entry!r} is not a host name, *.domain, IP address or CIDR (with an optional :port)"
                        ) from None
                    names.append((host, ports))
        return cls(tuple(anywhere), tuple(names), tuple(suffixes), tuple(networks))

    def _anywhere(self, port: int) -> bool:
        return any(_port_ok(ports, port) for ports in self.anywhere)

    def _name_listed(self, host: str, port: int) -> bool:
        return any(host == name and _port_ok(ports, port) for name, ports in self.names) or any(
            host.endswith(suffix) and _port_ok(ports, port) for suffix, ports in self.suffixes
        )

    def _address_listed(self, address: IPAddress, port: int) -> bool:
        return any(address in network and _port_ok(ports, port) for network, ports in self.networks)

    def allows_host(self, host: str, port: int) -> bool:
        """The check when an endpoint is saved: is the URL's host, on its port, one the operator listed?"""
        if self._anywhere(port):
            return True
        address = _ip(host)
        return self._address_listed(address, port) if address is not None else self._name_listed(host, port)

    def refusal(self, host: str, port: int, addresses: list[IPAddress]) -> str | None:
        """The check when a delivery is sent, on what ``host`` resolved to: why it is refused, or None."""
        if self._anywhere(port):
            return None
        if not addresses:
            return f"{host} did not resolve to any address"
        for address in addresses:
            if self._address_listed(address, port):
                continue
            if address.is_global and self._name_listed(host, port):
                continue
            return f"{host} resolved to {address}, which is not in OPENMIRA_WEBHOOK_ALLOWED_HOSTS for port {port}"
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
