"""Which webhook targets are refused (issue 14, M1): every address class, allowed networks, and
every address a name resolves to. Pure: the resolver is a table."""

from __future__ import annotations

import re

import pytest

from smartpark.webhook_targets import TargetPolicy, TargetRefused


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6 is the IPv4 address
        ("169.254.169.254", "link-local"),  # a cloud's metadata service
        ("fe80::1", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.10", "private"),
        ("fd12:3456::1", "private"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "not globally routable"),  # carrier-grade NAT
    ],
)
def test_non_public_addresses_are_refused_by_class(address: str, why: str) -> None:
    policy = TargetPolicy()
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(TargetRefused, match=f"is a {why} address"):
        policy.check_url(f"http://{host}:8080/hook")


@pytest.mark.parametrize("url", ["https://93.184.215.14/hook", "http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/x"])
def test_public_addresses_are_targets(url: str) -> None:
    assert TargetPolicy().check_url(url)


def test_an_allowed_network_admits_its_addresses_only() -> None:
    policy = TargetPolicy.from_cidrs(["10.20.0.0/16", "fd00::/8"])
    assert policy.check_url("http://10.20.3.4/hook") == ["10.20.3.4"]
    assert policy.check_url("http://[fd00::5]/hook") == ["fd00::5"]
    with pytest.raises(TargetRefused, match=re.escape("10.21.0.1 is a private address")):
        policy.check_url("http://10.21.0.1/hook")
    with pytest.raises(ValueError, match=re.escape("'10.0.0.0/33' is not a CIDR")):
        TargetPolicy.from_cidrs(["10.0.0.0/33"])


def test_every_address_of_a_name_is_checked() -> None:
    names = {
        "hooks.example": ["93.184.215.14"],
        "split.example": ["93.184.215.14", "169.254.169.254"],  # one bad address is enough
        "nowhere.example": [],
    }
    policy = TargetPolicy(resolver=lambda host, port: names[host])
    assert policy.check_url("https://hooks.example/x") == ["93.184.215.14"]
    with pytest.raises(TargetRefused, match=re.escape("'split.example': 169.254.169.254 is a link-local")):
        policy.check_url("https://split.example/x")
    with pytest.raises(TargetRefused, match="resolves to no address"):
        policy.check_url("https://nowhere.example/x")
    with pytest.raises(TargetRefused, match="not http"):
        policy.check_url("ftp://hooks.example/x")
