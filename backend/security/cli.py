"""`python -m backend.cli api-key …` (create API keys) and `secrets rotate` (re-encrypt every
stored secret under a new key), printing JSON."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from backend.core.db import session_scope
from backend.security import service


def _print(data: dict) -> None:
    print(json.dumps(data, default=str))


def cmd_create(args: argparse.Namespace) -> int:
    """Create a key and print it, once, as JSON."""
    with session_scope() as session:
        created = service.create_api_key_for_business(
            session,
            business_id=args.business,
            name=args.name or "API key",
            scopes=args.scopes,
            expires_days=args.expires_days,
        )
    _print(asdict(created))
    return 0


def cmd_secrets_rotate(args: argparse.Namespace) -> int:
    """Re-encrypt every stored secret in one transaction and print the counts as JSON."""
    from backend.core.crypto import reset_keys
    from backend.security.key_rotation import rotate_secrets

    reset_keys()
    with session_scope() as session:
        counts = rotate_secrets(session, new_key=args.new_key, old_keys=args.old_key or None)
    _print({"rotated": counts, "total": sum(counts.values())})
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `api-key` and `secrets` commands to the CLI's parser."""
    secrets_cmd = sub.add_parser("secrets", help="stored credentials' encryption")
    secrets_cmds = secrets_cmd.add_subparsers(dest="secrets", required=True)
    rotate = secrets_cmds.add_parser(
        "rotate",
        help="re-encrypt every stored secret with the new key (default: the first of "
        "ENCRYPTION_KEYS), in one transaction; prints counts as JSON",
    )
    rotate.add_argument("--new-key", help="the key to encrypt with from now on")
    rotate.add_argument(
        "--old-key",
        action="append",
        help="a key the values are encrypted with now (repeatable; with ENCRYPTION_KEYS unset "
        "that is SECRET_KEY)",
    )
    rotate.set_defaults(func=cmd_secrets_rotate)

    keys = sub.add_parser("api-key", help="keys for the public REST API (/api/v1)")
    cmds = keys.add_subparsers(dest="api_key", required=True)
    create = cmds.add_parser("create", help="create a key; prints it once, as JSON")
    create.add_argument("--business", type=int, required=True, help="id of the business")
    create.add_argument(
        "--scopes", required=True, help=f"comma-separated, of: {', '.join(service.SCOPES)}"
    )
    create.add_argument("--name", help="what the key is for (default: API key)")
    create.add_argument("--expires-days", type=int, help="days until it expires (default: never)")
    create.set_defaults(func=cmd_create)


def main(argv: list[str] | None = None) -> int:
    """Run the api-key commands alone (`python -m backend.security.cli api-key create …`)."""
    import sys

    parser = argparse.ArgumentParser(prog="python -m backend.security.cli")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:
        field = getattr(exc, "field", None)
        print(f"error: {f'{field}: ' if field else ''}{exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
