#!/bin/sh
# calibrate-tolerances.sh - measures the spread of honest re-runs of the
# activation commitments, for docs/tolerances.md.
#
# For each test model (tiny F32, F16, Q8_0; the 15M shapes with --big),
# each seed and each provider thread count, a job runs with
# `gpuhour job run-local` (token-by-token decode) and is audited with
# `gpuhour audit` over every chunk (teacher-forced prefill in chunks of
# 32, another thread count).  Prints one line per run and the worst
# figures: the overlap of the top-k index sets and the largest relative
# error at committed indices.  CUDA vs CPU needs a GPU: where
# `gpuhour model selftest` passes, add --cuda runs (not here).
#
# usage: scripts/calibrate-tolerances.sh [--big] [RUNS-PER-MODEL]
# Run it under the heavy lock: flock /tmp/gpuhour-heavy.lock scripts/...
set -eu
G=${GH_BIN:-build/gpuhour}
BIG=0
if [ "${1:-}" = "--big" ]; then BIG=1; shift; fi
RUNS=${1:-10}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
L=$(printf '11%.0s' $(seq 32))
printf 'the quick brown fox jumps over the lazy dog\nonce upon a time there was a model that\n' > "$T/p"
worst_ov=1
worst_err=0
n=0
models="f32 f16 q8_0"
for ty in $models; do
	"$G" model make-test --out "$T/m.gguf" --type "$ty" > /dev/null
	[ "$BIG" = 1 ] && "$G" model make-test --out "$T/m.gguf" --type "$ty" --preset 15m > /dev/null
	r=1
	while [ "$r" -le "$RUNS" ]; do
		pt=$(( (r % 2) + 1 ))
		at=$(( 3 - pt ))
		temp=$(( r % 3 ))
		"$G" job run-local --model "$T/m.gguf" --lease "$L" --file "$T/p" \
		    -n 150 --seed "$r" --temp "0.$((temp * 4))" --threads "$pt" \
		    --out "$T/t" --json > /dev/null
		rc=0
		out=$("$G" audit --transcript "$T/t" --model "$T/m.gguf" \
		    --samples 100000 --threads "$at" --json) || rc=$?
		if [ "$rc" = 5 ]; then
			echo "HONEST RUN FLAGGED: $ty seed $r: $out"; exit 1
		elif [ "$rc" != 0 ]; then
			echo "audit failed to run (exit $rc)"; exit 2
		fi
		mn=$(echo "$out" | sed 's/.*"worst_mean":\([0-9.e+-]*\).*/\1/')
		ov=$(echo "$out" | sed 's/.*"worst_overlap":\([0-9.e+-]*\).*/\1/')
		er=$(echo "$out" | sed 's/.*"worst_err":\([0-9.e+-]*\).*/\1/')
		ck=$(echo "$out" | sed 's/.*"checked_chunks":\([0-9]*\).*/\1/')
		echo "model $ty seed $r provider-threads $pt auditor-threads $at chunks $ck overlap $ov max_rel_err $er mean_err $mn"
		worst_ov=$(awk -v a="$worst_ov" -v b="$ov" 'BEGIN{print (b<a)?b:a}')
		worst_err=$(awk -v a="$worst_err" -v b="$er" 'BEGIN{print (b>a)?b:a}')
		n=$((n + 1))
		r=$((r + 1))
	done
done
echo "calibration: $n honest runs, worst overlap $worst_ov, worst max_rel_err $worst_err"
