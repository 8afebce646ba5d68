#!/usr/bin/env bash
# Regenerates constraints.txt, the exact versions `make` installs, so that it resolves on every supported Python.
#   scripts/lock-constraints.sh            re-checks the current pins: installs them on each Python and writes what
#                                          was installed (a package added to pyproject.toml gets its newest version)
#   scripts/lock-constraints.sh --upgrade  resolves afresh: the newest versions pyproject.toml's ranges allow
# On each Python (PYTHONS="/path/python3.11 /path/python3.12 ..."; default: 3.11, 3.12, 3.13 from pyenv, else PATH)
# the project with its test extras is installed into a temporary venv and frozen; a version that all of them
# installed is written as is, one that differs gets a line per Python with a `; python_version == "3.X"` marker.
set -euo pipefail
cd "$(dirname "$0")/.."
upgrade=0
[ "${1:-}" = "--upgrade" ] && upgrade=1

if [ -z "${PYTHONS:-}" ]; then
  root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
  PYTHONS=""
  for v in 3.11 3.12 3.13; do
    c=$(ls -d "$root/versions/$v".*/bin/"python$v" 2>/dev/null | sort -V -r | head -n 1 || true)
    PYTHONS="$PYTHONS ${c:-python$v}"
  done
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pids=()
for py in $PYTHONS; do
  v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])') || { echo "lock: $py does not run" >&2; exit 2; }
  (
    "$py" -m venv "$work/venv$v"
    "$work/venv$v/bin/pip" install --quiet --upgrade "pip>=24"
    if [ $upgrade -eq 1 ]; then
      "$work/venv$v/bin/pip" install --quiet -e ".[test,k8s]"
    else
      "$work/venv$v/bin/pip" install --quiet -c constraints.txt -e ".[test,k8s]"
    fi
    "$work/venv$v/bin/pip" freeze --exclude-editable > "$work/freeze-$v.txt"
    echo "lock: Python $v ($py) resolved" >&2
  ) & pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done

"$(ls "$work"/venv*/bin/python | head -n 1)" - "$work" > constraints.txt.new <<'EOF'
import sys
from pathlib import Path

pins = {}  # name -> {python version: pin line}
versions = []
for f in sorted(Path(sys.argv[1]).glob("freeze-*.txt"), key=lambda p: tuple(map(int, p.stem[7:].split(".")))):
    v = f.stem[len("freeze-"):]
    versions.append(v)
    for line in f.read_text().splitlines():
        if line and not line.startswith("#"):
            pins.setdefault(line.split("==")[0], {})[v] = line
for name in sorted(pins, key=str.lower):
    by_version = pins[name]
    if len(set(by_version.values())) == 1 and len(by_version) == len(versions):
        print(next(iter(by_version.values())))
    else:
        for v in versions:
            if v in by_version:
                print(f'{by_version[v]} ; python_version == "{v}"')
EOF
mv constraints.txt.new constraints.txt
echo "lock: constraints.txt written for Python $(cd "$work" && ls freeze-*.txt | sed 's/freeze-//; s/.txt//' | tr '\n' ' ')" >&2
git diff --stat -- constraints.txt 2>/dev/null || true
