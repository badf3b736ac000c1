"""Pages go only where the target policy allows, checked when connecting on the very address
connected to: a robot, SMS gateway or SMTP host whose name resolves to 127.0.0.1,
169.254.169.254 or 10.x is refused unless SMARTPARK_WEBHOOK_ALLOWED_NETWORKS allows it, and an
allowed name is resolved once (the HTTP and SMTP clients never look it up again, so it cannot be
rebound between the check and the connection). Real local servers on 127.0.0.1."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpcore
import pytest

from alerting.delivery import DeliveryError, GuardedBackend
from alerting.messages import Message
from alerting.paging import LinkSettings, Pager
from alerting.routing import Receiver
from benchmarks.paging_endpoints import PlatformServer, SmtpServer, receivers_for
from smartpark.webhook_targets import TargetPolicy

MESSAGE = Message("[紧急] 可燃气体一级报警", "gd1 31.5 %LEL", "<p>gd1</p>", "**gd1**", "紧急 gd1 31.5%LEL(≥25)")
INSIDE = [("127.0.0.1", "loopback"), ("169.254.169.254", "link-local"), ("10.1.2.3", "private")]
PUBLIC = "93.184.215.14"


class Names:
    """The DNS as the target policy sees it: a table, and every question asked of it."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return self.answers[host]


