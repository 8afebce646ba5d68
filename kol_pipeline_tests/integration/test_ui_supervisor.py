"""`kol-pipeline ui`'s supervisor (`supervisor.supervise_dev`) with a stand-in for `dagster dev`: a script that starts a
"code server" child in its own process group and reports what it sees. Checks that a stop signal reaches dagster dev
alone (its code server is not signalled along with it), that whatever it leaves behind is stopped, that a
supervisor killed outright still stops dagster dev, and the exit codes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and prctl: Linux"),
    pytest.mark.waits,  # 29 s, 3 s of CPU (waiting for a fake dagster dev to start and stop): beside the workers
]

# argv: state dir, what to do on SIGINT ("exit" leaves the code server running; "exit3-now" exits 3 at once without
# a signal), whether the code server ignores SIGTERM ("stubborn")
FAKE_DEV = r"""
import os, signal, subprocess, sys, time
from pathlib import Path
state, mode, server_mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
# the stand-in code server notes a SIGINT in a file (and keeps running); SIGTERM stops it unless "stubborn"
server_code = ("import signal, sys, time\n"
               "signal.signal(signal.SIGINT, lambda *a: open(sys.argv[1], 'w').write('SIGINT'))\n"
               + ("signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" if server_mode == "stubborn" else "")
               + "time.sleep(600)\n")
server = subprocess.Popen([sys.executable, "-c", server_code, str(state / "server_got")])
(state / "server.pid").write_text(str(server.pid))
if mode == "exit3-now":
    sys.exit(3)
def on_int(signum, frame):
    try:
        os.kill(server.pid, 0)
        alive = server.poll() is None
    except ProcessLookupError:
        alive = False
    (state / "dev_got").write_text(f"{signal.Signals(signum).name} server_alive={alive}")
    os._exit(0)
signal.signal(signal.SIGINT, on_int)
signal.signal(signal.SIGTERM, on_int)
(state / "ready").write_text("1")
time.sleep(600)
"""

SUPERVISOR = (
    "import sys\nfrom pathlib import Path\nfrom kol_pipeline.supervisor import supervise_dev\n"
    "sys.exit(supervise_dev(sys.argv[2:], cwd=Path.cwd(), grace_s=float(sys.argv[1])))\n"
)
# The grace periods: long enough that a process killed by SIGTERM is gone on a loaded CI machine (1 s was not,
# with four test workers on two cores); short where the test waits for the SIGKILL.
GRACE_S = 5.0


def _ignore_sigterm() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _start(
    tmp_path: Path,
    mode: str,
    server_mode: str = "plain",
    grace_s: float = GRACE_S,
    inherit_ignored_sigterm: bool = False,
) -> subprocess.Popen:
    fake = tmp_path / "fake_dev.py"
    fake.write_text(FAKE_DEV)
    # output to a file: a pipe would stay open in the stand-ins the tests leave to the supervisor
    with (tmp_path / "out.log").open("wb") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-c",
                SUPERVISOR,
                str(grace_s),
                sys.executable,
                str(fake),
                str(tmp_path),
                mode,
                server_mode,
            ],
            cwd=tmp_path,
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_ignore_sigterm if inherit_ignored_sigterm else None,
        )


def _finish(sup: subprocess.Popen, tmp_path: Path, timeout: float = 30) -> str:
    sup.wait(timeout=timeout)
    return (tmp_path / "out.log").read_text()


def _wait_for(path: Path, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def _alive(pid: int) -> bool:
    """Running (a zombie that init has not reaped yet counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _gone_within(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("inherited_ignore", [False, True], ids=["", "sigterm-ignored-by-the-parent"])
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_group_signal_reaches_dagster_dev_alone_and_leftovers_are_stopped(tmp_path, stop_signal, inherited_ignore):
    """Also when `kol-pipeline ui` was started by a process that ignores SIGTERM (an ignored signal survives exec):
    dagster dev and its code servers get the default back, so the sweep's SIGTERM stops them."""
    sup = _start(tmp_path, "exit", inherit_ignored_sigterm=inherited_ignore)
    _wait_for(tmp_path / "ready")
    server = int((tmp_path / "server.pid").read_text())
    os.killpg(sup.pid, stop_signal)  # as `kill -- -PGID` or Ctrl-C in a terminal would
    out = _finish(sup, tmp_path)
    # dagster dev got one SIGINT while its code server was still running; the code server was not signalled with it
    assert (tmp_path / "dev_got").read_text() == "SIGINT server_alive=True"
    assert not (tmp_path / "server_got").exists()
    # it left the code server behind: the supervisor stopped it before exiting, and says so
    assert not _alive(server)
    assert "stopping what dagster dev left in process group" in out
    assert "SIGKILL" not in out
    assert sup.returncode == 0, out


def test_a_leftover_that_ignores_sigterm_is_killed(tmp_path):
    sup = _start(tmp_path, "exit", server_mode="stubborn", grace_s=1.0)
    _wait_for(tmp_path / "ready")
    server = int((tmp_path / "server.pid").read_text())
    os.killpg(sup.pid, signal.SIGTERM)
    out = _finish(sup, tmp_path)
    assert not _alive(server)
    assert "did not stop within 1 s of SIGTERM: SIGKILL" in out
    assert sup.returncode == 0, out


def test_killing_the_supervisor_outright_still_stops_dagster_dev(tmp_path):
    sup = _start(tmp_path, "exit")
    _wait_for(tmp_path / "ready")
    server = int((tmp_path / "server.pid").read_text())
    os.killpg(sup.pid, signal.SIGKILL)
    sup.wait(timeout=10)
    # prctl(PR_SET_PDEATHSIG, SIGINT): dagster dev is told to shut down when its supervisor dies
    assert _wait_for(tmp_path / "dev_got", timeout=10) == "SIGINT server_alive=True"
    os.kill(server, signal.SIGKILL)  # nobody sweeps after a SIGKILL: the test cleans up its stand-in code server


def test_dagster_dev_exit_code_is_passed_on(tmp_path):
    sup = _start(tmp_path, "exit3-now")
    out = _finish(sup, tmp_path)
    server = int((tmp_path / "server.pid").read_text())
    assert sup.returncode == 3, out
    # its code server outlived it: swept as well, though nobody asked the supervisor to stop
    assert _gone_within(server, 5)
    assert "stopping what dagster dev left in process group" in out


def test_a_zombie_is_not_a_live_member_of_its_group():
    """An exited process nobody has reaped still makes killpg(pgid, 0) succeed; the supervisor does not wait for
    it (`live_members`), and a running member does count."""
    from kol_pipeline.supervisor import live_members

    done = subprocess.Popen(["true"], start_new_session=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(done.pid):
        time.sleep(0.05)
    os.killpg(done.pid, 0)  # a zombie: still a member for the kernel
    assert live_members(done.pid) is False
    running = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        assert live_members(running.pid) is True
    finally:
        running.kill()
        running.wait()
        done.wait()
