#!/usr/bin/env bash
# Run the MPI tests (tests/training/distributed) N times in a row, optionally beside K busy processes that
# load the cores as a shared CI machine does; stops at the first failure and says which round.
#   benchmarks/repeat_mpi_tests.sh [N=20] [K=0]
set -u
n=${1:-20}; hogs=${2:-0}; pids=()
for _ in $(seq 1 "$hogs"); do python -c "while True: pass" & pids+=($!); done
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done' EXIT
for i in $(seq 1 "$n"); do
    if ! HYPOTHESIS_PROFILE=ci python -m pytest -q -p no:randomly tests/training/distributed >/tmp/repeat_mpi_$$.log 2>&1; then
        cat /tmp/repeat_mpi_$$.log; echo "repeat_mpi_tests: round $i of $n failed (with $hogs busy processes)"; exit 1
    fi
done
rm -f /tmp/repeat_mpi_$$.log
echo "repeat_mpi_tests: $n of $n rounds passed (with $hogs busy processes beside them)"
