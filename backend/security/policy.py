"""Business-wide access rules owners set on the Security page: every member must use two-factor
sign-in, and the dashboard and API answer only from allowed address ranges (IPv4 and IPv6)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sqlmodel import Session

from backend.auth.permissions import Actor, Permission
from backend.core.crypto import hash_token
from backend.core.redis import get_redis
from backend.models.security import IPAllowlistEntry
from backend.security import repository as repo
from backend.security import two_factor
from backend.security.service import SecurityError, record
from backend.tenants import repository as tenants_repo

MAX_ALLOWLIST_ENTRIES = 200
# A refused address is audited once per this many seconds, so a flood cannot fill the log.
REFUSAL_AUDIT_SECONDS = 600
_REFUSAL_KEY = "bizbot:ip-refused:{}:{}"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Gate:
    """Why a signed-in member may not use the dashboard right now, and what to tell them."""

    kind: str  # "ip" (address not allowed) | "two_factor" (must enrol first)
    message: str


# --- two-factor sign-in for everyone --------------------------------------------------------


def two_factor_required(session: Session, *, business_id: int) -> bool:
    """Whether the business makes every member sign in with a second factor."""
    business = tenants_repo.get_business(session, business_id=business_id)
    return bool(business and business.require_two_factor)


def set_two_factor_required(
    session: Session, *, actor: Actor, required: bool, ip: str | None = None
) -> None:
    """Switch "every member needs two-factor sign-in" (owners; they must have it on first)."""
    actor.require(Permission.BUSINESS_MANAGE)
    business = tenants_repo.get_business(session, business_id=actor.business_id)
    if bool(business.require_two_factor) == bool(required):
        return
    if required and not two_factor.is_enabled(session, user_id=actor.user_id):
        raise SecurityError(
            "Turn on two-factor sign-in for yourself first, then require it for everyone.",
            field="require_two_factor",
        )
    business.require_two_factor = bool(required)
    session.add(business)
    session.flush()
    record(session, business_id=actor.business_id,
           action="2fa.required_on" if required else "2fa.required_off",
           actor_user_id=actor.user_id, ip=ip, target_type="business",
           target_id=actor.business_id)  # fmt: skip


def must_enrol(session: Session, *, business_id: int, user_id: int) -> bool:
    """Whether this member has to set up two-factor sign-in before doing anything else."""
    return two_factor_required(session, business_id=business_id) and not two_factor.is_enabled(
        session, user_id=user_id
    )


# --- the IP allowlist -----------------------------------------------------------------------


def parse_networks(entries: list[str] | str) -> list[Network]:
    """Address ranges from CIDR text (one per line or comma-separated; a bare address is one
    host); SecurityError naming the bad entry and the expected form."""
    if isinstance(entries, str):
        entries = entries.replace(",", "\n").splitlines()
    networks: list[Network] = []
    for raw in entries:
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise SecurityError(
                f"{text!r} is not an address range; write it like 203.0.113.0/24, "
                "2001:db8::/32 or a single address such as 198.51.100.7.",
                field="allowlist",
            ) from None
        if network not in networks:
            networks.append(network)
    if len(networks) > MAX_ALLOWLIST_ENTRIES:
        raise SecurityError(
            f"Keep the allowlist to at most {MAX_ALLOWLIST_ENTRIES} ranges.", field="allowlist"
        )
    return networks


def _address(ip: str | None):
    try:
        address = ipaddress.ip_address((ip or "").strip().split("%", 1)[0])
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket (::ffff:a.b.c.d) is that IPv4 address.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _contains(networks: list[Network], ip: str | None) -> bool:
    address = _address(ip)
    return address is not None and any(address in n for n in networks)


def list_allowlist(session: Session, *, actor: Actor) -> list[str]:
    """The business's allowed ranges in CIDR notation (empty: every address is allowed)."""
    actor.require(Permission.MEMBERS_MANAGE)
    return [row.cidr for row in repo.list_allowlist(session, business_id=actor.business_id)]


def set_allowlist(
    session: Session, *, actor: Actor, entries: list[str] | str, current_ip: str | None
) -> list[str]:
    """Replace the business's allowlist (owners). An empty list allows every address. A list
    that leaves out `current_ip`, the owner's own address, is refused: it would lock them out."""
    actor.require(Permission.BUSINESS_MANAGE)
    networks = parse_networks(entries)
    if networks and not _contains(networks, current_ip):
        raise SecurityError(
            f"This list does not include the address you are using now ({current_ip or 'unknown'})"
            "; saving it would lock you out. Add your address (or its range) to the list.",
            field="allowlist",
        )
    wanted = [str(n) for n in networks]
    rows = repo.list_allowlist(session, business_id=actor.business_id)
    before = [row.cidr for row in rows]
    if before == wanted:
        return wanted
    for row in rows:
        if row.cidr not in wanted:
            repo.delete_allowlist_entry(session, row)
    session.flush()
    for cidr in wanted:
        if cidr not in before:
            session.add(IPAllowlistEntry(business_id=actor.business_id, cidr=cidr,
                                         created_by_user_id=actor.user_id))  # fmt: skip
    session.flush()
    record(session, business_id=actor.business_id, action="allowlist.changed",
           actor_user_id=actor.user_id, ip=current_ip, target_type="business",
           target_id=actor.business_id, details={"before": before, "after": wanted})  # fmt: skip
    return wanted


def ip_allowed(session: Session, *, business_id: int, ip: str | None) -> bool:
    """Whether `ip` may reach the business's dashboard and API (always, with no allowlist)."""
    rows = repo.list_allowlist(session, business_id=business_id)
    if not rows:
        return True
    return _contains([ipaddress.ip_network(r.cidr, strict=False) for r in rows], ip)


def refuse_ip(
    session: Session,
    *,
    business_id: int,
    ip: str | None,
    via: str,
    user_id: int | None = None,
    api_key_id: int | None = None,
) -> str | None:
    """None when `ip` is allowed; else the refusal to show, audited as `ip.refused` (once per
    address and business every few minutes). `via` is "dashboard", "login" or "api"."""
    if ip_allowed(session, business_id=business_id, ip=ip):
        return None
    business = tenants_repo.get_business(session, business_id=business_id)
    first = get_redis().set(
        _REFUSAL_KEY.format(business_id, hash_token(f"{via}:{ip}")),
        "1",
        nx=True,
        ex=REFUSAL_AUDIT_SECONDS,
    )
    if first:
        record(session, business_id=business_id, action="ip.refused", actor_user_id=user_id,
               api_key_id=api_key_id, ip=ip, details={"via": via})  # fmt: skip
    return (
        f"Your IP address {ip or 'unknown'} is not allowed for business {business.name}. "
        "Ask an owner to add it to the IP allowlist on the Security page."
    )


def access_gate(session: Session, *, business_id: int, user_id: int, ip: str | None) -> Gate | None:
    """What stops a signed-in member from using the dashboard now: a refused address, or a
    business rule that they set up two-factor sign-in first; None when nothing does."""
    refusal = refuse_ip(session, business_id=business_id, ip=ip, via="dashboard", user_id=user_id)
    if refusal:
        return Gate(kind="ip", message=refusal)
    if must_enrol(session, business_id=business_id, user_id=user_id):
        return Gate(
            kind="two_factor",
            message="This business requires two-factor sign-in. Set it up to continue.",
        )
    return None
