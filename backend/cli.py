"""`python -m backend.cli …`: BizBot's admin commands. Commands that create print one JSON line."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from backend.core.config import ConfigError, settings


def _print(data: dict) -> None:
    print(json.dumps(data, default=str))


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from backend.core import migrate

    migrate.upgrade(args.revision)
    print(f"database at revision {args.revision}")
    return 0


def cmd_db_check(args: argparse.Namespace) -> int:
    from backend.core import migrate

    migrate.check()
    print("models and migrations agree")
    return 0


def cmd_demo_seed(args: argparse.Namespace) -> int:
    from backend.core.db import session_scope
    from backend.demo import embed_demo_knowledge, seed_demo

    with session_scope() as session:
        seed = seed_demo(session)
    embed_demo_knowledge(seed.business_id)
    _print(asdict(seed))
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    from backend.auth import service as auth
    from backend.core.db import session_scope
    from backend.models.tenants import Role

    with session_scope() as session:
        if args.business is None:
            result = auth.sign_up(
                session,
                business_name=args.business_name or "",
                name=args.name,
                email=args.email,
                password=args.password,
            )
            user_id, business_id, role = result.user_id, result.business_id, Role.OWNER
        else:
            user = auth.create_user(
                session,
                email=args.email,
                name=args.name,
                password=args.password,
                business_id=args.business,
                role=Role(args.role),
            )
            user_id, business_id, role = user.id, args.business, Role(args.role)
        from backend.ops import system

        if args.instance_admin:
            system.set_instance_admin(session, email=args.email, grant=True)
        admin = system.is_instance_admin(session, user_id=user_id)
    _print({"id": user_id, "business_id": business_id, "email": args.email, "role": role,
            "instance_admin": admin})  # fmt: skip
    return 0


def cmd_channel_add(args: argparse.Namespace) -> int:
    from backend.channels import service as channels
    from backend.core.db import session_scope
    from backend.integrations import service as integrations

    try:
        config = json.loads(args.config)
    except ValueError as exc:
        raise ValueError(f"--config is not JSON ({exc}); quote it: --config '{{...}}'") from None
    if not isinstance(config, dict):
        raise ValueError("--config must be a JSON object of the channel's settings")
    with session_scope() as session:
        integration = integrations.add_channel(
            session, business_id=args.business, kind=args.kind, config=config, name=args.name
        )
        cfg = channels.to_config(integration)
    result = {
        "id": cfg.integration_id,
        "business_id": cfg.business_id,
        "kind": cfg.kind,
        "webhook_url": channels.webhook_url(cfg.kind, cfg.integration_id),
    }
    if cfg.kind != "telegram":
        result["verify_token"] = cfg.credentials.get("verify_token")
    if args.no_register:
        _print(result)
        return 0
    info = integrations.check_channel(cfg, register=True)
    with session_scope() as session:
        integrations.note_check(session, integration_id=cfg.integration_id, info=info)
    _print({**result, "connected": info.ok, "display_name": info.display_name,
            "error": info.error})  # fmt: skip
    return 0 if info.ok else 1


def cmd_messages(args: argparse.Namespace) -> int:
    from backend.conversations import service as conversations
    from backend.core.db import session_scope

    with session_scope() as session:
        found = conversations.latest_messages(session, business_id=args.business, limit=args.limit)
    for message in found:
        if args.json:
            _print(message)
        else:
            text = (message["text"] or "").replace("\n", " ")[:60]
            print(f"{message['id']:>6} {message['direction']:<8} {message['delivery_status']:<9} "
                  f"{message['external_id'] or '-':<28} {text}")  # fmt: skip
    return 0


def cmd_events_replay(args: argparse.Namespace) -> int:
    from backend.conversations import service as conversations
    from backend.conversations import tasks
    from backend.core.db import session_scope

    if args.delivery is not None:
        with session_scope() as session:
            _print(conversations.replay_delivery(session, delivery_id=args.delivery))
        return 0
    if args.event is None:
        raise ValueError("name an inbound event id, or --delivery ID for a stored webhook body")
    with session_scope() as session:
        conversations.replay_event(session, event_id=args.event)
    _print({"event_id": args.event, "status": tasks.process_inbound(args.event)})
    return 0


def cmd_events_purge(args: argparse.Namespace) -> int:
    from backend.channels import service as channels
    from backend.core.db import session_scope

    with session_scope() as session:
        _print({"purged": channels.purge_deliveries(session)})
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The CLI's commands and options."""
    parser = argparse.ArgumentParser(prog="python -m backend.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db", required=True)
    up = db.add_parser("upgrade", help="apply migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=cmd_db_upgrade)
    db.add_parser("check", help="fail if models and migrations disagree").set_defaults(
        func=cmd_db_check
    )

    demo = sub.add_parser("demo", help="the demo business").add_subparsers(
        dest="demo", required=True
    )
    demo.add_parser(
        "seed", help="create the demo business once; reset its password to DEMO_PASSWORD"
    ).set_defaults(func=cmd_demo_seed)

    user = sub.add_parser("user", help="accounts").add_subparsers(dest="user", required=True)
    create = user.add_parser(
        "create", help="create a user: in a new business (--business-name) or an existing one"
    )
    create.add_argument("--email", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--name", required=True)
    where = create.add_mutually_exclusive_group(required=True)
    where.add_argument("--business", type=int, help="id of an existing business")
    where.add_argument("--business-name", help="create a new business with this user as owner")
    create.add_argument(
        "--role", default="agent", choices=["owner", "admin", "agent", "viewer"],
        help="role in an existing business (default: agent)",
    )  # fmt: skip
    create.add_argument(
        "--instance-admin", action="store_true",
        help="may open the System page (the first user of an installation always may)",
    )  # fmt: skip
    create.set_defaults(func=cmd_user_create)
    from backend.ops.cli import register_user_admin

    register_user_admin(user)

    from backend.ops.cli import register_jobs

    register_jobs(sub)

    channel = sub.add_parser("channel", help="messaging channels").add_subparsers(
        dest="channel", required=True
    )
    add = channel.add_parser(
        "add", help="connect WhatsApp, Telegram, Instagram or Messenger; prints its id as JSON"
    )
    add.add_argument("--business", type=int, required=True, help="id of the business")
    add.add_argument("--kind", required=True,
                     choices=["whatsapp", "telegram", "instagram", "messenger"])  # fmt: skip
    add.add_argument(
        "--config", required=True,
        help="JSON settings, the setup form's fields: whatsapp {phone_number_id, waba_id, "
             "access_token, app_secret, verify_token}; telegram {bot_token}; messenger "
             "{page_id, page_access_token, app_secret, verify_token}; instagram {ig_account_id, "
             "page_access_token, app_secret, verify_token}",
    )  # fmt: skip
    add.add_argument("--name", help="a name for the channel (default: the platform's)")
    add.add_argument(
        "--no-register",
        action="store_true",
        help="store it without calling the platform (no test, no webhook set-up)",
    )
    add.set_defaults(func=cmd_channel_add)

    messages = sub.add_parser("messages", help="the latest messages of a business")
    messages.add_argument("--business", type=int, required=True)
    messages.add_argument("--limit", type=int, default=20)
    messages.add_argument("--json", action="store_true", help="one JSON object per line")
    messages.set_defaults(func=cmd_messages)

    events = sub.add_parser("events", help="inbound channel events").add_subparsers(
        dest="events", required=True
    )
    replay = events.add_parser(
        "replay", help="process a stored event again, or re-read a kept webhook body"
    )
    replay.add_argument("event", nargs="?", type=int, help="inbound event id")
    replay.add_argument("--delivery", type=int, help="id of a kept webhook body to parse again")
    replay.set_defaults(func=cmd_events_replay)
    events.add_parser(
        "purge", help="delete kept webhook bodies older than WEBHOOK_RETENTION_DAYS"
    ).set_defaults(func=cmd_events_purge)

    from backend.knowledge import cli as knowledge_cli

    knowledge_cli.register(sub)
    from backend.security import cli as security_cli

    security_cli.register(sub)
    from backend.ops import cli as ops_cli

    ops_cli.register(sub)
    from backend.payments import cli as payments_cli

    payments_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors print one line to stderr and exit 1 or 2."""
    args = build_parser().parse_args(argv)
    from backend.auth.service import AuthError
    from backend.conversations.service import NothingToReplay
    from backend.demo import DemoRefused

    try:
        if not getattr(args, "skip_config_check", False):
            settings.check_production()
        return args.func(args)
    except (AuthError, ConfigError, DemoRefused, ValueError, NothingToReplay) as exc:
        field = getattr(exc, "field", None)
        print(f"error: {f'{field}: ' if field else ''}{exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
