#!/usr/bin/env bash
# `make test` / `make test-unit`: pytest with its temporary files in memory, and the modules that mostly wait (on
# the Dagster daemon's 30-s ticks, on dagster dev starting and stopping) in a lane of their own beside the workers.
#   usage: scripts/run-tests.sh <pytest> [pytest args...]      (the args of the main lane: workers, paths, -m)
#
# - Temporary files: a fresh folder under /dev/shm (tmpfs) when there is one, else under $TMPDIR or /tmp, given as
#   TMPDIR (subprocesses, DuckDB's spill folder, tempfile) and as pytest's --basetemp, removed afterwards. The
#   tests' Dagster instances commit to SQLite once or more per event, and on a disk each commit waits for an
#   fsync: the CLI's whole-real-crawl test took 97 s with its instance on disk, 66 s in memory (BENCHMARKS.md,
#   "CI time"). Nothing a test writes needs to survive the run.
# - The `waits` lane (KOL_TEST_WAITS_LANE=1, what `make test` sets): the modules marked `pytest.mark.waits` run in
#   one more pytest process, started first, while the main lane deselects them. They use a fraction of a core
#   for minutes (the UI backfill test: 277 s, 97 s of CPU), so a worker of their own would sit mostly idle; their
#   output is printed after the main lane's. Without the variable, everything runs in the main lane.
set -uo pipefail
pytest=$1
shift
root=/dev/shm
if [ ! -d "$root" ] || [ ! -w "$root" ]; then root="${TMPDIR:-/tmp}"; fi
tmp=$(mktemp -d "$root/kol-pipeline-tests.XXXXXX") || exit 1
side=""
cleanup() {
  if [ -n "$side" ]; then kill "$side" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$tmp/tmp"
export TMPDIR="$tmp/tmp"

if [ "${KOL_TEST_WAITS_LANE:-}" != "1" ]; then
  "$pytest" "$@" --basetemp="$tmp/main"
  exit $?
fi

"$pytest" -q -m waits --basetemp="$tmp/waits" >"$tmp/waits.log" 2>&1 &
side=$!
"$pytest" "$@" -m "not waits" --basetemp="$tmp/main"
main_status=$?
wait "$side"
side_status=$?
side=""
echo "--- the modules marked 'waits' (the daemon's ticks, dagster dev), in their own lane beside the workers:"
cat "$tmp/waits.log"
[ "$side_status" -eq 5 ] && side_status=0 # no test collected (e.g. skipped at collection): nothing failed
if [ "$main_status" -ne 0 ] || [ "$side_status" -ne 0 ]; then
  echo "tests FAILED: main lane exit $main_status, waits lane exit $side_status"
  exit 1
fi
