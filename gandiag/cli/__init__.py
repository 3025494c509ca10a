"""The command-line interface: the only place that reads argv, prints or exits.

It sits on top of everything: each command module parses options, calls the
stages (or :func:`gandiag.api.analyze` and the workflows) and renders.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="gandiag",
    help="Diagnose GAN training runs: stable, mode collapse or non-converged, with evidence and fixes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    for name in ("analyze", "verify", "train", "inspect", "report", "watch", "calibrate"):
        try:
            module = __import__(f"gandiag.cli.{name}", fromlist=["register"])
        except ModuleNotFoundError as exc:  # module not written yet
            if exc.name != f"gandiag.cli.{name}":
                raise
            continue
        module.register(app)


_register()


def main() -> None:
    app()
