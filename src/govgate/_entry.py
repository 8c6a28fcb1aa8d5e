"""The console-script entry point, kept tiny: ``govgate --version`` answers before the CLI loads."""

import sys


def console_main() -> None:
    """Run ``govgate``; exits with its :class:`~govgate.errors.ExitCode`."""
    if sys.argv[1:] == ["--version"]:
        from . import __version__

        sys.stdout.write(f"govgate {__version__}\n")
        sys.exit(0)
    from .cli import console_main as run

    run()
