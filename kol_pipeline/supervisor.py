"""The supervisor of `kol-pipeline ui`: `dagster dev` in a process group of its own, stopped in Dagster's own order
on Ctrl-C or SIGTERM, and nothing left running afterwards (docs/operations.md)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def _die_with_parent() -> None:
    """In the `dagster dev` child, before exec: default SIGINT, SIGTERM and SIGHUP, and on Linux a SIGINT when the
    supervisor dies, even by SIGKILL (prctl PR_SET_PDEATHSIG).

    An ignored signal is inherited across exec, by dagster dev and by the code servers it starts: a shell that
    started us in the background ignores SIGINT (which dagster dev's shutdown needs), and a parent that ignored
    SIGTERM made every code server deaf to the sweep (CI's supervisor tests failed so; run from a parent that
    ignores SIGTERM, they fail the same way here)."""
    import ctypes
    import signal

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGINT), 0, 0, 0)


def supervise_dev(cmd: Sequence[str], cwd: Path, grace_s: float = 20.0) -> int:
    """Run `dagster dev` (`cmd`) in a process group of its own and stop it cleanly.

    A signal to the whole group at once (Ctrl-C in a terminal, `kill -- -PGID`) reaches dagster dev's code server
    while dagster dev is still shutting the webserver and daemon down; dagster dev's monitor then restarts the code
    server it sees exit, and that new server outlives the shutdown (seen in CI: "Code server process has exited with
    code 0. Restarting the code server process", then a process left running). So dagster dev does not share our
    process group: SIGINT, SIGTERM or SIGHUP to us forwards one SIGINT to dagster dev alone, which stops its
    services and then its code servers. When it has exited, its group has `grace_s` to empty by itself; what is
    left then gets SIGTERM, and SIGKILL after `grace_s` more. A second signal to us sends SIGTERM to dagster dev's
    whole group at once. Returns 0 after a clean shutdown, else dagster dev's exit code (128 + N if signal N
    killed it)."""
    import signal
    import subprocess

    _become_subreaper()
    child = subprocess.Popen(list(cmd), cwd=cwd, start_new_session=True, preexec_fn=_die_with_parent)
    signals_seen = 0

    def forward(signum: int, frame: object) -> None:
        nonlocal signals_seen
        signals_seen += 1
        try:
            if signals_seen == 1:
                os.kill(child.pid, signal.SIGINT)
            else:
                os.killpg(child.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, forward)
    code = child.wait()
    _sweep_group(child.pid, grace_s)
    if code in (0, -signal.SIGINT):
        return 0
    return code if code > 0 else 128 - code  # killed by a signal: the shell's convention


def _become_subreaper() -> None:
    """On Linux, processes orphaned below us (a code server whose dagster dev has exited) become our children
    (prctl PR_SET_CHILD_SUBREAPER), so that we reap them: an orphan's zombie, left to an init that reaps slowly,
    would still count as a member of its process group (`live_members` does not count zombies either, for
    where the prctl is refused)."""
    import ctypes

    if sys.platform.startswith("linux"):
        pr_set_child_subreaper = 36
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_child_subreaper, 1, 0, 0, 0)


def _reap_children() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def live_members(pgid: int) -> bool | None:
    """Whether process group `pgid` has a member that is not a zombie, from /proc (None where there is no /proc):
    a zombie that nobody has reaped yet still makes `killpg(pgid, 0)` succeed."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return None
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, pgrp, ...
        except (OSError, IndexError):
            continue  # the process has just exited
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _group_alive(pgid: int) -> bool:
    _reap_children()
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member we may not signal is still a member
        pass
    live = live_members(pgid)
    return True if live is None else live


def _sweep_group(pgid: int, grace_s: float) -> None:
    """Give process group `pgid` up to `grace_s` to empty by itself (dagster dev's code servers finish their own
    shutdown after dagster dev has exited), then SIGTERM what is left, wait up to `grace_s` more, then SIGKILL it."""
    import signal

    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and _group_alive(pgid):
        time.sleep(0.1)
    if not _group_alive(pgid):
        return
    print(f"stopping what dagster dev left in process group {pgid}", flush=True)
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and _group_alive(pgid):
        time.sleep(0.2)
    if _group_alive(pgid):
        print(f"process group {pgid} did not stop within {grace_s:.0f} s of SIGTERM: SIGKILL", flush=True)
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
