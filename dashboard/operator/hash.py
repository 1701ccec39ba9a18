"""``python -m dashboard.operator.hash``: asks for the operator password twice (not echoed) and
prints its hash for ``DASHBOARD_OPERATOR_PASSWORD_HASH``, so the password itself need not sit in
an environment file."""
from __future__ import annotations

import getpass
import sys

from werkzeug.security import generate_password_hash

MIN_LENGTH = 10


def main() -> int:
    password = getpass.getpass("Operator password: ")
    if len(password) < MIN_LENGTH:
        print(f"Use at least {MIN_LENGTH} characters.", file=sys.stderr)
        return 1
    if getpass.getpass("Again: ") != password:
        print("The two did not match.", file=sys.stderr)
        return 1
    print(generate_password_hash(password))
    return 0


if __name__ == "__main__":
    sys.exit(main())
