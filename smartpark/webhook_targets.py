"""Where notifications may go (webhooks and the paging channels' robots, SMS gateways and SMTP
servers): the public internet, and networks an admin allowed.

A receiver's URL is chosen by an operator, and the platform then POSTs to it from inside the
deployment: pointed at 127.0.0.1, 169.254.169.254 (a cloud's metadata service) or a private
address, it would reach what no operator should (SSRF). So a target is refused when any address
its host resolves to is unspecified, loopback, link-local (169.254.0.0/16, fe80::/10), private,
multicast, reserved or otherwise not globally routable, unless that address lies in a network of
``SMARTPARK_WEBHOOK_ALLOWED_NETWORKS`` (a JSON list of CIDRs, e.g. ``["10.20.0.0/16"]``, for a
receiver on the park's own network). The API checks when a receiver is created or its URL
changed; delivery checks again at connection time, on the very address it connects to (one
resolution per connection, no second lookup by the HTTP or SMTP client), so a host name that
later resolves elsewhere (DNS rebinding) is refused too.

Pure apart from the resolver, which is injected (``socket.getaddrinfo`` by default).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]


class TargetRefused(ValueError):
    """The target may not receive notifications; the message names the address and why."""


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (TCP)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"host {host!r} does not resolve: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_class(address: IPAddress) -> str | None:
    """Why ``address`` is not a public target (the first class that applies), or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for name, applies in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("not globally routable", not address.is_global),
    ):
        if applies:
            return name
    return None


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    allowed: tuple[IPNetwork, ...] = ()
    resolver: Resolver = field(default=resolve, compare=False)

    @classmethod
    def from_cidrs(cls, cidrs: Iterable[str], resolver: Resolver = resolve) -> TargetPolicy:
        """ValueError naming a CIDR that is not one."""
        nets = []
        for cidr in cidrs:
            try:
                nets.append(ipaddress.ip_network(cidr, strict=False))
            except ValueError as exc:
                raise ValueError(f"webhook allowed network {cidr!r} is not a CIDR: {exc}") from exc
        return cls(tuple(nets), resolver)

    def refusal(self, address: str) -> str | None:
        """Why ``address`` may not be a target, or None."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
        why = address_class(ip)
        if why is None or any(ip in net for net in self.allowed):
            return None
        return f"{ip} is a {why} address (allow its network in SMARTPARK_WEBHOOK_ALLOWED_NETWORKS)"

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses of ``host``, every one of them allowed; TargetRefused otherwise."""
        found = [host] if _is_ip(host) else self.resolver(host, port)
        if not found:
            raise TargetRefused(f"host {host!r} resolves to no address")
        for address in found:
            why = self.refusal(address)
            if why is not None:
                raise TargetRefused(f"target {host!r}: {why}")
        return found

    def check_url(self, url: str) -> list[str]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TargetRefused(f"webhook url {url!r} is not http(s)://host…")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise TargetRefused(f"webhook url {url!r}: {exc}") from exc
        return self.addresses(parts.hostname, port)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True
