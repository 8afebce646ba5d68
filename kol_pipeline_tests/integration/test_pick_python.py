"""scripts/pick-python.sh, the Python `make run` / `make test` make the venv with, run against a PATH of stubs: stub
Pythons of a chosen version (the real interpreter, told another sys.version_info) and stubs that fail the way a
pyenv shim of an installed but unselected version does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PICK = ROOT / "scripts" / "pick-python.sh"
BASH = shutil.which("bash")
pytestmark = [pytest.mark.integration, pytest.mark.skipif(BASH is None, reason="needs bash")]

# A Python of another version: the real interpreter with sys.version_info and sys.executable replaced, running the
# script given with `-` (stdin) or `-c`, as pick-python.sh calls it.
STUB_CODE = """\
import sys
sys.version_info = {version!r}
sys.executable = {path!r}
{extra}
args = sys.argv[1:]
src = sys.stdin.read() if args[:1] == ["-"] else args[1]
exec(compile(src, "<stub>", "exec"), {{"__name__": "__main__"}})
"""


def python_stub(bindir: Path, name: str, version: tuple[int, int, int], *, venv: bool = True) -> Path:
    path = bindir / name
    extra = "" if venv else "sys.modules['ensurepip'] = None  # as on Debian without python3.X-venv"
    code = STUB_CODE.format(version=(*version, "final", 0), path=str(path), extra=extra)
    (bindir / f"{name}.py").write_text(code)
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{bindir / f"{name}.py"}" "$@"\n')
    path.chmod(0o755)
    return path


def failing_shim(bindir: Path, name: str) -> Path:
    path = bindir / name
    path.write_text(f'#!/bin/sh\necho "pyenv: {name}: command not found" >&2\nexit 127\n')
    path.chmod(0o755)
    return path


@pytest.fixture
def bindir(tmp_path: Path) -> Path:
    """A PATH entry holding only the tools the script needs besides the candidates (no system Python)."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in ("head",):
        (tools / tool).symlink_to(shutil.which(tool))
    stubs = tmp_path / "bin"
    stubs.mkdir()
    return stubs


def pick(bindir: Path, python: str | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": f"{bindir}{os.pathsep}{bindir.parent / 'tools'}", "HOME": str(bindir.parent)}
    if python is not None:
        env["PYTHON"] = python
    return subprocess.run(
        [BASH, str(PICK)], env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )


def test_the_newest_that_runs_skipping_a_failing_shim(bindir: Path):
    failing_shim(bindir, "python3.13")
    want = python_stub(bindir, "python3.12", (3, 12, 1))
    python_stub(bindir, "python3.11", (3, 11, 7))
    python_stub(bindir, "python3", (3, 11, 7))
    p = pick(bindir)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == str(want)
    assert "skipped python3.13" in p.stderr and "pyenv: python3.13: command not found" in p.stderr
    assert f"using python3.12 ({want}, Python 3.12.1)" in p.stderr


def test_newest_by_version_not_by_name(bindir: Path):
    python_stub(bindir, "python3.11", (3, 11, 7))
    want = python_stub(bindir, "python3", (3, 13, 0))
    p = pick(bindir)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == str(want)
    assert "Python 3.13.0" in p.stderr


def test_an_untested_newer_python_only_when_no_tested_one_runs(bindir: Path):
    want = python_stub(bindir, "python3.12", (3, 12, 1))
    python_stub(bindir, "python3", (3, 14, 0))
    p = pick(bindir)
    assert (p.returncode, p.stdout.strip()) == (0, str(want)), p.stderr
    (bindir / "python3.12").unlink()
    p = pick(bindir)
    assert (p.returncode, p.stdout.strip()) == (0, str(bindir / "python3")), p.stderr
    assert "newer than the tested 3.13" in p.stderr


def test_a_python_without_venv_is_skipped_with_the_package_to_install(bindir: Path):
    python_stub(bindir, "python3.13", (3, 13, 0), venv=False)
    want = python_stub(bindir, "python3.11", (3, 11, 2))
    p = pick(bindir)
    assert (p.returncode, p.stdout.strip()) == (0, str(want)), p.stderr
    assert "skipped python3.13" in p.stderr and "python3.13-venv" in p.stderr


def test_none_fits_exits_2_saying_what_to_do(bindir: Path):
    failing_shim(bindir, "python3.13")
    python_stub(bindir, "python3", (3, 10, 4))
    p = pick(bindir)
    assert p.returncode == 2
    assert p.stdout == ""
    assert "python3 " in p.stderr and "is Python 3.10.4, older than 3.11" in p.stderr
    assert "no Python 3.11 or newer found on PATH" in p.stderr and "make PYTHON=" in p.stderr


def test_an_empty_path_exits_2(bindir: Path):
    p = pick(bindir)
    assert p.returncode == 2 and p.stdout == ""
    assert "no Python 3.11 or newer found on PATH (tried python3.13 python3.12 python3.11 python3)" in p.stderr


def test_python_given_wins_over_a_newer_one(bindir: Path):
    python_stub(bindir, "python3.13", (3, 13, 0))
    given = python_stub(bindir.parent, "mypython", (3, 11, 9))
    p = pick(bindir, python=str(given))
    assert (p.returncode, p.stdout.strip()) == (0, str(given)), p.stderr
    assert f"using PYTHON={given} ({given}, Python 3.11.9)" in p.stderr


@pytest.mark.parametrize("make", ["shim", "old", "missing"])
def test_python_given_that_does_not_fit_exits_2(bindir: Path, make: str):
    python_stub(bindir, "python3.13", (3, 13, 0))  # a usable one is not taken instead
    if make == "shim":
        failing_shim(bindir, "python3.12")
        given = "python3.12"
    elif make == "old":
        given = str(python_stub(bindir.parent, "py310", (3, 10, 4)))
    else:
        given = str(bindir.parent / "no-such-python")
    p = pick(bindir, python=given)
    assert p.returncode == 2 and p.stdout == "", p.stderr
    assert f"PYTHON={given}" in p.stderr
