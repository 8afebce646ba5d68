#!/usr/bin/env bash
# Prints the Python interpreter to make the venv with (its path, on stdout); says which one and why on stderr.
#   PYTHON set and not empty: that one (a command on PATH or a path), if it runs and is 3.11 or newer.
#   else the newest of python3.13, python3.12, python3.11, python3 on PATH that runs and is 3.11 or newer; a
#   Python newer than 3.13 (not tested) only when none of 3.11-3.13 runs.
# Each candidate is run, not just looked up: a pyenv shim for a version that is installed but not selected exists
# on PATH yet fails ("pyenv: python3.13: command not found"), and such a shim is skipped with a one-line note.
# Exit 2, with what to do, when none fits.
set -uo pipefail

TESTED_MAX=(3 13)  # the newest version constraints.txt is resolved for
CANDIDATES=(python3.13 python3.12 python3.11 python3)

note() { echo "pick-python: $*" >&2; }

# "MAJOR MINOR MICRO EXECUTABLE" of a Python that runs, is 3.11+ and has venv + ensurepip; else a reason on stdout, exit 1.
probe() {
  "$1" - <<'EOF' 2>/dev/null
import sys
v = sys.version_info
if v < (3, 11):
    print("is Python %d.%d.%d, older than 3.11" % v[:3]); sys.exit(1)
try:
    import venv, ensurepip  # Debian splits these into python3.X-venv
except ImportError:
    print("is Python %d.%d.%d but has no venv/ensurepip (Debian: apt-get install python3.%d-venv)" % (*v[:3], v[1]))
    sys.exit(1)
print(v[0], v[1], v[2], sys.executable)  # the real binary, not a shim: the venv is made with it
EOF
}

# probe $1, printing "MAJOR MINOR MICRO EXECUTABLE" or noting why not (a command that does not run gets its first error line)
check() {
  local out rc
  out=$(probe "$1"); rc=$?
  if [ $rc -eq 0 ] && [ -n "$out" ]; then echo "$out"; return 0; fi
  if [ -z "$out" ]; then
    out="does not run ($("$1" -c pass 2>&1 </dev/null | head -n 1)); a pyenv shim for a version not selected?"
  fi
  note "skipped $1 ($(command -v "$1")): $out"
  return 1
}

if [ -n "${PYTHON:-}" ]; then
  if ! command -v "$PYTHON" >/dev/null 2>&1; then
    note "PYTHON=$PYTHON is not a command on PATH nor an executable file"; exit 2
  fi
  if ! ver=$(check "$PYTHON"); then
    note "PYTHON=$PYTHON cannot be used (above); the project needs a Python 3.11 or newer (3.11-3.13 tested)"; exit 2
  fi
  read -r ma mi mc exe <<<"$ver"
  note "using PYTHON=$PYTHON ($exe, Python $ma.$mi.$mc)"
  echo "$exe"; exit 0
fi

best="" best_key=-1 best_ver=""
for c in "${CANDIDATES[@]}"; do
  command -v "$c" >/dev/null 2>&1 || continue
  ver=$(check "$c") || continue
  read -r ma mi mc exe <<<"$ver"
  # tested versions rank above untested newer ones; within each, the newest wins; on a tie the first candidate
  tested=$(( ma * 100 + mi <= TESTED_MAX[0] * 100 + TESTED_MAX[1] ))
  key=$(( tested * 1000000 + ma * 10000 + mi * 100 + (mc < 99 ? mc : 99) ))
  if [ "$key" -gt "$best_key" ]; then
    best=$exe best_key=$key best_ver="$ma.$mi.$mc"
    best_tested=$tested best_name=$c
  fi
done

if [ -z "$best" ]; then
  note "no Python 3.11 or newer found on PATH (tried ${CANDIDATES[*]});" \
       "install Python 3.11, 3.12 or 3.13, or name one: make PYTHON=/path/to/python3.13"
  exit 2
fi
if [ "$best_tested" -eq 0 ]; then
  note "Python $best_ver is newer than the tested ${TESTED_MAX[0]}.${TESTED_MAX[1]}: constraints.txt may not resolve"
fi
note "using $best_name ($best, Python $best_ver); PYTHON=... picks another"
echo "$best"
