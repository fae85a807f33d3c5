"""The URL rules and the allowlist, on their own."""

from __future__ import annotations

import ipaddress

import pytest
from pydantic import ValidationError

from openmira.config import Settings
from openmira.webhooks.addresses import HostPolicy, url_problem


@pytest.mark.parametrize("url", [
    "https://hooks.example.com/in", "http://127.0.0.1:8080/a?b=c&d=%20", "HTTPS://A.EXAMPLE.COM",
    "https://x.example.com:65535/#frag",
])
def test_acceptable_urls(url: str) -> None:
    assert url_problem(url) is None


@pytest.mark.parametrize("url", [
    "ftp://a.example.com/", "https://user:pw@a.example.com/", "https://a.example.com:0/",
    "https://a.example.com:65536/", "https://[::1]/", "https://a.example.com/\n", "https://a.example.com\\@b/",
    "https://-bad.example.com/", "https:///path", "https://a.example.com/ space", "javascript:alert(1)",
    "https://" + "a" * 64 + ".com/", "https://a.example.com/" + "x" * 2100,
])
def test_refused_urls(url: str) -> None:
    assert url_problem(url)


def test_names_wildcards_and_networks() -> None:
    policy = HostPolicy.parse(" Hooks.Example.com, *.corp.example ,10.0.0.0/8,::1, ")
    assert policy.allows_host("hooks.example.com", 443)
    assert policy.allows_host("a.b.corp.example", 80) and not policy.allows_host("corp.example", 443)
    assert policy.allows_host("10.2.3.4", 443) and policy.allows_host("::1", 80)
    assert not policy.allows_host("11.0.0.1", 443) and not policy.allows_host("example.com", 443)


def test_an_entry_without_a_port_allows_80_and_443_only() -> None:
    policy = HostPolicy.parse("hooks.example.com, *.corp.example, 10.0.0.0/8, ::1, *")
    for host in ("hooks.example.com", "a.corp.example", "10.1.1.1", "::1", "anything.example"):
        assert policy.allows_host(host, 80) and policy.allows_host(host, 443), host
        for port in (22, 8080, 8443, 6379):
            assert not policy.allows_host(host, port), (host, port)


def test_entries_with_ports() -> None:
    policy = HostPolicy.parse(
        "hooks.example.com:8443, *.corp.example:*, 10.1.0.0/16:9000, 10.2.0.5:8080, [::1]:8080, [fd00::/8]:*"
    )
    assert policy.allows_host("hooks.example.com", 8443)
    assert not policy.allows_host("hooks.example.com", 443) and not policy.allows_host("hooks.example.com", 8444)
    assert policy.allows_host("x.corp.example", 1) and policy.allows_host("x.corp.example", 65535)
    assert policy.allows_host("10.1.200.3", 9000) and not policy.allows_host("10.1.200.3", 80)
    assert policy.allows_host("10.2.0.5", 8080) and not policy.allows_host("10.2.0.5", 8081)
    assert policy.allows_host("::1", 8080) and not policy.allows_host("::1", 80)
    assert policy.allows_host("fd00::7", 22)
    # At send time the port is checked against the resolved address's entry too.
    assert policy.refusal("hooks.example.com", 8443, _ips("93.184.216.34")) is None
    assert policy.refusal("hooks.example.com", 443, _ips("93.184.216.34"))
    assert policy.refusal("x.corp.example", 22, _ips("10.1.0.9"))  # a private address listed for 9000 only
    assert policy.refusal("x.corp.example", 9000, _ips("10.1.0.9")) is None
    assert HostPolicy.parse("*:8443").allows_host("any.example", 8443)
    assert not HostPolicy.parse("*:8443").allows_host("any.example", 443)
    assert HostPolicy.parse("*:*").refusal("x", 22, _ips("127.0.0.1")) is None
    assert HostPolicy.parse("[::1]").allows_host("::1", 443)


def _ips(*values: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    return [ipaddress.ip_address(v) for v in values]


def test_at_send_a_listed_name_reaches_public_addresses_only() -> None:
    policy = HostPolicy.parse("hooks.example.com,10.1.0.0/16")
    assert policy.refusal("hooks.example.com", 443, _ips("93.184.216.34")) is None
    assert policy.refusal("hooks.example.com", 443, _ips("10.1.2.3")) is None  # listed network
    for private in ("127.0.0.1", "10.2.0.1", "192.168.1.1", "169.254.169.254", "::1", "fd00::1", "0.0.0.0"):
        assert policy.refusal("hooks.example.com", 443, _ips(private)), private
    # One bad answer among good ones is enough to refuse.
    assert policy.refusal("hooks.example.com", 443, _ips("93.184.216.34", "127.0.0.1"))
    assert policy.refusal("hooks.example.com", 443, [])
    # An unlisted name never passes, whatever it resolves to.
    assert policy.refusal("other.example.com", 443, _ips("93.184.216.34"))


def test_anywhere_allows_everything_and_empty_nothing() -> None:
    anywhere, nowhere = HostPolicy.parse("*"), HostPolicy.parse("")
    assert anywhere.allows_host("127.0.0.1", 80) and anywhere.refusal("x", 443, _ips("127.0.0.1")) is None
    assert not nowhere.allows_host("hooks.example.com", 443) and not nowhere.allows_host("127.0.0.1", 80)


@pytest.mark.parametrize("setting", [
    "10.0.0.0/33", "hooks example.com", "*.", "https://hooks.example.com", "hooks.example.com:0",
    "hooks.example.com:65536", "hooks.example.com:http", "[::1", "[::1]8080", "[::1]:", ":8080", "*.:443",
])
def test_a_mistyped_allowlist_fails_at_start_up(setting: str) -> None:
    with pytest.raises(ValidationError):
        Settings(webhook_allowed_hosts=setting)
