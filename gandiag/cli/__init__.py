"""The command-line interface: the only place that reads argv, prints or exits.

It sits on top of everything: each command module parses options, calls the
stages (or :func:`gandiag.api.analyze` and the workflows) and renders.
"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    name="gandiag",
    help="Diagnose GAN training runs: stable, mode collapse or non-converged, with evidence and fixes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from gandiag._version import __version__

        typer.echo(f"gandiag {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", "-V", help="Print the version and exit.",
                                         callback=_print_version, is_eager=True)] = False,
) -> None:
    """Diagnose GAN training runs: stable, mode collapse or non-converged, with evidence and fixes."""


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
