"""`python -m backend.cli doctor`: every dependency and setting checked, with what to fix."""

from __future__ import annotations

import argparse
import json

from backend.ops import doctor


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print one line per check (or JSON); exit 1 when anything must be fixed."""
    findings = doctor.run_checks()
    if args.json:
        print(json.dumps(doctor.as_dicts(findings)))
    else:
        print(doctor.render(findings))
    return 1 if any(f.status == doctor.FAIL for f in findings) else 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `doctor` command."""
    cmd = sub.add_parser(
        "doctor", help="check the database, Redis, workers, settings and tools; say what to fix"
    )
    cmd.add_argument("--json", action="store_true", help="print the findings as JSON")
    # The doctor reports a bad configuration itself instead of refusing to start.
    cmd.set_defaults(func=cmd_doctor, skip_config_check=True)
