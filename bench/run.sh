#!/bin/sh
# bench/run.sh: libtl against its reference implementations (numpy / scipy / scikit-learn from
# Debian's packages, /usr/bin/python3), same data and hyper-parameters, in one run.
#
#   sh bench/run.sh [SUITE...]        suites: core instance guard feature nn relational (default: every suite)
#
# Each operation runs in a fresh process per side (bench/bench_core for libtl, bench/ref_core.py
# for the reference), so the peak RSS a process reports belongs to that operation alone. Both
# programs time in-process (best of R runs after W warm-ups, monotonic clock) and print one JSON
# line; bench/report.py turns the pairs into a Markdown table (ratios, peak memory, whether the
# results are equal) with a description of the machine, written to bench/out/<suite>.md and
# printed. bench/RESULTS.md holds that output pasted verbatim: never edit a number by hand.
#
# Both sides use the same system OpenBLAS with the same thread count (OPENBLAS_NUM_THREADS =
# OMP_NUM_THREADS = 2, overridable with BENCH_THREADS); OPENBLAS_CORETYPE is left as the
# environment sets it and recorded in the table's header.
#
# Environment: BUILD (build folder, default "build", as `make bench` uses), TL_DATA (default
# ../shared/data), FMNIST (default /usr/share/datasets/fashion-mnist), PY (default
# /usr/bin/python3), BENCH_QUICK=1 (smaller Fashion-MNIST 1-NN, no 10000 x 10000 kernel: for
# trying the script, not for RESULTS.md).
#
# Adding a suite: write a function suite_NAME below that calls `pair` for each row and ends with
# `finish NAME`, and add NAME to ALL_SUITES.
set -eu
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
PY=${PY:-/usr/bin/python3}
DATA=${TL_DATA:-../shared/data}
FMNIST=${FMNIST:-/usr/share/datasets/fashion-mnist}
QUICK=${BENCH_QUICK:-0}
OUT=bench/out
THREADS=${BENCH_THREADS:-2}
export OPENBLAS_NUM_THREADS="$THREADS" OMP_NUM_THREADS="$THREADS"
ALL_SUITES="core instance guard feature nn hetero multisource relational deep_da mpi gradual multisource_amazon auto mpi_kernel mpi_da"
BENCH="$BUILD/bench/bench_core"
REF=bench/ref_core.py
CMD_PREFIX=""
[ "$QUICK" = 1 ] && CMD_PREFIX="BENCH_QUICK=1 (reduced sizes, not for RESULTS.md) "

say() { printf '%s\n' "$*" >&2; }

build() {
    say "bench: building libtl ($BUILD) and bench_core"
    make -s BUILD="$BUILD" lib >&2
    mkdir -p "$BUILD/bench" "$OUT"
    # the project's compile flags (Makefile: CFLAGS_ALL / DEP_LIBS)
    for b in bench_core bench_instance repro_feature user_split; do
        cc -std=c11 -O2 -g -Wall -Wextra -Wpedantic -Wshadow -D_GNU_SOURCE -DTL_STATIC_LINKING_ONLY -Iinclude \
            $(pkg-config --cflags openblas matio) -o "$BUILD/bench/$b" bench/$b.c "$BUILD/libtl.a" \
            $(pkg-config --libs openblas matio) -llapacke -lz -lm -lpthread
    done
    "$PY" -c "import numpy, scipy, sklearn" 2>/dev/null || {
        say "bench: $PY lacks numpy/scipy/sklearn (sh scripts/install-deps.sh bench)"; exit 1; }
}

# pair "OP LABEL" "DATA LABEL" "LIBTL ARGS" "REFERENCE ARGS": run both sides (one fresh process
# each) and append the pair to the suite's JSON lines. A libtl result is reused by the next pair
# when its LIBTL ARGS is "=" (same libtl run, another reference implementation).
pair() {
    if [ "$3" != "=" ]; then
        say "bench:   libtl     $1 ($2)"
        # shellcheck disable=SC2086
        C_JSON=$("$BENCH" $3)
    fi
    say "bench:   reference $1 ($2)"
    # shellcheck disable=SC2086
    R_JSON=$("$PY" "$REF" $4)
    printf '{"label":"%s","data":"%s","libtl":%s,"ref":%s}\n' "$1" "$2" "$C_JSON" "$R_JSON" \
        >>"$JSONL"
}

skip() {
    say "bench: SKIPPED $1"
    printf '{"skipped":"%s"}\n' "$1" >>"$JSONL"
}

start() {
    JSONL="$OUT/$1.jsonl"
    : >"$JSONL"
    SUITE_T0=$(date +%s)
    SUITE_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
    say "bench: suite $1"
}

finish() {
    t=$(($(date +%s) - SUITE_T0))
    "$PY" bench/report.py --suite "$1" --seconds "$t" --command "$CMD_PREFIX""sh bench/run.sh $1" \
        --load "$SUITE_LOAD" --libtl "$BENCH" "$JSONL" >"$OUT/$1.md"
    cat "$OUT/$1.md"
}

