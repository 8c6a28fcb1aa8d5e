"""Time to refuse a ``signer_ack_event`` export with one very long record, by its length.

Loading must stay linear in the file's size however long a line is: a record longer than
``MAX_RECORD_BYTES`` is refused after reading about that much of it. This prints the time per
shape (one bare line, one quoted field, a quoted field with line breaks, a header line) for
each size; a quadratic step shows as a time that grows with the square of the size. Figures
only: nothing is asserted.

    python benchmarks/bench_long_lines.py --mb 16 128
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

HEADER = ("ack_event_id,signer_id,owner_route,cert_window_id,request_dt_utc,ack_dt_utc,"
          "ack_outcome,sla_target_hours\n")
GOOD = "ae-1,alex,publish_gate,cw-1,2026-10-01 10:00:00+00,2026-10-01 10:10:00+00,approved,0.50\n"
TAIL = ",publish_gate,cw-1,2026-10-01 10:00:00+00,,,0.50\n"


def write(path: Path, shape: str, size: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        if shape == "header":
            out.write("x" * size + HEADER + GOOD)
            return
        out.write(HEADER + GOOD + "ae-2,")
        if shape == "bare":
            out.write("x" * size)
        elif shape == "quoted":
            out.write('"' + "x" * size + '"')
        else:  # quoted, with a line break every 1,000 characters
            line = "x" * 999 + "\n"
            out.write('"' + line * (size // 1000) + '"')
        out.write(TAIL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, nargs="+", default=[4, 16, 64],
                        help="record lengths in MiB (default: 4 16 64)")
    args = parser.parse_args()

    from govgate.errors import GovgateError
    from govgate.fatigue.events import load_events

    with tempfile.TemporaryDirectory() as folder:
        for mb in args.mb:
            for shape in ("bare", "quoted", "quoted-multiline", "header"):
                path = Path(folder) / f"{shape}.csv"
                write(path, shape, mb << 20)
                started = time.perf_counter()
                try:
                    load_events(path)
                    outcome = "loaded"
                except GovgateError as exc:
                    outcome = exc.message.split(" (")[0]
                elapsed = time.perf_counter() - started
                print(f"{mb:5d} MiB {shape:17} {elapsed:7.3f} s  {outcome}")
                path.unlink()


if __name__ == "__main__":
    main()
