"""Which addresses the server may fetch a posted link from: public ones only (the SSRF guard).

Link previews fetch what people post. Every address a name resolves to is checked here, after
DNS resolution and again on every redirect, and the fetch connects to the checked address itself,
so a second lookup cannot rebind the name to an inside address.
"""

from __future__ import annotations

import ipaddress
import socket

# Not covered by ipaddress's is_private/is_reserved on every Python version.
FORBIDDEN_NETWORKS = [
    ipaddress.ip_network(cidr)
    for cidr in (
        "0.0.0.0/8",
        "100.64.0.0/10",  # CGNAT
        "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254)
        "192.0.0.0/24",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
        "64:ff9b::/96",  # NAT64: may reach IPv4 inside addresses
        "2002::/16",  # 6to4, same
        "fd00:ec2::254/128",  # AWS metadata over IPv6
    )
]


class ForbiddenAddress(ValueError):
    """The link points at an address the server must not reach."""


def is_public(address: str) -> bool:
    """True only for a globally routable unicast address (IPv4-mapped IPv6 judged as its IPv4)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    ):
        return False
    return not any(ip.version == network.version and ip in network for network in FORBIDDEN_NETWORKS)


def public_addresses(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, all checked; ForbiddenAddress if any is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ForbiddenAddress(f"{host} does not resolve") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses or not all(is_public(address) for address in addresses):
        # One inside address among public ones is refused too: which one connects is not ours to pick.
        raise ForbiddenAddress(f"{host} resolves to an address that is not public")
    return addresses