# ---- suite "core": readers, exact 1-NN, RBF kernel matrices ----
suite_core() {
    start core
    pair "process baseline" "nothing loaded or run" "-r 5 -w 1 noop" "-r 5 -w 1 noop"

    L_MAT="read .mat (scipy.io.loadmat)"
    L_KNN_SK="1-NN (sklearn KNeighborsClassifier brute)"
    L_KNN_NP="1-NN (numpy ||x||^2+||y||^2-2XY^T argmin)"
    L_RBF_SK="RBF kernel matrix (sklearn rbf_kernel)"
    L_RBF_NP="RBF kernel matrix (numpy exp(-g max(sqdist, 0)))"
    if [ -d "$DATA" ]; then
        S="$DATA/office_caltech10_surf" D="$DATA/office_caltech10_decaf"
        M="$DATA/digits_mnist_usps/MNIST_vs_USPS.mat" A="$DATA/amazon_review_dann_5000"
        a="-r 5 -w 1 read-mat"
        for dom in amazon caltech webcam dslr; do a="$a $S/${dom}_SURF_L10.mat"; done
        pair "$L_MAT" "Office+Caltech SURF, 4 files, 2533 x 800 uint8" "$a" "$a"
        a="-r 5 -w 1 read-mat $D/dslr_decaf.mat $D/webcam_decaf.mat"
        pair "$L_MAT" "Office+Caltech DeCAF, 2 files, 452 x 4096 double" "$a" "$a"
        a="-r 5 -w 1 read-mat $M:X_src,Y_src $M:X_tar,Y_tar"
        pair "$L_MAT" "MNIST_vs_USPS.mat, X/Y_src + X/Y_tar, 3800 x 256, transposed" "$a" "$a"
        a="-r 5 -w 1 read-svmlight 5000"
        for dom in books dvd electronics kitchen; do
            a="$a $A/${dom}_train.svmlight $A/${dom}_test.svmlight"
        done
        pair "read svmlight (sklearn load_svmlight_file)" \
            "Amazon 8 files, 27677 rows, 5000 features, 0-based" "$a" "$a"
    else
        skip "the shared data folder $DATA is absent: .mat, svmlight and MNIST->USPS rows"
    fi

    if [ -d "$FMNIST" ]; then
        F="$FMNIST"
        a="-r 3 -w 1 read-idx $F/train-images-idx3-ubyte.gz $F/train-labels-idx1-ubyte.gz"
        pair "read IDX.gz (gzip + numpy.frombuffer)" "Fashion-MNIST train, 60000 x 784 -> float64" \
            "$a" "$a"
        # .npy and CSV written (untimed) by libtl's tl_dataset_save from Fashion-MNIST test / 255
        stem="$OUT/fmnist_test"
        say "bench: writing $stem.npy and $stem.csv (tl_dataset_save)"
        "$BENCH" gen-csv-npy "$F" "$stem"
        a="-r 5 -w 1 read-npy $stem.npy $stem.labels.npy"
        pair "read .npy (numpy.load)" \
            "Fashion-MNIST test / 255, 10000 x 784 float64 + int32 labels" "$a" "$a"
        a="-r 3 -w 1 read-csv $stem.csv"
        pair "read CSV (numpy.loadtxt)" "the same as CSV, label last, 81 MB" "$a" "$a"
    else
        skip "Fashion-MNIST ($FMNIST) is absent: IDX, .npy, CSV, Fashion 1-NN and kernel rows"
    fi

    if [ -d "$DATA" ]; then
        a="-r 5 -w 1 knn-digits $M"
        d="MNIST -> USPS, 2000 x 1800 x 256, L2 rows"
        pair "$L_KNN_SK" "$d" "$a" "--impl sklearn $a"
        pair "$L_KNN_NP" "$d" "=" "--impl numpy $a"
    fi

    if [ -d "$FMNIST" ]; then
        if [ "$QUICK" = 1 ]; then ntr=10000 nte=2000; else ntr=60000 nte=10000; fi
        a="-r 1 -w 0 knn-fmnist $F $ntr $nte"
        d="Fashion-MNIST $ntr x $nte x 784, / 255"
        pair "$L_KNN_SK" "$d" "$a" "--impl sklearn $a"
        pair "$L_KNN_NP" "$d" "=" "--impl numpy $a"

        a="-r 3 -w 1 gamma-fmnist $F 2000"
        pair "median-heuristic gamma (scipy pdist + median)" \
            "Fashion-MNIST test 2000 x 784, all 1999000 pairs" "$a" "$a"
        # the kernels on both sides get libtl's gamma, printed with 17 digits (exact)
        gamma=$(printf '%s\n' "$C_JSON" | sed -n 's/.*"gamma":\([^,}]*\).*/\1/p')
        [ -n "$gamma" ] || { say "bench: no gamma in $C_JSON"; exit 1; }

        sizes=5000
        avail=$(awk '/MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)
        if [ "$QUICK" = 1 ]; then
            say "bench: BENCH_QUICK: no 10000 x 10000 kernel"
        elif [ "${avail:-0}" -ge 6000 ]; then
            sizes="5000 10000"
        else
            skip "RBF kernel 10000 x 10000: ${avail} MB available, 6000 MB wanted"
        fi
        for n in $sizes; do
            if [ "$n" = 5000 ]; then r="-r 3 -w 1"; else r="-r 1 -w 0"; fi
            dump="$OUT/K_$n.bin" # libtl's K, for the max abs difference
            a="$r rbf-fmnist $F $n $gamma"
            d="Fashion-MNIST test $n x $n x 784, / 255, same gamma"
            pair "$L_RBF_SK" "$d" "$a $dump" "--impl sklearn --compare $dump $a"
            pair "$L_RBF_NP" "$d" "=" "--impl numpy --compare $dump $a"
            rm -f "$dump"
        done
    fi
    finish core
}

# ---- suite "instance": KMM vs cvxopt, KLIEP/uLSIF vs numpy, domain classifier vs sklearn, MMD
# permutation test vs numpy; the libtl side dumps its weights and the reference correlates ----
gamma_of() { sed -n 's/.*"gamma":\([^,}]*\).*/\1/p'; }
suite_instance() {
    start instance
    BENCH="$BUILD/bench/bench_instance" REF=bench/ref_instance.py
    "$PY" -c "import cvxopt" 2>/dev/null || { say "bench: python3-cvxopt missing"; exit 1; }
    S="$DATA/office_caltech10_surf" A="$DATA/amazon_review_dann_5000" W="$OUT/weights"
    mkdir -p "$W"
    if [ -d "$S" ]; then
        C=$S/caltech_SURF_L10.mat AM=$S/amazon_SURF_L10.mat
        G=$("$BENCH" -r 1 -w 0 kmm-surf "$C" "$AM" 0 | gamma_of)
        pair "KMM (cvxopt QP)" "SURF C->A, 1123 x 958, same gamma" \
            "-r 3 -w 1 kmm-surf $C $AM $G $W/kmm.txt" "-r 3 -w 1 --compare $W/kmm.txt kmm-surf $C $AM $G"
        pair "KLIEP (numpy)" "SURF C->A, 958 centres" \
            "-r 3 -w 1 kliep-surf $C $AM $G $W/kliep.txt" "-r 3 -w 1 --compare $W/kliep.txt kliep-surf $C $AM $G"
        pair "uLSIF (numpy)" "SURF C->A, 958 centres" \
            "-r 3 -w 1 ulsif-surf $C $AM $G $W/ulsif.txt" "-r 3 -w 1 --compare $W/ulsif.txt ulsif-surf $C $AM $G"
        # the authors' protocols with width selection (libtl: widths = 9 around G); the reference is a
        # numpy port of KLIEP.m / uLSIF.m given libtl's centres and folds ($W/*.idx)
        # the floor of every single-width fit: the distances to the centres, one GEMM on each side
        pair "squared distances to the centres (numpy, the GEMM every single-width fit needs)" "SURF C->A, 958 centres (every target row)" \
            "-r 5 -w 1 sqdist-surf $C $AM 100000 $W/sqdist_all.idx" "-r 5 -w 1 sqdist-surf $C $AM 100000 $W/sqdist_all.idx"
        pair "squared distances to the centres (numpy, the GEMM every single-width fit needs)" "SURF C->A, 100 centres" \
            "-r 10 -w 1 sqdist-surf $C $AM 100 $W/sqdist_100.idx" "-r 10 -w 1 sqdist-surf $C $AM 100 $W/sqdist_100.idx"
        # the library's defaults (tl weight with no options): 100 centres, one width, lambda 1e-3
        pair "KLIEP, defaults (numpy)" "SURF C->A, 100 centres, one width" \
            "-r 5 -w 1 kliep-def-surf $C $AM $G $W/kliep_def.idx $W/kliep_def.txt" \
            "-r 5 -w 1 --compare $W/kliep_def.txt kliep-def-surf $C $AM $G $W/kliep_def.idx"
        pair "uLSIF, defaults (numpy)" "SURF C->A, 100 centres, one width, lambda 1e-3" \
            "-r 5 -w 1 ulsif-def-surf $C $AM $G $W/ulsif_def.idx $W/ulsif_def.txt" \
            "-r 5 -w 1 --compare $W/ulsif_def.txt ulsif-def-surf $C $AM $G $W/ulsif_def.idx"
        pair "KLIEP + width CV (numpy port of KLIEP.m)" "SURF C->A, 100 centres, 9 widths, 5-fold LCV" \
            "-r 3 -w 1 kliep-cv-surf $C $AM $G $W/kliep_cv.idx $W/kliep_cv.txt" \
            "-r 3 -w 1 --compare $W/kliep_cv.txt kliep-cv-surf $C $AM $G $W/kliep_cv.idx"
        pair "uLSIF + width/lambda LOO (numpy port of uLSIF.m)" "SURF C->A, 100 centres, 9 widths x 9 lambdas" \
            "-r 3 -w 1 ulsif-cv-surf $C $AM $G $W/ulsif_cv.idx $W/ulsif_cv.txt" \
            "-r 3 -w 1 --compare $W/ulsif_cv.txt ulsif-cv-surf $C $AM $G $W/ulsif_cv.idx"
        pair "domain classifier (sklearn LogisticRegression)" "SURF C->A, 1123 x 958 x 800 dense, rowsum" \
            "-r 10 -w 1 dclf-surf $C $AM $W/dclf_surf.txt" "-r 10 -w 1 --compare $W/dclf_surf.txt dclf-surf $C $AM"
        GM=$("$BENCH" -r 1 -w 0 mmd-surf "$AM" "$C" 0 0 | gamma_of)
        pair "RBF MMD + 1000 permutations (numpy)" "SURF A vs C, rowsum" \
            "-r 3 -w 1 mmd-surf $AM $C $GM 1000" "-r 1 -w 0 mmd-surf $AM $C $GM 1000"
    else
        skip "the shared data folder $DATA is absent: SURF rows"
    fi
    if [ -d "$A" ]; then
        pair "domain classifier (sklearn LogisticRegression)" "Amazon books->dvd, 2000 x 2000 x 5000 sparse" \
            "-r 3 -w 1 dclf-amazon $A/books_train.svmlight $A/dvd_train.svmlight $W/dclf.txt" \
            "-r 3 -w 1 --compare $W/dclf.txt dclf-amazon $A/books_train.svmlight $A/dvd_train.svmlight"
    fi
    if [ -d "$FMNIST" ]; then
        GF=$("$BENCH" -r 1 -w 0 kmm-fmnist "$FMNIST" 2000 1000 0 | gamma_of)
        pair "KMM (cvxopt QP)" "Fashion-MNIST 2000 src x 1000 tgt x 784" \
            "-r 3 -w 1 kmm-fmnist $FMNIST 2000 1000 $GF $W/f2000.txt" \
            "-r 1 -w 0 --compare $W/f2000.txt kmm-fmnist $FMNIST 2000 1000 $GF"
        pair "KLIEP, defaults (numpy)" "Fashion-MNIST 2000 x 1000, 100 centres, one width" \
            "-r 5 -w 1 kliep-def-fmnist $FMNIST 2000 1000 $GF $W/fkliep_def.idx $W/fkliep_def.txt" \
            "-r 5 -w 1 --compare $W/fkliep_def.txt kliep-def-fmnist $FMNIST 2000 1000 $GF $W/fkliep_def.idx"
        pair "uLSIF, defaults (numpy)" "Fashion-MNIST 2000 x 1000, 100 centres, one width, lambda 1e-3" \
            "-r 5 -w 1 ulsif-def-fmnist $FMNIST 2000 1000 $GF $W/fulsif_def.idx $W/fulsif_def.txt" \
            "-r 5 -w 1 --compare $W/fulsif_def.txt ulsif-def-fmnist $FMNIST 2000 1000 $GF $W/fulsif_def.idx"
        pair "KLIEP + width CV (numpy port of KLIEP.m)" "Fashion-MNIST 2000 x 1000, 100 centres, 9 widths, 5-fold LCV" \
            "-r 3 -w 1 kliep-cv-fmnist $FMNIST 2000 1000 $GF $W/fkliep_cv.idx $W/fkliep_cv.txt" \
            "-r 3 -w 1 --compare $W/fkliep_cv.txt kliep-cv-fmnist $FMNIST 2000 1000 $GF $W/fkliep_cv.idx"
        pair "uLSIF + width/lambda LOO (numpy port of uLSIF.m)" "Fashion-MNIST 2000 x 1000, 100 centres, 9 widths x 9 lambdas" \
            "-r 3 -w 1 ulsif-cv-fmnist $FMNIST 2000 1000 $GF $W/fulsif_cv.idx $W/fulsif_cv.txt" \
            "-r 3 -w 1 --compare $W/fulsif_cv.txt ulsif-cv-fmnist $FMNIST 2000 1000 $GF $W/fulsif_cv.idx"
        if [ "$QUICK" != 1 ]; then
            say "bench:   libtl     KMM 10000 x 2000 (libtl only: the cvxopt QP on 10000 variables is out of reach)"
            printf '{"label":"KMM, 10000 source samples (median heuristic included)","data":"Fashion-MNIST 10000 src x 2000 tgt x 784","libtl":%s}\n' \
                "$("$BENCH" -r 1 -w 0 kmm-fmnist "$FMNIST" 10000 2000 0)" >>"$JSONL"
        fi
    fi
    finish instance
}

# ---- suite "guard": when and what to transfer (the negative-transfer guard on normal, unrelated
# and permuted-label sources; rank-sources against the accuracy actually reached) and instance
# weighting per task (SURF KMM, Amazon 12 pairs), then the same on held-out data (guard_heldout:
# digits, DeCAF, Fashion-MNIST, which the guard's thresholds were not set on). libtl only: every
# figure comes from `tl ... --json`; bench/guard_report.py writes the Markdown (judging each guard
# verdict with the target labels) to bench/out/guard.md. ----
# grec GROUP TASK TL-ARGS...: one `tl` run, its JSON appended to the suite's lines (null on failure).
grec() {
    _gg=$1 _gt=$2
    shift 2
    say "bench:   $_gg $_gt"
    _go=$("$TLBIN" "$@" --json -q 2>/dev/null) || _go=null
    printf '{"group":"%s","task":"%s","out":%s}\n' "$_gg" "$_gt" "${_go:-null}" >>"$JSONL"
}
letter() { case $1 in amazon) echo A ;; caltech) echo C ;; webcam) echo W ;; dslr) echo D ;; esac; }
# gperm SPEC OUT.csv: SPEC written as CSV with its classes deranged (c -> c mod 10 + 1).
gperm() {
    "$TLBIN" convert -q "$1" "$2.tmp.csv"
    awk -F, 'BEGIN { OFS = "," } { $NF = $NF % 10 + 1; print }' "$2.tmp.csv" >"$2"
    rm -f "$2.tmp.csv"
}

