#!/bin/sh
# Runs the example programs built by `make test` ($BUILD/examples/, default build) and checks each
# one's exit code and a line of its output, so the programs a new user copies from keep working.
# Each example runs on data it makes itself; the cases on Fashion-MNIST ($FASHION_MNIST, default
# /usr/share/datasets/fashion-mnist) and the shared data ($TL_DATA_DIR, default ../shared/data)
# are skipped, with their reason, when those are absent. Prints "N passed, N failed, N skipped".
BUILD=${BUILD:-build}
E=$BUILD/examples
FM=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
DATA=${TL_DATA_DIR:-../shared/data}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export TMPDIR="$TMP" # the examples' temporary model files
pass=0; fail=0; skipped=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -n "$2" ] && printf '%s\n' "$2" | tail -n 15 | sed 's/^/  /'; }
skip() { skipped=$((skipped + 1)); echo "SKIP $1: $2"; }

# expect NAME EXIT_CODE PATTERN_IN_OUTPUT -- command...
expect() {
    name=$1 code=$2 pat=$3; shift 4
    out=$("$@" 2>&1); rc=$?
    if [ "$rc" -ne "$code" ]; then bad "$name (exit $rc, expected $code)" "$out"; return; fi
    if [ -n "$pat" ] && ! printf '%s' "$out" | grep -q -- "$pat"; then bad "$name (output lacks '$pat')" "$out"; return; fi
    ok
}

# feature-based transfer: the protocol, the report, the pipeline saved, loaded and predicting
expect feature_transfer 0 "target predictions equal the report's" -- "$E/feature_transfer"
expect feature_transfer-jda 0 "negative transfer" -- "$E/feature_transfer" jda dim=4
expect feature_transfer-bad-method 1 "expected one of pca, coral" -- "$E/feature_transfer" kmm
expect feature_transfer-bad-param 1 "coral has no parameter 'dim'" -- "$E/feature_transfer" coral dim=3
expect feature_transfer-bad-value 1 "eps" -- "$E/feature_transfer" coral eps=-1
expect feature_transfer-usage 2 "usage" -- "$E/feature_transfer" -s only-a-source.csv
expect feature_transfer-missing-file 1 "nope.csv" -- "$E/feature_transfer" -s "$TMP/nope.csv" -t "$TMP/nope.csv"
if [ -d "$DATA/office_caltech10_surf" ]; then
    expect feature_transfer-surf 0 "target predictions equal the report's" -- "$E/feature_transfer" \
        -s "$DATA/office_caltech10_surf/caltech_SURF_L10.mat" \
        -t "$DATA/office_caltech10_surf/amazon_SURF_L10.mat" tca dim=20
else
    skip feature_transfer-surf "$DATA/office_caltech10_surf not found (set TL_DATA_DIR)"
fi

# instance weighting: weights, new samples, KMM's refusal, weighted against unweighted
expect instance_weighting 0 "kmm on new samples: unsupported" -- "$E/instance_weighting"

# model-based transfer: pre-train, new head, fine-tune against scratch
expect finetune 0 "fine-tuned from the source" -- "$E/finetune"
if [ -d "$FM" ]; then
    expect finetune-fashion 0 "Fashion-MNIST from" -- "$E/finetune" "$FM"
else
    skip finetune-fashion "$FM not found (apt-get install dataset-fashion-mnist)"
fi

# the demo's image shifter, on a two-row CSV
printf '1,2,3,0\n4,5,6,1\n' > "$TMP/two.csv"
expect shift_images 0 "" -- "$E/shift_images" "$TMP/two.csv" "$TMP/two.npy" invert
[ -s "$TMP/two.npy" ] && ok || bad "shift_images-writes-npy"
expect shift_images-usage 2 "usage" -- "$E/shift_images"

echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
