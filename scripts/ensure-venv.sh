#!/usr/bin/env bash
# `make install`: the venv VENV (first argument, default .venv) with the project and its test extras installed from
# constraints.txt, and a line saying which Python it has.
#   - VENV exists and its python runs: kept, whatever 3.11+ Python made it, unless PYTHON names another one
#     (another version or installation): then it is made anew with that one.
#   - VENV missing, or its python no longer runs (its base Python was removed or upgraded), or is older than 3.11:
#     made with scripts/pick-python.sh's choice (PYTHON if given, else the newest 3.11+ on PATH).
#   - the packages are (re)installed when VENV/.installed is older than pyproject.toml or constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv}
STAMP=$VENV/.installed

note() { echo "venv: $*" >&2; }
# "VERSION BASE_PREFIX" of an interpreter (a venv's python gives its base installation)
identity() { "$1" -c 'import os, sys; print("%d.%d.%d" % sys.version_info[:3], os.path.realpath(sys.base_prefix))' 2>/dev/null; }

make_with=""
have=""
if [ -x "$VENV/bin/python" ]; then have=$(identity "$VENV/bin/python") || have=""; fi
if [ -n "$have" ] && ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  note "$VENV has Python ${have%% *}, older than 3.11: making it anew"
  have=""
fi

if [ -z "$have" ]; then
  if [ -e "$VENV" ]; then note "$VENV exists but its python does not run or is too old: making it anew"; fi
  make_with=$(scripts/pick-python.sh) || exit 2
elif [ -n "${PYTHON:-}" ]; then
  want_exe=$(scripts/pick-python.sh) || exit 2
  want=$(identity "$want_exe")
  if [ "$want" != "$have" ]; then
    note "$VENV has Python ${have%% *} (${have#* }), PYTHON=$PYTHON is ${want%% *} (${want#* }): making it anew"
    make_with=$want_exe
  fi
fi

if [ -n "$make_with" ]; then
  rm -rf "$VENV"
  "$make_with" -m venv "$VENV"
  have=$(identity "$VENV/bin/python")
fi
note "$VENV has Python ${have%% *} (${have#* }); make PYTHON=/path/to/python3.X makes it anew with another"

if [ ! -e "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ] || [ constraints.txt -nt "$STAMP" ]; then
  note "installing the project from constraints.txt into $VENV"
  "$VENV/bin/pip" install --quiet --upgrade "pip>=24"
  # Byte-compiled at install, not on first import: where PYTHONDONTWRITEBYTECODE is set (it is on this machine),
  # an import never writes a .pyc, so every process of the suite recompiled every module (measured with
  # --no-compile alone: the whole suite 962 s instead of 756 s). pip compiles one file at a time; compileall on
  # every core writes the same 16,267 .pyc files in less time (the whole install 86 s -> 69 s on 2 cores).
  "$VENV/bin/pip" install --quiet --no-compile -c constraints.txt -e ".[test]"
  site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  # a file that does not compile (a package's Python-2 example, say) is skipped, as pip skips it
  "$VENV/bin/python" -m compileall -q -j 0 "$site" >/dev/null 2>&1 || true
  touch "$STAMP"
fi