# The held-out half of the guard suite: data its two thresholds (feature correspondence 0.1,
# effective sample size 0.5, both set on Office+Caltech SURF and the Amazon reviews) were not set
# on, run with the thresholds as they are. Groups (the report judges them with the same rule):
#   heldout-normal      MNIST<->USPS (primal JDA, rows L2-normalised: the published digits
#                       protocol) and DeCAF6 D<->W (primal JDA, rowsum,zscore,l2: the feature
#                       suite's DeCAF row; only D and W exist as DeCAF);
#   heldout-unrelated   another feature type cut to 256 columns against a digits target: DeCAF
#                       D/W and SURF A/C/W/D (`--columns 0-255`), and the first 256 pixels of
#                       Fashion-MNIST (its first 9.1 rows of 28);
#   heldout-unrelated-pixels  the central 16x16 crop of Fashion-MNIST against the 16x16 digits:
#                       the same kind of feature on the same grid, classes that mean other things;
#   heldout-permuted    a digits or DeCAF source with its classes deranged (as for SURF above);
#   each also -labelled (--labelled-per-class 3; the permuted ones also against their own domain);
#   heldout-{digits,decaf}-METHOD-LEARNER  instance weighting, four methods (logreg; svm on the
#                       digits only), each run's guard validating with that run's learner.
# Fashion-MNIST: the first 2000 rows of its test set, classes 0..9 shifted to 1..10 (the digits'
# labels), cut with `tl convert --columns`.
# The logreg / svm runs name --C 1, the setting their recorded figures were made with (the
# learners' default became C chosen by cross-validation on the training rows in issue 18).
guard_heldout() {
    DG="$DATA/digits_mnist_usps/MNIST_vs_USPS.mat"
    if [ ! -f "$DG" ]; then
        skip "$DG is absent: every held-out row"
        return 0
    fi
    HM="$DG:X_src,Y_src" HU="$DG:X_tar,Y_tar"
    JD="adapt --method jda --kernel primal --preprocess l2"
    JC="adapt --method jda --kernel primal --preprocess rowsum,zscore,l2"
    gperm "$HM" "$G/mnist_perm.csv"
    gperm "$HU" "$G/usps_perm.csv"
    HAVE_DC=0
    if [ -d "$DC" ]; then
        HAVE_DC=1
        for s in dslr webcam; do gperm "$DC/${s}_decaf.mat" "$G/${s}_decaf_perm.csv"; done
    else
        skip "$DC is absent: held-out DeCAF rows"
    fi
    HAVE_F=0
    if [ -d "$FMNIST" ]; then
        HAVE_F=1
        crop=$(awk 'BEGIN { for (r = 6; r < 22; r++) printf "%s%d-%d", (r > 6 ? "," : ""), 28 * r + 6, 28 * r + 21 }')
        for fc in "first 0-255" "crop $crop"; do
            # shellcheck disable=SC2086
            set -- $fc
            "$TLBIN" convert -q "$FMNIST:test" "$G/fashion_$1.tmp.csv" --columns "$2"
            head -n 2000 "$G/fashion_$1.tmp.csv" |
                awk -F, 'BEGIN { OFS = "," } { $NF = $NF + 1; print }' >"$G/fashion_$1.csv"
            rm -f "$G/fashion_$1.tmp.csv"
        done
    else
        skip "Fashion-MNIST ($FMNIST) is absent: held-out Fashion rows"
    fi
    for lab in "" "--labelled-per-class 3"; do
        x=${lab:+-labelled}
        # shellcheck disable=SC2086
        {
            grec "heldout-normal$x" "M→U" $JD --source "$HM" --target "$HU" $lab
            grec "heldout-normal$x" "U→M" $JD --source "$HU" --target "$HM" $lab
            grec "heldout-permuted$x" "M*→U" $JD --source "$G/mnist_perm.csv" --target "$HU" $lab
            grec "heldout-permuted$x" "U*→M" $JD --source "$G/usps_perm.csv" --target "$HM" $lab
            if [ -n "$lab" ]; then
                grec "heldout-permuted$x" "M*→M" $JD --source "$G/mnist_perm.csv" --target "$HM" $lab
                grec "heldout-permuted$x" "U*→U" $JD --source "$G/usps_perm.csv" --target "$HU" $lab
            fi
            for tn in "M $HM" "U $HU"; do
                t=${tn%% *} ts=${tn#* }
                if [ "$HAVE_DC" = 1 ]; then
                    for s in dslr webcam; do
                        grec "heldout-unrelated$x" "DeCAF-$(letter "$s")[0:256]→$t" $JD \
                            --source "$DC/${s}_decaf.mat" --columns 0-255 --target "$ts" $lab
                    done
                fi
                if [ -d "$S" ]; then
                    for s in $DOMS; do
                        grec "heldout-unrelated$x" "SURF-$(letter "$s")[0:256]→$t" $JD \
                            --source "$S/${s}_SURF_L10.mat" --columns 0-255 --target "$ts" $lab
                    done
                fi
                if [ "$HAVE_F" = 1 ]; then
                    grec "heldout-unrelated$x" "Fashion[0:256]→$t" $JD --source "$G/fashion_first.csv" \
                        --target "$ts" $lab
                    grec "heldout-unrelated-pixels$x" "Fashion-crop16→$t" $JD \
                        --source "$G/fashion_crop.csv" --target "$ts" $lab
                fi
            done
            if [ "$HAVE_DC" = 1 ]; then
                for st in "dslr webcam" "webcam dslr"; do
                    # shellcheck disable=SC2086
                    set -- $st
                    s=$(letter "$1") t=$(letter "$2")
                    grec "heldout-normal$x" "DeCAF-$s→DeCAF-$t" $JC --source "$DC/$1_decaf.mat" \
                        --target "$DC/$2_decaf.mat" $lab
                    grec "heldout-permuted$x" "DeCAF-$s*→DeCAF-$t" $JC --source "$G/$1_decaf_perm.csv" \
                        --target "$DC/$2_decaf.mat" $lab
                    if [ -n "$lab" ]; then
                        grec "heldout-permuted$x" "DeCAF-$s*→DeCAF-$s" $JC --source "$G/$1_decaf_perm.csv" \
                            --target "$DC/$1_decaf.mat" $lab
                    fi
                done
            fi
        }
    done
    for m in kmm kliep ulsif domain-clf; do
        for st in "M U" "U M"; do
            # shellcheck disable=SC2086
            set -- $st
            if [ "$1" = M ]; then ss=$HM ts=$HU; else ss=$HU ts=$HM; fi
            grec "heldout-digits-$m-logreg" "$1→$2" weight --method "$m" --source "$ss" --target "$ts" \
                --preprocess l2 --learner logreg --C 1
            grec "heldout-digits-$m-svm" "$1→$2" weight --method "$m" --source "$ss" --target "$ts" \
                --preprocess l2 --learner svm --C 1
        done
        if [ "$HAVE_DC" = 1 ]; then
            for st in "dslr webcam" "webcam dslr"; do
                # shellcheck disable=SC2086
                set -- $st
                grec "heldout-decaf-$m-logreg" "DeCAF-$(letter "$1")→DeCAF-$(letter "$2")" weight --method "$m" \
                    --source "$DC/$1_decaf.mat" --target "$DC/$2_decaf.mat" --preprocess rowsum,zscore --learner logreg --C 1
            done
        fi
    done
}
suite_guard() {
    start guard
    TLBIN="$BUILD/tl"
    make -s BUILD="$BUILD" "$TLBIN" >&2
    S="$DATA/office_caltech10_surf" DC="$DATA/office_caltech10_decaf" A="$DATA/amazon_review_dann_5000"
    G="$OUT/guard_data"
    mkdir -p "$G"
    DOMS="amazon caltech webcam dslr"
    JDA="adapt --method jda --kernel linear --preprocess rowsum,zscore,l2"
    if [ -d "$S" ]; then
        for s in $DOMS; do
            # a fixed derangement of the classes: c -> c mod 10 + 1
            "$TLBIN" convert -q "$S/${s}_SURF_L10.mat" "$G/$s.csv"
            awk -F, 'BEGIN { OFS = "," } { $NF = $NF % 10 + 1; print }' "$G/$s.csv" >"$G/${s}_perm.csv"
            rm -f "$G/$s.csv"
        done
        for s in $DOMS; do
            for t in $DOMS; do
                [ "$s" = "$t" ] && continue
                task="$(letter "$s")→$(letter "$t")" src="$S/${s}_SURF_L10.mat" tgt="$S/${t}_SURF_L10.mat"
                grec normal "$task" $JDA --source "$src" --target "$tgt"
                grec normal-labelled "$task" $JDA --source "$src" --target "$tgt" --labelled-per-class 3
                grec baseline-1nn "$task" baseline --source "$src" --target "$tgt" --preprocess rowsum,zscore
                for l in 1nn logreg; do
                    grec "surf-kmm-$l" "$task" weight --method kmm --source "$src" --target "$tgt" \
                        --preprocess rowsum,zscore --learner "$l" --C 1
                done
            done
        done
        if [ -d "$DC" ]; then
            for s in webcam dslr; do
                for t in $DOMS; do
                    grec decaf800 "DeCAF-$(letter "$s")[0:800]→$(letter "$t")" $JDA \
                        --source "$DC/${s}_decaf.mat" --columns 0-799 --target "$S/${t}_SURF_L10.mat"
                done
            done
        else
            skip "$DC is absent: DeCAF-800 rows"
        fi
        for s in $DOMS; do
            grec permuted-labelled "$(letter "$s")*→$(letter "$s")" $JDA --source "$G/${s}_perm.csv" \
                --target "$S/${s}_SURF_L10.mat" --labelled-per-class 3
        done
        for st in "amazon caltech" "caltech amazon" "webcam dslr" "dslr webcam"; do
            set -- $st
            task="$(letter "$1")*→$(letter "$2")"
            grec permuted "$task" $JDA --source "$G/${1}_perm.csv" --target "$S/${2}_SURF_L10.mat"
            grec permuted-labelled "$task" $JDA --source "$G/${1}_perm.csv" --target "$S/${2}_SURF_L10.mat" \
                --labelled-per-class 3
        done
        for t in $DOMS; do
            srcs=""
            for s in $DOMS; do [ "$s" != "$t" ] && srcs="$srcs $S/${s}_SURF_L10.mat"; done
            # shellcheck disable=SC2086
            grec rank "→$(letter "$t")" rank-sources --target "$S/${t}_SURF_L10.mat" $srcs --preprocess rowsum
        done
    else
        skip "the shared data folder $S is absent: every SURF row"
    fi
    if [ -d "$A" ]; then
        for s in books dvd electronics kitchen; do
            for t in books dvd electronics kitchen; do
                [ "$s" = "$t" ] && continue
                for m in kmm kliep ulsif domain-clf; do
                    grec "amazon-$m-logreg" "$s→$t" weight --method "$m" --source "$A/${s}_train.svmlight" \
                        --target "$A/${t}_train.svmlight" --target-test "$A/${t}_test.svmlight" --learner logreg --C 1
                    grec "amazon-$m-svm" "$s→$t" weight --method "$m" --source "$A/${s}_train.svmlight" \
                        --target "$A/${t}_train.svmlight" --target-test "$A/${t}_test.svmlight" --learner svm --C 1
                done
            done
        done
    else
        skip "$A is absent: Amazon rows"
    fi
    guard_heldout
    t=$(($(date +%s) - SUITE_T0))
    "$PY" bench/guard_report.py --seconds "$t" --command "$CMD_PREFIX""sh bench/run.sh guard" \
        --load "$SUITE_LOAD" --data "$DATA" "$JSONL" >"$OUT/guard.md"
    cat "$OUT/guard.md"
}

# ---- suite "feature": feature-based transfer. bench/repro_feature (libtl) writes the SURF,
# MNIST<->USPS, DeCAF and out-of-sample tables as Markdown; bench/ref_feature.py runs the numpy/scipy
# TCA/JDA beside it (each side in its own process: the libtl side first, its JSON lines read by the
# reference) and writes the speed tables; bench/user_path.sh times the 12 SURF JDA tasks as 12
# `tl adapt` processes against da_ref.py as one process (the user's path: loading, baseline and
# guard included); the Fashion-MNIST runs print JSON that ref_feature.py tabulates. Output:
# bench/out/feature.md.
suite_feature() {
    SUITE_T0=$(date +%s)
    SUITE_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
    say "bench: suite feature"
    FB="$BUILD/bench/repro_feature" FR=bench/ref_feature.py
    body="$OUT/feature.body.md"
    : >"$body"
    S="$DATA/office_caltech10_surf"
    if [ -d "$S" ]; then
        say "bench:   SURF tables (published rows, kernel forms, beyond the table)"
        printf '### Office+Caltech-10 SURF, 12 tasks\n' >>"$body"
        "$FB" --data "$DATA" surf-all >>"$body"
        if [ -d "$DATA/digits_mnist_usps" ]; then
            say "bench:   MNIST<->USPS"
            printf '\n### Other published tables\n' >>"$body"
            "$FB" --data "$DATA" digits >>"$body"
        fi
        if [ -d "$DATA/office_caltech10_decaf" ]; then
            say "bench:   DeCAF"
            "$FB" --data "$DATA" decaf >>"$body"
        fi
        say "bench:   out-of-sample"
        printf '\n### Out-of-sample\n' >>"$body"
        "$FB" --data "$DATA" oos >>"$body"
        printf '\n### Speed against numpy/scipy, same algorithm and protocol\n' >>"$body"
        for mr in "tca 3" "jda 1"; do # method, best of R runs per task
            set -- $mr
            m=$1
            say "bench:   libtl     $m, 12 SURF tasks, best of $2"
            "$FB" --data "$DATA" speed "$m" "$2" >"$OUT/feature_speed_$m.jsonl"
            say "bench:   reference $m, 12 SURF tasks, best of $2"
            "$PY" "$FR" --data "$DATA" --eig both --repeat "$2" surf "$m" --c-json "$OUT/feature_speed_$m.jsonl" \
                >>"$body" 2>>"$OUT/feature.log"
        done
        say "bench:   the user's path: 12 tl adapt processes against da_ref.py surf jda"
        make -s BUILD="$BUILD" "$BUILD/tl" >&2
        printf '\n' >>"$body"
        BUILD="$BUILD" TL_DATA="$DATA" PY="$PY" sh bench/user_path.sh 3 >>"$body"
    else
        say "bench: SKIPPED the SURF, digits, DeCAF, out-of-sample and SURF speed tables ($S is absent)"
        printf '\nSkipped: the shared data folder %s is absent (SURF, digits, DeCAF, out-of-sample, SURF speed).\n' \
            "$DATA" >>"$body"
    fi
    if [ -d "$FMNIST" ]; then
        if [ "$QUICK" = 1 ]; then n1=1600 n2=400 l1=10000 l2=2000; else n1=4000 n2=1000 l1=60000 l2=10000; fi
        say "bench:   RBF kernel TCA, Fashion-MNIST $n1 + $n2"
        g=$(FMNIST="$FMNIST" "$PY" "$FR" gamma "$n1" "$n2")
        j="$OUT/feature_rbf.jsonl"
        : >"$j"
        for form in nystrom exact; do
            FMNIST="$FMNIST" "$FB" fmnist "$n1" "$n2" "$form" tca 0 "$g" >>"$j"
        done
        say "bench:   reference exact RBF TCA, Fashion-MNIST $n1 + $n2"
        printf '\n### RBF kernel: low-rank against exact\n' >>"$body"
        FMNIST="$FMNIST" "$PY" "$FR" --eig both fmnist "$n1" "$n2" --gamma "$g" --c-json "$j" \
            >>"$body" 2>>"$OUT/feature.log"
        say "bench:   JDA Nystrom, Fashion-MNIST $l1 + $l2"
        printf '\n### Scale\n' >>"$body"
        j="$OUT/feature_scale.jsonl" tf="$OUT/feature_scale.time"
        rm -f "$tf"
        if [ -x /usr/bin/time ]; then
            FMNIST="$FMNIST" /usr/bin/time -f '%e %M' -o "$tf" "$FB" fmnist "$l1" "$l2" nystrom jda >"$j"
        else
            FMNIST="$FMNIST" "$FB" fmnist "$l1" "$l2" nystrom jda >"$j"
        fi
        say "bench:   no-transfer 1-NN, Fashion-MNIST $l1 + $l2"
        FMNIST="$FMNIST" "$FB" fmnist-baseline "$l1" "$l2" >"$OUT/feature_scale_base.jsonl"
        "$PY" "$FR" scale "$j" --time "$tf" --baseline "$OUT/feature_scale_base.jsonl" >>"$body"
    else
        printf '\nSkipped: Fashion-MNIST (%s) is absent (RBF 5000-sample and 70000-sample runs).\n' \
            "$FMNIST" >>"$body"
    fi
    t=$(($(date +%s) - SUITE_T0))
    {
        "$PY" bench/report.py --header-only --seconds "$t" --command "$CMD_PREFIX""sh bench/run.sh feature" \
            --load "$SUITE_LOAD"
        cat "$body"
    } >"$OUT/feature.md"
    rm -f "$body"
    cat "$OUT/feature.md"
}

# ---- suite "nn": the neural-network engine against PyTorch, delegated to bench/run_nn.sh (its
# own rounds, thread settings and table: bench/out/nn.md).
suite_nn() {
    say "bench: suite nn (bench/run_nn.sh)"
    BUILD="$BUILD" PY="$PY" sh bench/run_nn.sh
}

# ---- suites "hetero" and "multisource" (issue 13): heterogeneous transfer on Office+Caltech SURF
# -> DeCAF beside numpy/scipy versions of CDSPP and CDLS (bench/hetero.sh, its own table:
# bench/out/hetero.md), and several SURF sources -> the fourth (bench/multisource.sh,
# bench/out/multisource.md).
suite_hetero() {
    say "bench: suite hetero (bench/hetero.sh)"
    BUILD="$BUILD" PY="$PY" TL_DATA="$DATA" sh bench/hetero.sh
}
suite_multisource() {
    say "bench: suite multisource (bench/multisource.sh)"
    make -s BUILD="$BUILD" "$BUILD/tl" >&2
    TL_BIN="$BUILD/tl" PY="$PY" TL_DATA="$DATA" sh bench/multisource.sh
}

# ---- suites "gradual" and "multisource_amazon" (issue 13): transfer through intermediate domains
# on rotated Fashion-MNIST beside a numpy/scikit-learn version of the same walk (bench/gradual.sh,
# bench/out/gradual.md), and three Amazon sources -> the fourth (bench/multisource_amazon.sh,
# bench/out/multisource_amazon.md).
suite_gradual() {
    say "bench: suite gradual (bench/gradual.sh)"
    make -s BUILD="$BUILD" "$BUILD/tl" >&2
    TL_BIN="$BUILD/tl" PY="$PY" sh bench/gradual.sh
}
suite_multisource_amazon() {
    say "bench: suite multisource_amazon (bench/multisource_amazon.sh)"
    make -s BUILD="$BUILD" "$BUILD/tl" >&2
    TL_BIN="$BUILD/tl" PY="$PY" TL_DATA="$DATA" sh bench/multisource_amazon.sh
}

# ---- suite "relational": relation-based transfer on the published protocol, and RDN-Boost timed
# against BoostSRL (Java) on the same folds, delegated to bench/relational.sh (its own table:
# bench/out/relational.md; BoostSRL built in $BOOSTSRL, default /tmp/boostsrl, else skipped).
suite_relational() {
    say "bench: suite relational (bench/relational.sh)"
    BUILD="$BUILD" PY="$PY" TL_DATA="$DATA" sh bench/relational.sh
}

# ---- suite "deep_da": DANN training speed and memory against PyTorch, delegated to
# bench/deep_da_speed.sh (its own rounds and table: bench/out/deep_da_speed.md). The accuracy
# table of the DANN paper is bench/deep_da.sh (tens of minutes; not part of this suite).
suite_deep_da() {
    say "bench: suite deep_da (bench/deep_da_speed.sh)"
    BUILD="$BUILD" PY="$PY" sh bench/deep_da_speed.sh
}

# ---- suite "mpi" (issue 17): `mpirun -np 2` (1 thread each) against one process with 2 threads,
# the all-reduce alone, and the cost model (bench/mpi.sh, its own table: bench/out/mpi.md).
suite_mpi() {
    say "bench: suite mpi (bench/mpi.sh)"
    BUILD="$BUILD" PY="$PY" FMNIST="$FMNIST" sh bench/mpi.sh
}

# ---- suite "mpi_kernel" (issue 17, part 4): Nystrom JDA on 70 000 Fashion-MNIST images with 1, 2
# and 3 processes, each reading its block (bench/mpi_kernel.sh, its own table:
# bench/out/mpi_kernel.md).
suite_mpi_kernel() {
    say "bench: suite mpi_kernel (bench/mpi_kernel.sh)"
    BUILD="$BUILD" PY="$PY" FMNIST="$FMNIST" sh bench/mpi_kernel.sh
}

# ---- suite "mpi_da" (issue 17): each deep adaptation on Amazon books -> dvd on one process and
# on 2, the largest relative difference of the step losses (bench/mpi_da.sh, its own table:
# bench/out/mpi_da.md).
suite_mpi_da() {
    say "bench: suite mpi_da (bench/mpi_da.sh)"
    BUILD="$BUILD" TL_DATA_DIR="$DATA" sh bench/mpi_da.sh
}

# ---- suite "auto" (issue 14): tl auto's search against the same search as a numpy /
# scikit-learn loop (bench/ref_auto.py), SURF pairs, delegated to bench/auto_speed.sh (its own
# table: bench/out/auto_speed.md).
suite_auto() {
    say "bench: suite auto (bench/auto_speed.sh)"
    make -s BUILD="$BUILD" "$BUILD/tl" >&2
    BUILD="$BUILD" PY="$PY" TL_DATA="$DATA" sh bench/auto_speed.sh
}

suites=${*:-$ALL_SUITES}
for s in $suites; do
    case " $ALL_SUITES " in
    *" $s "*) ;;
    *) say "bench: unknown suite '$s' (known: $ALL_SUITES)"; exit 2 ;;
    esac
done
build
for s in $suites; do "suite_$s"; done
