"""`python -m backend.cli doctor`, `backup`, `restore`, `user admin` and `jobs …`: running the
installation."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from backend.ops import backup, doctor, jobs, system


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print one line per check (or JSON); exit 1 when anything must be fixed."""
    findings = doctor.run_checks()
    if args.json:
        print(json.dumps(doctor.as_dicts(findings)))
    else:
        print(doctor.render(findings))
    return 1 if any(f.status == doctor.FAIL for f in findings) else 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Write a backup and print what it holds as JSON; the key reminder goes to stderr."""
    try:
        info = backup.backup(args.output)
    except backup.BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(info)))
    print(backup.KEY_REMINDER, file=sys.stderr)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore a backup over this installation's database and files."""
    try:
        backup.read_manifest(args.archive)
        if backup.has_data() and not args.yes:
            print(
                "error: this database already holds businesses; the restore replaces all of "
                "them. Stop BizBot, then run again with --yes.",
                file=sys.stderr,
            )
            return 1
        info = backup.restore(args.archive)
    except backup.BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(info)))
    print(backup.KEY_REMINDER, file=sys.stderr)
    return 0


def cmd_user_admin(args: argparse.Namespace) -> int:
    """Grant or revoke a user's instance-admin flag; print the result as JSON."""
    from backend.core.db import session_scope

    with session_scope() as session:
        change = system.set_instance_admin(session, email=args.email, grant=args.grant)
    print(json.dumps(asdict(change)))
    return 0


def register_user_admin(user: argparse._SubParsersAction) -> None:
    """Add `user admin --email X --grant|--revoke` under the `user` command."""
    cmd = user.add_parser(
        "admin", help="grant or revoke instance admin (the System page, the installation's jobs)"
    )
    cmd.add_argument("--email", required=True, help="the account's login email")
    change = cmd.add_mutually_exclusive_group(required=True)
    change.add_argument("--grant", dest="grant", action="store_true", help="make an instance admin")
    change.add_argument("--revoke", dest="grant", action="store_false",
                        help="take the flag away (never from the last instance admin)")  # fmt: skip
    cmd.set_defaults(func=cmd_user_admin)


def _print(data: dict) -> None:
    print(json.dumps(data, default=str))


def cmd_jobs_failed(args: argparse.Namespace) -> int:
    """Print one JSON line per job that failed after its last retry, newest first."""
    for job in jobs.failed_jobs():
        _print({"id": job.id, "queue": job.queue, "job": job.function, "args": list(job.args),
                "business_id": job.business_id, "failed_at": job.failed_at,
                "error": [job.error]})  # fmt: skip
    return 0


def _act_on_failed_job(args: argparse.Namespace, action, done: str) -> int:
    """Run `action` (jobs.retry or jobs.discard) on job args.id; print its id, queue and `done`."""
    try:
        queue = action(args.id)
    except jobs.FailedJobGone:
        print(f"error: no failed job {args.id}; list them with `jobs failed`", file=sys.stderr)
        return 1
    _print({"id": args.id, "queue": queue, done: True})
    return 0


def cmd_jobs_retry(args: argparse.Namespace) -> int:
    """Put one failed job back on its queue; print its id and queue as JSON."""
    return _act_on_failed_job(args, jobs.retry, "requeued")


def cmd_jobs_discard(args: argparse.Namespace) -> int:
    """Delete one failed job for good; print its id and queue as JSON."""
    return _act_on_failed_job(args, jobs.discard, "discarded")


def register_jobs(sub: argparse._SubParsersAction) -> None:
    """Add `jobs failed`, `jobs retry ID` and `jobs discard ID` (what the System page does)."""
    cmds = sub.add_parser("jobs", help="background jobs").add_subparsers(dest="jobs", required=True)
    cmds.add_parser("failed", help="list jobs that failed after their last retry").set_defaults(
        func=cmd_jobs_failed
    )
    retry = cmds.add_parser("retry", help="run a failed job again")
    retry.add_argument("id")
    retry.set_defaults(func=cmd_jobs_retry)
    discard = cmds.add_parser("discard", help="delete a failed job for good")
    discard.add_argument("id")
    discard.set_defaults(func=cmd_jobs_discard)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `doctor`, `backup` and `restore` commands."""
    cmd = sub.add_parser(
        "doctor", help="check the database, Redis, workers, settings and tools; say what to fix"
    )
    cmd.add_argument("--json", action="store_true", help="print the findings as JSON")
    # The doctor reports a bad configuration itself instead of refusing to start.
    cmd.set_defaults(func=cmd_doctor, skip_config_check=True)

    cmd = sub.add_parser("backup", help="back up the database and data/ files into a .tar.gz")
    cmd.add_argument(
        "--output", type=Path, help="archive path (default data/backups/bizbot-<time>.tar.gz)"
    )
    cmd.set_defaults(func=cmd_backup)
    cmd = sub.add_parser("restore", help="replace the database and data/ files with a backup")
    cmd.add_argument("archive", type=Path, help="a .tar.gz made by `backup`")
    cmd.add_argument("--yes", action="store_true", help="replace a database that holds data")
    cmd.set_defaults(func=cmd_restore)
