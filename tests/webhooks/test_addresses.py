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
    assert policy.allows_host("hooks.example.com")
    assert policy.allows_host("a.b.corp.example") and not policy.allows_host("corp.example")
    assert policy.allows_host("10.2.3.4") and policy.allows_host("::1")
    assert not policy.allows_host("11.0.0.1") and not policy.allows_host("example.com")


def _ips(*values: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    return [ipaddress.ip_address(v) for v in values]


def test_at_send_a_listed_name_reaches_public_addresses_only() -> None:
    policy = HostPolicy.parse("hooks.example.com,10.1.0.0/16")
    assert policy.refusal("hooks.example.com", _ips("93.184.216.34")) is None
    assert policy.refusal("hooks.example.com", _ips("10.1.2.3")) is None  # listed network
    for private in ("127.0.0.1", "10.2.0.1", "192.168.1.1", "169.254.169.254", "::1", "fd00::1", "0.0.0.0"):
        assert policy.refusal("hooks.example.com", _ips(private)), private
    # One bad answer among good ones is enough to refuse.
    assert policy.refusal("hooks.example.com", _ips("93.184.216.34", "127.0.0.1"))
    assert policy.refusal("hooks.example.com", [])
    # An unlisted name never passes, whatever it resolves to.
    assert policy.refusal("other.example.com", _ips("93.184.216.34"))


def test_anywhere_allows_everything_and_empty_nothing() -> None:
    anywhere, nowhere = HostPolicy.parse("*"), HostPolicy.parse("")
    assert anywhere.allows_host("127.0.0.1") and anywhere.refusal("x", _ips("127.0.0.1")) is None
    assert not nowhere.allows_host("hooks.example.com") and not nowhere.allows_host("127.0.0.1")


@pytest.mark.parametrize("setting", ["10.0.0.0/33", "hooks example.com", "*.", "https://hooks.example.com"])
def test_a_mistyped_allowlist_fails_at_start_up(setting: str) -> None:
    with pytest.raises(ValidationError):
        Settings(webhook_allowed_hosts=setting)