@pytest.fixture
def literal_addresses_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The system resolver answers IP literals only: a client that resolved a name a second time,
    after the policy's check, would fail here instead of connecting."""
    real = socket.getaddrinfo

    def only_literals(host: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            socket.inet_pton(socket.AF_INET6 if ":" in str(host) else socket.AF_INET, str(host))
        except OSError as exc:
            raise socket.gaierror(f"a second resolution of {host!r}") from exc
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", only_literals)


def _pager(names: Names, allowed: list[str]) -> Pager:
    return Pager(links=LinkSettings(None, "https://p.example", 3600), targets=TargetPolicy.from_cidrs(allowed, names))


def _robots(platforms: PlatformServer, host: str) -> list[Receiver]:
    """Every HTTP channel's receiver, its URL naming ``host`` instead of 127.0.0.1."""
    return [
        Receiver(i, f"{channel}-{i}", "p1", frozenset({"safety"}), channel, url.replace("127.0.0.1", host), None,
                 config=config, secrets=secrets)
        for i, (channel, url, config, secrets) in enumerate(receivers_for(platforms))
    ]  # fmt: skip


def _to(receiver: Receiver) -> list[str]:
    return list(receiver.config.get("to", []))


@pytest.fixture
def pagers() -> Iterator[list[Pager]]:
    made: list[Pager] = []
    yield made
    for pager in made:
        pager.close()


@pytest.mark.parametrize(("address", "why"), INSIDE)
def test_a_robot_or_sms_name_resolving_inside_is_refused(
    platforms: PlatformServer, pagers: list[Pager], address: str, why: str
) -> None:
    """robots.example passed the API's check at a public address; at send time it resolves
    inside the deployment: every HTTP channel refuses, nothing reaches the endpoint."""
    names = Names({"robots.example": [PUBLIC]})
    assert TargetPolicy(resolver=names).check_url("http://robots.example/wecom/send")  # when saved
    names.answers["robots.example"] = [address]  # rebound
    pager = _pager(names, allowed=[])
    pagers.append(pager)
    for receiver in _robots(platforms, "robots.example"):
        with pytest.raises(DeliveryError, match=re.escape(f"'robots.example': {address} is a {why} address")):
            pager.send(receiver, _to(receiver), MESSAGE)
    assert platforms.received == [] and platforms.refused == []


@pytest.mark.usefixtures("literal_addresses_only")
def test_an_allowed_robot_name_is_resolved_once_and_reached_at_that_address(
    platforms: PlatformServer, pagers: list[Pager]
) -> None:
    names = Names({"robots.example": ["127.0.0.1"]})
    pager = _pager(names, allowed=["127.0.0.0/8"])
    pagers.append(pager)
    receivers = _robots(platforms, "robots.example")
    for receiver in receivers:
        pager.send(receiver, _to(receiver), MESSAGE)
    # one resolution per connection, by the policy; the endpoints verified every signature
    assert sorted(r.channel for r in platforms.received) == ["dingtalk", "feishu", "sms", "sms-gateway", "wecom"]
    assert platforms.refused == []
    assert names.asked == ["robots.example"] * len(receivers)


@pytest.mark.parametrize(("address", "why"), INSIDE)
def test_an_allowed_network_admits_exactly_its_addresses(address: str, why: str) -> None:
    """The connection is opened to the address that was checked (here a recorder stands in for
    the network, as 169.254.169.254 and 10.x cannot be served locally); outside the allowed
    network the next address is refused."""
    opened: list[tuple[str, int]] = []

    class Recorder(httpcore.SyncBackend):
        def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
            opened.append((host, port))
            raise httpcore.ConnectError("recorded")

    names = Names({"hook.example": [address]})
    refusing = GuardedBackend(TargetPolicy(resolver=names), inner=Recorder())
    with pytest.raises(httpcore.ConnectError, match=re.escape(f"{address} is a {why} address")):
        refusing.connect_tcp("hook.example", 443)
    assert opened == []

    network = {"127.0.0.1": "127.0.0.1/32", "169.254.169.254": "169.254.169.254/32", "10.1.2.3": "10.1.0.0/16"}
    allowing = GuardedBackend(TargetPolicy.from_cidrs([network[address]], names), inner=Recorder())
    with pytest.raises(httpcore.ConnectError, match="recorded"):
        allowing.connect_tcp("hook.example", 443)
    assert opened == [(address, 443)]
    assert names.asked == ["hook.example", "hook.example"]  # once per connection

    outside = {"127.0.0.1": "127.0.0.2", "169.254.169.254": "169.254.169.253", "10.1.2.3": "10.2.0.0"}[address]
    names.answers["hook.example"] = [outside]
    with pytest.raises(httpcore.ConnectError, match=re.escape(f"{outside} is a")):
        allowing.connect_tcp("hook.example", 443)
    assert opened == [(address, 443)]


@pytest.mark.parametrize(("address", "why"), INSIDE)
def test_an_smtp_host_resolving_inside_is_refused(
    smtp: SmtpServer, pagers: list[Pager], address: str, why: str
) -> None:
    names = Names({"localhost": [address]})
    pager = _pager(names, allowed=[])
    pagers.append(pager)
    receiver = _mail_receiver(smtp)
    with pytest.raises(DeliveryError, match=re.escape(f"'localhost': {address} is a {why} address")):
        pager.send(receiver, ["duty@park.example"], MESSAGE)
    assert smtp.mails == [] and smtp.logins == []


@pytest.mark.usefixtures("literal_addresses_only")
@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_an_allowed_smtp_host_is_resolved_once_and_verified_by_its_name(
    cert: tuple[Path, Path], pagers: list[Pager], security: str
) -> None:
    """The SMTP client connects to the checked address; TLS still verifies the server's
    certificate against the host's name (the test certificate names localhost)."""
    server = SmtpServer(*cert, security=security)
    try:
        names = Names({"localhost": ["127.0.0.1"]})
        pager = _pager(names, allowed=["127.0.0.0/8"])
        pagers.append(pager)
        pager.send(_mail_receiver(server), ["duty@park.example"], MESSAGE)
        assert [m.rcpt_tos for m in server.mails] == [["duty@park.example"]]
        assert server.mails[0].login == server.username
        assert names.asked == ["localhost"]
    finally:
        server.close()


def test_a_page_is_refused_by_default_without_an_allowed_network(smtp: SmtpServer, pagers: list[Pager]) -> None:
    """A Pager built without a policy takes the default one: public addresses only."""
    pager = Pager(links=LinkSettings(None, "https://p.example", 3600))
    pagers.append(pager)
    config = smtp.receiver_config()  # host 127.0.0.1
    receiver = Receiver(1, "mail", "p1", frozenset({"safety"}), "email", None, None, config=config,
                        secrets={"password": smtp.password})  # fmt: skip
    with pytest.raises(DeliveryError, match=re.escape("127.0.0.1 is a loopback address")):
        pager.send(receiver, ["duty@park.example"], MESSAGE)
    assert smtp.mails == []


def _mail_receiver(server: SmtpServer) -> Receiver:
    config = {**server.receiver_config(), "host": "localhost"}
    secrets = {"password": server.password}
    return Receiver(1, "mail", "p1", frozenset({"safety"}), "email", None, None, config=config, secrets=secrets)
