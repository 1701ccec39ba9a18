"""Command-line help for the services' entry points."""
from __future__ import annotations

import argparse


def answer_help(prog: str, doc: str) -> None:
    """Answer ``--help`` from the module docstring (settings come from the environment, so
    there are no flags to parse) and reject unknown arguments."""
    summary, _, details = doc.partition("\n\n")
    argparse.ArgumentParser(prog=prog, description=summary, epilog=details or None,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
