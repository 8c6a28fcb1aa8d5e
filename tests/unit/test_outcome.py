"""The exit code is decided in one place, from the verdict and every failed output."""

from __future__ import annotations

import io
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govgate.cli import main
from govgate.errors import ExitCode
from govgate.outcome import Channel, exit_code


@given(verdict=st.sampled_from(list(ExitCode)), failed=st.booleans())
def test_only_a_clean_pass_is_zero(verdict: ExitCode, failed: bool) -> None:
    code = exit_code(verdict, output_failed=failed)
    assert (code == ExitCode.OK) == (verdict is ExitCode.OK and not failed)
    if verdict is not ExitCode.OK:
        assert code is verdict  # a blocked gate stays 1, a refusal 2, an interruption 130
    elif failed:
        assert code is ExitCode.OUTPUT_ERROR


def test_exit_codes_are_documented_values() -> None:
    assert {c.name: int(c) for c in ExitCode} == {
        "OK": 0, "GATE_BLOCKED": 1, "USAGE_ERROR": 2, "INTERNAL_ERROR": 3, "OUTPUT_ERROR": 4,
        "INTERRUPTED": 130, "TERMINATED": 143}


class Broken(io.StringIO):
    def __init__(self, exc: BaseException) -> None:
        super().__init__()
        self.exc = exc

    def write(self, text: str) -> int:
        raise self.exc


@pytest.mark.parametrize("exc", [BrokenPipeError(32, "Broken pipe"), OSError(5, "I/O error"),
                                 OSError(28, "No space left on device"),
                                 ValueError("I/O operation on closed file")])
def test_a_failed_write_is_recorded_not_raised(exc: BaseException) -> None:
    channel = Channel(Broken(exc))
    assert channel.write("gate: BLOCKED\n") == len("gate: BLOCKED\n")
    assert channel.failed
    channel.write("more")  # later writes are dropped quietly
    channel.flush()


class Ascii(io.StringIO):
    encoding = "ascii"

    def write(self, text: str) -> int:
        text.encode("ascii")  # UnicodeEncodeError, like a strict ASCII console
        return super().write(text)


def test_text_the_console_cannot_encode_is_escaped() -> None:
    stream = Ascii()
    channel = Channel(stream)
    channel.write("red → blocked, signer Zoë\n")
    assert not channel.failed
    assert stream.getvalue() == "red \\u2192 blocked, signer Zo\\xeb\n"


@pytest.mark.parametrize("argv", [["schema"], ["--help"], ["schema", "config"]])
def test_a_command_whose_stdout_failed_is_not_zero(argv: list[str]) -> None:
    code = main(argv, out=cast(io.StringIO, Broken(BrokenPipeError(32, "Broken pipe"))),
                err=io.StringIO())
    assert code == ExitCode.OUTPUT_ERROR


def test_a_refusal_stays_2_when_stderr_is_gone_too() -> None:
    broken = Broken(BrokenPipeError(32, "Broken pipe"))
    assert main(["schema", "no_such_kind"], out=broken, err=broken) == ExitCode.USAGE_ERROR


def test_keyboard_interrupt_is_130(monkeypatch: pytest.MonkeyPatch) -> None:
    from govgate.commands import schema

    def interrupted(*args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(schema, "run", interrupted)
    err = io.StringIO()
    assert main(["schema"], out=io.StringIO(), err=err) == ExitCode.INTERRUPTED == 130
    assert err.getvalue() == "govgate: interrupted\n"
