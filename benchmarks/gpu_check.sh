#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: install rnnlab with CuPy, run the cupy-parametrized tests, and time the
# cells on CuPy against PyTorch CUDA (cuDNN) when PyTorch has CUDA. Under 8 minutes in total; prints a
# short summary at the end. Run from anywhere: bash benchmarks/gpu_check.sh
set -u
cd "$(dirname "$0")/.."
LOG=$(mktemp -d)
summary() { echo; echo "== GPU check summary =="; cat "$LOG/summary"; }
trap summary EXIT
: > "$LOG/summary"

if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "no NVIDIA GPU visible (nvidia-smi): nothing to check" | tee -a "$LOG/summary"; exit 1
fi
nvidia-smi -L | head -1 | sed 's/^/device: /' >> "$LOG/summary"

timeout 240 python -m pip install -q -e '.[cuda,test]' > "$LOG/pip" 2>&1 \
    && echo "install .[cuda,test]: ok" >> "$LOG/summary" \
    || { echo "install .[cuda,test]: FAILED (tail of $LOG/pip:)" >> "$LOG/summary"; tail -5 "$LOG/pip" >> "$LOG/summary"; exit 1; }
python -c "import cupy; cupy.zeros(1).sum(); print('cupy', cupy.__version__, 'works')" >> "$LOG/summary" 2>&1 \
    || { echo "cupy does not run on this device" >> "$LOG/summary"; exit 1; }

# every test parametrized over the backends has a [cupy] variant
timeout 200 python -m pytest tests -q -x -k cupy -p no:cacheprovider > "$LOG/tests" 2>&1
echo "cupy tests (exit $?): $(tail -1 "$LOG/tests")" >> "$LOG/summary"
grep -E "^(FAILED|ERROR)" "$LOG/tests" | head -10 >> "$LOG/summary"

python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null \
    && echo "PyTorch CUDA: available (cuDNN reference)" >> "$LOG/summary" \
    || echo "PyTorch CUDA: not installed or no device (rnnlab timed alone)" >> "$LOG/summary"
timeout 150 python benchmarks/cells_vs_torch.py --backend cupy > "$LOG/bench" 2>&1
echo "benchmark (exit $?):" >> "$LOG/summary"
tail -6 "$LOG/bench" >> "$LOG/summary"
