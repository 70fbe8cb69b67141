"""Can students open this server's links, and at which address? Plus the QR code of one.

`gradscape serve` binds 127.0.0.1 unless told otherwise, and a link built from
127.0.0.1 opens the *student's own* laptop: the share panel must say so, and with
`--host 0.0.0.0` show the address the room can reach. That address is found without a
packet leaving the machine: `connect` on a UDP socket only asks the kernel which local
address routes towards a destination (nothing is sent), and the host name's addresses
are read from the local resolver.

The QR code is drawn here with segno (pure Python, no network), so a projected slide
carries a code students scan instead of typing a long link.
"""

from __future__ import annotations

import io
import ipaddress
import os
import socket

import segno

from app.config import BIND_HOST_ENV, DEFAULT_HOST, MAX_QR_TEXT

# Documentation prefixes (RFC 5737, RFC 3849): routable-looking, never a real host, and a
# UDP `connect` towards them sends nothing; it only picks the outgoing interface.
_PROBE = {socket.AF_INET: "192.0.2.1", socket.AF_INET6: "2001:db8::1"}
_ANY = {"0.0.0.0": socket.AF_INET, "::": socket.AF_INET6, "": socket.AF_INET}


def bind_host_from_env() -> str:
    """The address `gradscape serve` bound (it sets the variable); loopback otherwise."""
    return os.environ.get(BIND_HOST_ENV) or DEFAULT_HOST


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: addresses only this machine can reach."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name: it names some interface the room may reach


def _routed_address(family: socket.AddressFamily) -> str | None:
    """The local address the kernel would send from towards the network (nothing is sent)."""
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((_PROBE[family], 9))
            return str(probe.getsockname()[0])
    except OSError:  # no route: an offline laptop
        return None


def _named_addresses(family: socket.AddressFamily) -> list[str]:
    """This machine's host name's addresses, as the local resolver lists them."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, family, socket.SOCK_STREAM)
    except OSError:
        return []
    return [str(info[4][0]) for info in infos]


def _reachable(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return not (ip.is_loopback or ip.is_unspecified or ip.is_link_local or ip.is_multicast)


def lan_hosts(bind_host: str) -> list[str]:
    """Addresses other machines can use to reach a server bound to `bind_host`.

    Empty when it listens on loopback only, or listens everywhere while this machine has
    no network address (then the page says to join the room's network).
    """
    if is_loopback(bind_host):
        return []
    family = _ANY.get(bind_host)
    if family is None:
        return [bind_host]  # one interface's address (or name), chosen by the lecturer
    found = [_routed_address(family), *_named_addresses(family)]
    hosts = [a for a in dict.fromkeys(a for a in found if a) if _reachable(a)]
    return [f"[{a}]" if ":" in a else a for a in hosts]


def qr_svg(text: str) -> str:
    """`text` as a QR code, an SVG that scales to its box (viewBox, no fixed size).

    Medium error correction (15 %) survives a projector's glare; the quiet zone is the
    standard's four modules, on white so a dark page around it does not break scanning.
    """
    size = len(text.encode("utf-8"))
    if size > MAX_QR_TEXT:
        # Characters outside ASCII take 2–4 bytes each in the code.
        raise ValueError(
            f"text must be at most {MAX_QR_TEXT} bytes in UTF-8 to stay scannable; got {size} bytes"
        )
    code = segno.make_qr(text, error="m", boost_error=False)
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        omitsize=True,
        border=4,
        dark="#000",
        light="#fff",
    )
    return out.getvalue().decode("utf-8")
