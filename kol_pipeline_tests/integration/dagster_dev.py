"""Start `kol-pipeline ui` (dagster dev: webserver, daemon, code server) as its own process group, talk to its
GraphQL API, stop it cleanly. Used by the UI and operations tests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KOL = Path(sys.executable).parent / "kol-pipeline"
if not KOL.exists():
    KOL = Path(shutil.which("kol-pipeline") or "/nonexistent/kol-pipeline")
DAGSTER = Path(sys.executable).parent / "dagster"
if not DAGSTER.exists():
    DAGSTER = Path(shutil.which("dagster") or "/nonexistent/dagster")
MISSING = None if KOL.exists() and DAGSTER.exists() else "the kol-pipeline and dagster executables are not installed"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a LISTEN socket on `port`, from /proc/net/tcp and tcp6 (Linux)."""
    out: set[str] = set()
    for name, width in (("tcp", 8), ("tcp6", 32)):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            addr, p = local.split(":")
            if state != "0A" or int(p, 16) != port:  # 0A = LISTEN
                continue
            if width == 8:
                out.add(socket.inet_ntop(socket.AF_INET, bytes.fromhex(addr)[::-1]))
            else:
                raw = b"".join(bytes.fromhex(addr[i : i + 8])[::-1] for i in range(0, 32, 8))
                out.add(socket.inet_ntop(socket.AF_INET6, raw))
    return out


def http_get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read()


def children(pid: int) -> list[int]:
    """Child pids of `pid` (Linux /proc)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(c) for c in path.read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


@dataclass
class DevServer:
    proc: subprocess.Popen  # `kol-pipeline ui`: the supervisor, leader of its own process group
    port: int
    log_path: Path
    home: Path
    dev_pgid: int | None = None  # `dagster dev` runs in a process group of its own: its pid

    @property
    def groups(self) -> list[int]:
        return [self.proc.pid] + ([self.dev_pgid] if self.dev_pgid else [])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, n: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-n:]

    def gql(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        req = urllib.request.Request(self.base + "/graphql", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            data = json.loads(r.read())
        assert "errors" not in data, data
        return data["data"]


def start(tmp_path: Path, env_extra: dict[str, str], host: str | None = None, timeout: float = 180) -> DevServer:
    home = tmp_path / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOL_")}
    env.update(DAGSTER_HOME=str(home), **env_extra)
    log_path = tmp_path / "dev.log"
    args = [str(KOL), "ui", "--port", str(port)] + (["--host", host] if host else [])
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # dagster dev maps SIGTERM to its SIGINT handler; a SIGINT ignored by the parent (background shells, some
        # test runners) would be inherited and make SIGTERM a no-op (kol-pipeline ui restores it too)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    server = DevServer(proc, port, log_path, home)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            json.loads(http_get(server.base + "/server_info"))
            # the code location loads after the webserver answers
            data = server.gql("{ repositoriesOrError { __typename } }")
            if data["repositoriesOrError"]["__typename"] == "RepositoryConnection":
                (server.dev_pgid,) = children(proc.pid)
                return server
        except (urllib.error.URLError, ConnectionError, OSError, ValueError, AssertionError):
            pass
        time.sleep(1)
    stop(server)
    raise AssertionError("dagster dev did not come up:\n" + server.log_tail())


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def stop(server: DevServer) -> tuple[int, bool]:
    """SIGTERM the process group of `kol-pipeline ui`, wait up to 30 s for every member of it and of dagster dev's
    own group to exit, else SIGKILL them. Returns (exit code of `kol-pipeline ui`, whether anything had to be
    killed)."""
    proc, pgid = server.proc, server.proc.pid  # start_new_session: its process group id is its pid
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return proc.wait(timeout=10), False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (proc.poll() is None or any(map(group_alive, server.groups))):
        time.sleep(0.5)
    killed = proc.poll() is None or any(map(group_alive, server.groups))
    if killed:
        for g in server.groups:
            try:
                os.killpg(g, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return proc.wait(timeout=10), killed


def repository(server: DevServer) -> tuple[str, str]:
    """(location name, repository name) of the kol_pipeline code location."""
    data = server.gql("{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }")
    (repo,) = [r for r in data["repositoriesOrError"]["nodes"] if r["location"]["name"] == "kol_pipeline"]
    return repo["location"]["name"], repo["name"]
