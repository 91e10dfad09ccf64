"""`python -m backend.cli payments …`: connect payment providers and list the known kinds."""

from __future__ import annotations

import argparse
import json

from backend.core.db import session_scope
from backend.payments import registry, service


def _print(data: dict) -> None:
    print(json.dumps(data, default=str))


def cmd_add(args: argparse.Namespace) -> int:
    """Connect (or update) a provider account and print its id as one JSON line."""
    try:
        values = json.loads(args.config)
    except ValueError as exc:
        raise ValueError(f"--config is not JSON ({exc}); quote it: --config '{{...}}'") from None
    if not isinstance(values, dict):
        raise ValueError("--config must be a JSON object of the provider's keys and settings")
    parts = service.split_settings(args.kind, values)
    with session_scope() as session:
        provider_id = service.add_provider(session, business_id=args.business, kind=args.kind,
                                           **parts)  # fmt: skip
    result: dict = {"id": provider_id, "business_id": args.business, "kind": args.kind}
    if args.test:
        with session_scope() as session:
            info = service.test_connection(
                session, business_id=args.business, provider_id=provider_id
            )
        result.update(connected=info.ok, display_name=info.display_name, error=info.error)
    with session_scope() as session:
        (view,) = [
            v
            for v in service.list_providers(session, business_id=args.business)
            if v.id == provider_id
        ]
    result.update(enabled=view.is_enabled, webhook_url=view.webhook_url)
    _print(result)
    return 0 if not args.test or result["connected"] else 1


def cmd_kinds(args: argparse.Namespace) -> int:
    """Print every registered provider kind, one a line."""
    for kind in registry.kinds():
        print(kind)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `payments` commands to the CLI's parser."""
    payments = sub.add_parser("payments", help="payment providers")
    cmds = payments.add_subparsers(dest="payments", required=True)
    add = cmds.add_parser(
        "add", help="connect a payment provider (again: updates it); prints its id as JSON"
    )
    add.add_argument("--business", type=int, required=True, help="id of the business")
    add.add_argument("--kind", required=True, help="provider kind (see `payments kinds`)")
    add.add_argument(
        "--config",
        required=True,
        help="JSON object of its keys and settings: stripe {secret_key, webhook_secret}; "
        "paystack {secret_key}; flutterwave {secret_key, secret_hash}; mpesa {consumer_key, "
        "consumer_secret, shortcode, passkey}; paypal {client_id, client_secret, webhook_id}; "
        "airtel {client_id, client_secret, country}; binance {api_key, secret_key}; optional "
        "base_url, currencies [..], test_mode",
    )
    add.add_argument(
        "--test", action="store_true", help="also test the connection (switches it on if it works)"
    )
    add.set_defaults(func=cmd_add)
    cmds.add_parser("kinds", help="the provider kinds BizBot knows, one a line").set_defaults(
        func=cmd_kinds
    )
