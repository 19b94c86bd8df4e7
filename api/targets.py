"""Where webhooks may be sent: public addresses only, unless an operator's allow-list names the host.

A subscription that could point at 127.0.0.1, localhost, [::1], a private range or a link-local
address (the cloud metadata service at 169.254.169.254) would let a caller with the webhooks
role make the server post to its own internal services. The URL is checked when subscribed,
and again at every delivery, on the addresses the name resolves to then: a name that resolved
to a public address at subscription may resolve to an internal one later (DNS rebinding), so
the delivery connects to the address that was checked, not to a second lookup.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class TargetRefused(ValueError):
    """The URL's host is, or resolves to, an address webhooks may not reach."""


@dataclass(frozen=True, slots=True)
class AllowList:
    """Internal hosts an operator allows as webhook targets: names and networks (or single addresses)."""

    names: frozenset[str] = frozenset()
    networks: tuple[IpNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str) -> "AllowList":
        """From a comma-separated setting: `localhost,127.0.0.1,10.0.0.0/8,hooks.internal`."""
        names: set[str] = set()
        networks: list[IpNetwork] = []
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            except ValueError:
                names.add(item.lower().rstrip("."))
        return cls(frozenset(names), tuple(networks))

    def allows(self, host: str, address: IpAddress) -> bool:
        """True when the host name or the address (an IPv4-mapped one as its IPv4) is on the list."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return host in self.names or any(address in network for network in self.networks)


@dataclass(frozen=True, slots=True)
class Target:
    """A checked destination: the URL's parts and the address to connect to."""

    scheme: str
    host: str
    port: int
    address: str
    path: str


def _internal(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    # is_global is false for loopback, private, link-local, shared (100.64/10), reserved and the
    # unspecified address; multicast is never a web server.
    return not address.is_global or address.is_multicast


def _resolve(host: str, port: int) -> list[IpAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(f"url: host {host!r} does not resolve ({exc})") from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def check(url: str, allow: AllowList) -> Target:
    """The target of a webhook URL, refused when any address its host resolves to now is internal
    and not on the allow-list."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("url: must be an http or https URL with a host")
    host = parts.hostname.lower().rstrip(".")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused(f"url: {exc}") from exc
    addresses = _resolve(host, port)
    refused = sorted({str(a) for a in addresses if _internal(a) and not allow.allows(host, a)})
    if refused:
        raise TargetRefused(
            f"url: {host} is an internal address ({', '.join(refused)}); webhooks go to public addresses "
            "unless LIENWATCH_WEBHOOK_ALLOW names the host"
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, str(addresses[0]), path)
