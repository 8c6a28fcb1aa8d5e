"""The console-script entry point, kept tiny: ``govgate --version`` answers before the CLI loads."""

import sys


def console_main() -> None:
    """Run ``govgate``; exits with its :class:`~govgate.errors.ExitCode`."""
    if sys.argv[1:] == ["--version"]:
        from . import __version__

        try:
            sys.stdout.write(f"govgate {__version__}\n")
            sys.stdout.flush()
        except OSError:  # a reader that went away: the answer did not arrive (OUTPUT_ERROR)
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(4)
        sys.exit(0)
    from .cli import console_main as run

    run()
