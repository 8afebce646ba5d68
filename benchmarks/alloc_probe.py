"""What a large allocation costs on this machine, with glibc's default malloc settings and with freed memory kept
(kol_pipeline/resources/allocator.py). Each round allocates and fills a 2 GB array, computes ``a + 1`` (another
2 GB), frees both and sleeps (long enough for a host to reclaim freed guest memory). Prints seconds per round.

    .venv/bin/python -m benchmarks.alloc_probe            # default malloc, then retained, each in a fresh process
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time


def _rounds(retain: bool, rounds: int, gb: float, sleep: float) -> None:
    import numpy as np

    from kol_pipeline.resources.allocator import retain_freed_memory

    applied = retain_freed_memory() if retain else False
    n = int(gb * 1e9 / 8)
    print(f"  {'retained' if retain else 'default '} (applied={applied}):", end="", flush=True)
    for _ in range(rounds):
        t0 = time.perf_counter()
        a = np.ones(n)
        b = a + 1
        del a, b
        print(f" {time.perf_counter() - t0:.2f}s", end="", flush=True)
        time.sleep(sleep)
    print()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--gb", type=float, default=2.0, help="size of each of the two arrays")
    ap.add_argument("--sleep", type=float, default=5.0)
    ap.add_argument("--mode", choices=["both", "default", "retained"], default="both")
    a = ap.parse_args(argv)
    if a.mode == "both":
        print(
            f"alloc + fill {a.gb:g} GB, a + 1, free; {a.rounds} rounds, {a.sleep:g} s apart (each in its own process)"
        )
        for mode in ("default", "retained"):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.alloc_probe",
                    "--mode",
                    mode,
                    "--rounds",
                    str(a.rounds),
                    "--gb",
                    str(a.gb),
                    "--sleep",
                    str(a.sleep),
                ],
                check=True,
            )
        return
    _rounds(a.mode == "retained", a.rounds, a.gb, a.sleep)


if __name__ == "__main__":
    main()
