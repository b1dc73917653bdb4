from unittest import mock

import pytest

from flowchat.public_address import ForbiddenAddress, is_public, public_addresses


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.5.5.5",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
        "fd00:ec2::254",
        "64:ff9b::a00:1",
        "not an address",
    ],
)
def test_forbidden_addresses(address):
    assert not is_public(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "::ffff:93.184.215.14"])
def test_public_addresses(address):
    assert is_public(address)


def _resolving_to(*addresses):
    return mock.patch("socket.getaddrinfo", return_value=[(2, 1, 6, "", (address, 80)) for address in addresses])


def test_a_name_resolving_to_a_private_address_is_refused():
    with _resolving_to("10.0.0.5"), pytest.raises(ForbiddenAddress):
        public_addresses("inside.example", 80)


def test_one_private_address_among_public_ones_is_refused():
    with _resolving_to("1.1.1.1", "127.0.0.1"), pytest.raises(ForbiddenAddress):
        public_addresses("mixed.example", 80)


def test_a_public_name_gives_its_checked_addresses():
    with _resolving_to("1.1.1.1", "1.1.1.1", "1.0.0.1"):
        assert public_addresses("public.example", 443) == ["1.1.1.1", "1.0.0.1"]


def test_a_name_that_does_not_resolve_is_refused():
    with mock.patch("socket.getaddrinfo", side_effect=OSError("no such name")), pytest.raises(ForbiddenAddress):
        public_addresses("nowhere.invalid", 80)
