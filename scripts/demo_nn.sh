#!/bin/sh
# Model-based transfer on Fashion-MNIST (Debian's dataset-fashion-mnist), the neural half of
# `make demo`. Source task: classes 0-4 (T-shirt, trouser, pullover, dress, coat), all 30 000
# training images. Target task: classes 5-9 (sandal, shirt, sneaker, bag, ankle boot) with only K
# labelled images per class, K = 1, 5, 10, 50, 100; every result is scored on all 5 000 target
# test images. Four ways to use the K * 5 labels (200 SGD steps, batch min(5K, 32), a cosine
# schedule, random 2-pixel shifts; learning rate 0.02 for scratch, 0.005 for the transfer methods),
# each run on the same draws of the K images - DEMO_SEEDS for K <= 10, where a single draw decides
# a lot, DEMO_SEEDS_LARGE for K = 50, 100 - so that differences are read draw by draw (paired,
# with a 95 % confidence interval):
#   scratch   a CNN trained from random weights (3 conv blocks, flatten, dense)
#   probe     the pre-trained CNN's conv blocks frozen, a new linear head on the 3136 features of
#             its last conv block (--head-at relu3)
#   top       the same, with the last conv block trained too
#   full      everything trained, L2-SP (alpha 0.01) pulling toward the pre-trained weights
# The source network is pre-trained with rotation labels (tl train --rotation-labels: every image
# also turned 90/180/270 degrees, label = class x 4 + turns; Lee, Hwang & Shin, ICML 2020) and is
# wider (32/64/64 channels). With plain labels its last conv block is specialised to the garment
# classes: nearest-centroid on those features reached 55.7 / 79.0 / 80.6 % at K = 1/5/10 on the
# validation split, 63.4 / 85.2 / 88.3 % with rotation labels. The new head starts from weight
# imprinting (--head-init imprint: each class's row is its images' mean normalised feature, Qi et
# al. 2018).
#
# How the recipe was chosen - on a validation split, never on the test images:
# scripts/demo_nn_valsplit.py holds 1000 training images of each target class out, and this
# script runs on it unchanged (FASHION_MNIST=<that folder>). Means over 4 draws there, K = 1/5/10:
#   scratch, this net, lr 0.02          57.1 / 83.2 / 87.8  (with flips: 50.0 / - / 86.5; with
#                                                           only 2 conv blocks: 50.8 / 81.6 / 86.2)
#   probe, rotation-label wide net,     61.8 / 88.2 / 90.6  (+5.0 over scratch at K = 5 with every
#     cut at relu3, lr 0.005                                 draw >= +4.0; +2.9 at K = 10)
#   the previous recipe: small net,     62.4 / 85.7 / 90.1  (+2.5 / +2.3 at K = 5 / 10)
#     plain labels, full, cut at maxpool2, lr 0.02
#   rotation labels, small net, full    60.2 / 87.2 / 90.5
#     cut at relu3, lr 0.005            (at lr 0.02 a relu3 cut loses a draw by 22 points at K = 1)
# Not better: a wider net with plain labels, 40 labels (turns x mirror), cuts at maxpool1, two
# layers' features concatenated, nearest-centroid ("SimpleShot") on the plain net's features.
# Flips hurt every method (Fashion-MNIST's sandals, sneakers and boots face one way). The top and
# full methods use the probe's cut and learning rate without a search of their own. Pre-training
# costs 130 s here (3 epochs over 120 000 turned images) against 28 s for the plain small net.
# Then part 2, transferability: DEMO_TAU_MODELS source models (other class subsets, architectures
# and training lengths) are each scored with LogME, LEEP, NCE and H-score on the target's labelled
# images and fine-tuned on them; the Kendall tau between each score and the fine-tuned accuracy
# says how well the score ranks the sources (DEMO_NN_TAU=0 skips part 2).
#
# The pre-trained model is cached in $OUT (build/demo_nn) and reused while the recipe is unchanged.
# Writes $OUT/results.csv (mean per method and K), $OUT/results_raw.csv (every draw),
# $OUT/accuracy_vs_k.svg and $OUT/transferability.csv.
# Environment: BUILD (default build), TL, FASHION_MNIST, DEMO_NN_OUT, DEMO_SEEDS (default
# "1 2 3 4 5 6 7 8"), DEMO_SEEDS_LARGE (default "1 2"), DEMO_STEPS (fine-tuning steps, default 200),
# DEMO_LR (transfer methods, default 0.005), DEMO_SCRATCH_LR (default 0.02), DEMO_AUGMENT
# (default crop:2), DEMO_THREADS (default 2), DEMO_NN_TAU (default 1).
# Sizes are chosen for a 2-core machine: about 7 minutes in all (pre-training 130 s).
#
# DEMO_QUICK=1 (what `make demo` runs; `make demo-full` runs the study above) keeps every part and
# shrinks each: the source net pre-trained for 1 epoch on 3 000 images per class (x 4 turns)
# instead of 3 epochs on 6 000, K = 1 and 10 with seeds 1 2 3, the methods scratch, probe and
# full (same recipes and 200 steps, so the comparison stays fair), and 4 source models in part 2
# fine-tuned once each - about a minute and a half in all on a quiet 2-core machine.
# Its files go to build/demo_nn_quick, so the two source models are cached side by side.
# More environment: DEMO_KS (K values, default "1 5 10 50 100"), DEMO_METHODS (transfer methods
# beside scratch, default "probe top full"), DEMO_PRE_PER_CLASS, DEMO_PRE_EPOCHS (pre-training:
# images per source class, default all; epochs, default 3), DEMO_TAU_SOURCES (part 2's source
# models by name, default all seven).
set -eu
BUILD=${BUILD:-build}
if [ "${DEMO_QUICK:-0}" = 1 ]; then
    : "${DEMO_NN_OUT:=$BUILD/demo_nn_quick}" "${DEMO_SEEDS:=1 2 3}" "${DEMO_SEEDS_LARGE:=1}"
    : "${DEMO_KS:=1 10}" "${DEMO_METHODS:=probe full}" "${DEMO_PRE_PER_CLASS:=3000}"
    : "${DEMO_PRE_EPOCHS:=1}" "${DEMO_TAU_SOURCES:=main short pair01 mlp}"
fi
TL=${TL:-$BUILD/tl}
FM=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
OUT=${DEMO_NN_OUT:-$BUILD/demo_nn}
SEEDS=${DEMO_SEEDS:-1 2 3 4 5 6 7 8}
SEEDS_LARGE=${DEMO_SEEDS_LARGE:-1 2}
STEPS=${DEMO_STEPS:-200}
LR=${DEMO_LR:-0.005}
SCRATCH_LR=${DEMO_SCRATCH_LR:-0.02}
AUG=${DEMO_AUGMENT:-crop:2}
TH=${DEMO_THREADS:-2}
KS=${DEMO_KS:-1 5 10 50 100}
METHODS=${DEMO_METHODS:-probe top full}
PRE_PER=${DEMO_PRE_PER_CLASS:-}
PRE_EPOCHS=${DEMO_PRE_EPOCHS:-3}
TAU_SOURCES=${DEMO_TAU_SOURCES:-main short narrow pair01 pair23 trio024 mlp}
mkdir -p "$OUT"
[ -d "$FM" ] || { echo "demo_nn: $FM not found (apt-get install dataset-fashion-mnist)" >&2; exit 1; }
[ -x "$TL" ] || { echo "demo_nn: $TL not built (make)" >&2; exit 1; }

ARCH="conv:32:3,bn,relu,pool:2,conv:64:3,bn,relu,pool:2,conv:64:3,bn,relu,gap,dense:20"
PRE="--epochs $PRE_EPOCHS --batch 64 --lr 0.05 --schedule cosine --augment crop:2 --seed 7 --rotation-labels"
# the other source models of part 2 (transferability): the earlier small network, plain labels
TAU_ARCH="conv:16:3,bn,relu,pool:2,conv:32:3,bn,relu,pool:2,conv:32:3,bn,relu,gap,dense:5"
# the target network of the transfer methods: ARCH up to CUT, flatten, a new dense head
CUT=relu3
HEAD="--new-head auto --head-at $CUT --head-init imprint"
SCRATCH_ARCH="conv:16:3,bn,relu,pool:2,conv:32:3,bn,relu,pool:2,conv:32:3,bn,relu,pool:2,flatten,dense:5"
FT="--schedule cosine --augment $AUG"
[ -n "$PRE_PER" ] && PRE="$PRE --per-class $PRE_PER"
SRC=$OUT/source.tlm
T0=$(date +%s)

num() { sed -n "s/.*\"$1\": \([-0-9.e+]*\).*/\1/p"; }
# note TEXT: what is running now, on stderr - rewritten in place on a terminal, a plain line when
# stderr is a pipe or a file (so `make demo | cat` shows a line every few seconds); clear_note
# erases the terminal's before a result line
if [ -t 2 ]; then
    note() { printf '\r  %s\033[K' "$*" >&2; }
    clear_note() { printf '\r\033[K' >&2; }
else
    note() { printf '  %s\n' "$*" >&2; }
    clear_note() { :; }
fi

if [ -n "$PRE_PER" ]; then
    echo "== pre-training on the source task (classes 0-4, $PRE_PER images per class, each turned 4 ways, $PRE_EPOCHS epoch(s))"
else
    echo "== pre-training on the source task (classes 0-4, 30 000 images)"
fi
stamp="$ARCH $PRE"
if [ -f "$SRC" ] && [ "$(cat "$SRC.recipe" 2>/dev/null)" = "$stamp" ]; then
    echo "cached: $SRC"
    j=$(cat "$OUT/source.json")
else
    # without -q: tl train reports its progress on stderr (a plain line every few seconds when
    # stderr is not a terminal)
    # shellcheck disable=SC2086
    j=$($TL train --arch "$ARCH" --data "$FM:train" --classes 0-4 $PRE --threads "$TH" \
        --save "$SRC" --test "$FM:test" --json)
    echo "$j" >"$OUT/source.json"
    echo "$stamp" >"$SRC.recipe"
fi
printf 'source model: %s\n  test accuracy on classes 0-4: %.2f %%, training %.1f s (%.0f images/s)\n' \
    "$SRC" "$(echo "$j" | num accuracy | awk '{print 100*$1}')" "$(echo "$j" | num seconds)" \
    "$(echo "$j" | num samples_per_s)"

# run METHOD K SEED -> "accuracy seconds"
run() {
    m=$1 K=$2 s=$3
    n=$((5 * K)); b=$n; [ "$b" -gt 32 ] && b=32
    spe=$(((n + b - 1) / b)); ep=$(((STEPS + spe - 1) / spe))
    case $m in
    scratch) set -- train --arch "$SCRATCH_ARCH" --lr "$SCRATCH_LR" ;;
    # the scratch column is its own tuned recipe, so each fine-tuning skips its built-in scratch
    # baseline (the same network and settings from random weights) with --no-baseline
    probe) set -- finetune --from "$SRC" $HEAD --freeze-until -2 --lr "$LR" --no-baseline ;;
    top) set -- finetune --from "$SRC" $HEAD --freeze-until maxpool2 --lr "$LR" --no-baseline ;;
    full) set -- finetune --from "$SRC" $HEAD --reg l2sp=0.01 --lr "$LR" --no-baseline ;;
    esac
    # shellcheck disable=SC2086
    r=$($TL "$@" --data "$FM:train" --classes 5-9 --per-class "$K" --seed "$s" --epochs "$ep" \
        --batch "$b" $FT --threads "$TH" --save "$OUT/target.tlm" --test "$FM:test" --json -q)
    echo "$(echo "$r" | num accuracy) $(echo "$r" | num seconds)"
}

echo
echo "== target task: classes 5-9, K labelled images per class, $STEPS SGD steps;"
KMAX=$(echo "$KS" | tr ' ' '\n' | sort -n | tail -n 1)
if [ "$KMAX" -gt 10 ]; then
    echo "   mean +- std over seeds $SEEDS (K <= 10) and $SEEDS_LARGE (K >= 50); time = training seconds"
else
    echo "   mean +- std over seeds $SEEDS; time = training seconds"
fi
printf '%-5s' "K"
for m in scratch $METHODS; do printf ' %22s' "$m: acc % (s)"; done
echo
CSV=$OUT/results.csv
RAW=$OUT/results_raw.csv
echo "k,method,accuracy_mean,accuracy_std,seconds_mean,seeds" >"$CSV"
echo "k,method,seed,accuracy,seconds" >"$RAW"
for K in $KS; do
    cells=""
    for m in scratch $METHODS; do
        all=""
        ss=$SEEDS; [ "$K" -gt 10 ] && ss=$SEEDS_LARGE
        for s in $ss; do
            note "K = $K, $m, seed $s ..."
            r=$(run $m $K $s)
            all="$all $r"
            echo "$K,$m,$s,$(echo "$r" | tr ' ' ,)" >>"$RAW"
        done
        line=$(echo "$all" | awk '{n = 0; sa = 0; sq = 0; st = 0
            for (i = 1; i <= NF; i += 2) { n++; sa += $i; sq += $i * $i; st += $(i + 1) }
            m = sa / n; v = sq / n - m * m; if (v < 0) v = 0
            printf "%.4f %.4f %.3f %d", m, sqrt(v), st / n, n}')
        set -- $line
        echo "$K,$m,$1,$2,$3,$4" >>"$CSV"
        cells="$cells$(printf ' %22s' "$(awk -v a="$1" -v d="$2" -v t="$3" 'BEGIN {printf "%.1f +- %.1f (%.1f)", 100 * a, 100 * d, t}')")"
    done
    clear_note
    printf '%-5s%s\n' "$K" "$cells"
done

echo
# transfer - scratch on the same draws of the K images: the mean of the per-draw differences with
# its 95 % confidence interval (Student t on the paired differences), and how many draws transfer
# won; "clear" when the whole interval is above 0
PAIRED_KS=$(for K in $KS; do if [ "$K" -le 10 ]; then printf '%s ' "$K"; fi; done)
awk -F, -v kl="$PAIRED_KS" -v ml="$METHODS" 'NR > 1 {a[$1, $2, $3] = $4; if (!(($1, $3) in seen)) { seen[$1, $3] = 1; ns[$1]++; sd[$1, ns[$1]] = $3 } }
END {
    split("12.706 4.303 3.182 2.776 2.571 2.447 2.365 2.306 2.262 2.228 2.201 2.179 2.160 2.145 2.131 2.120 2.110 2.101 2.093 2.086", tq, " ")
    nk = split(kl, ks, " "); nm = split(ml, ms, " ")
    for (i = 1; i <= nk; i++) {
        k = ks[i]
        printf "K = %-3s transfer - scratch, paired over %d draws (mean [95%% CI], draws won):", k, ns[k]
        for (j = 1; j <= nm; j++) {
            m = ms[j]; n = 0; s = 0; q = 0; won = 0
            for (r = 1; r <= ns[k]; r++) {
                d = 100 * (a[k, m, sd[k, r]] - a[k, "scratch", sd[k, r]])
                n++; s += d; q += d * d; if (d > 0) won++
            }
            mu = s / n; v = n > 1 ? (q - n * mu * mu) / (n - 1) : 0; if (v < 0) v = 0
            t = n > 1 ? (n - 1 <= 20 ? tq[n - 1] : 1.96) : 0
            h = t * sqrt(v / n)
            printf " %s %+.1f [%+.1f, %+.1f] %d/%d%s%s", m, mu, mu - h, mu + h, won, n,
                (mu - h > 0 ? " clear" : ""), (j < nm ? "," : "\n")
        }
    }
}' "$RAW"
awk -F, -v kl="$KS" -v ml="$METHODS" -v km="$KMAX" 'NR > 1 {acc[$2, $1] = $3; t[$2, $1] = $5}
END {
    nk = split(kl, ks, " ")
    goal = acc["scratch", km]
    printf "scratch at K = %s: %.1f %% in %.1f s\n", km, 100 * goal, t["scratch", km]
    nm = split(ml, ms, " ")
    for (j = 1; j <= nm; j++) {
        m = ms[j]; first = "never"
        for (i = 1; i <= nk; i++) if (acc[m, ks[i]] >= goal) { first = "K = " ks[i] " (" 5 * ks[i] " labels, " t[m, ks[i]] " s)"; break }
        printf "  %-5s reaches it at %s; at K = %s: %.1f %% in %.1f s\n", m, first, km, 100 * acc[m, km], t[m, km]
    }
}' "$CSV"

# ---- the plot: accuracy against K (log scale), one line per method ----
SVG=$OUT/accuracy_vs_k.svg
awk -F, -v kl="$KS" -v ml="scratch $METHODS" -v km="$KMAX" 'NR > 1 {acc[$2, $1] = $3; sd[$2, $1] = $4}
END {
    W = 640; H = 420; L = 70; R = 150; T = 40; B = 60
    nk = split(kl, ks, " "); nm = split(ml, ms, " "); lk = km > 1 ? log(km) : 1
    split("#d62728 #1f77b4 #2ca02c #9467bd", cs, " ")
    lo = 1; hi = 0
    for (j = 1; j <= nm; j++) for (i = 1; i <= nk; i++) { a = acc[ms[j], ks[i]]; if (a < lo) lo = a; if (a > hi) hi = a }
    lo = int(lo * 10) / 10; hi = int(hi * 10 + 0.999) / 10; if (hi > 1) hi = 1
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H
    printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
    printf "<text x=\"%d\" y=\"22\" font-size=\"15\">Fashion-MNIST 0-4 -> 5-9: target test accuracy vs labels per class</text>\n", L
    pw = W - L - R; ph = H - T - B
    for (v = lo; v <= hi + 1e-9; v += 0.05) {
        y = T + ph * (1 - (v - lo) / (hi - lo))
        printf "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", L, L + pw, y, y
        printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f%%</text>\n", L - 6, y + 4, 100 * v
    }
    for (i = 1; i <= nk; i++) {
        x = L + pw * log(ks[i]) / lk
        printf "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>\n", x, x, T, T + ph
        printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", x, T + ph + 18, ks[i]
    }
    printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">K labelled images per class (log scale)</text>\n", L + pw / 2, H - 15
    printf "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"black\"/>\n", L, T, pw, ph
    for (j = 1; j <= nm; j++) {
        pts = ""
        for (i = 1; i <= nk; i++) {
            x = L + pw * log(ks[i]) / lk; y = T + ph * (1 - (acc[ms[j], ks[i]] - lo) / (hi - lo))
            pts = pts sprintf("%.1f,%.1f ", x, y)
            printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n", x, y, cs[j]
        }
        printf "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", pts, cs[j]
        printf "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>\n", W - R + 15, W - R + 40, T + 20 * j, T + 20 * j, cs[j]
        printf "<text x=\"%d\" y=\"%d\">%s</text>\n", W - R + 46, T + 20 * j + 4, ms[j]
    }
    print "</svg>"
}' "$CSV" >"$SVG"
echo "wrote $CSV and $SVG"

# ---- part 2: transferability scores against fine-tuned accuracy ----
if [ "${DEMO_NN_TAU:-1}" = 1 ]; then
    echo
    echo "== transferability: do LogME, LEEP, NCE and H-score rank source models by fine-tuned accuracy?"
    TK=10
    TCSV=$OUT/transferability.csv
    echo "source,classes,arch,epochs,logme,leep,nce,hscore,finetuned_accuracy" >"$TCSV"
    NARROW="conv:8:3,bn,relu,pool:2,conv:16:3,bn,relu,pool:2,conv:16:3,bn,relu,gap,dense:5"
    # name | classes | arch | epochs | images per class (source); the first is part 1's model
    cat >"$OUT/sources.txt" <<EOF
main|0-4|$ARCH|$PRE_EPOCHS|${PRE_PER:-6000}
short|0-4|$TAU_ARCH|1|1000
narrow|0-4|$NARROW|1|2000
pair01|0-1|$TAU_ARCH|1|2000
pair23|2-3|$TAU_ARCH|1|2000
trio024|0,2,4|$TAU_ARCH|1|2000
mlp|0-4|flatten,dense:64,relu,dense:32,relu,dense:5|2|2000
EOF
    printf '%-10s %-6s %9s %9s %9s %9s %10s\n' source classes LogME LEEP NCE H-score "ft acc %"
    while IFS='|' read -r name cls arch ep per; do
        case " $TAU_SOURCES " in *" $name "*) ;; *) continue ;; esac
        model=$OUT/src_$name.tlm
        if [ "$name" = main ]; then
            model=$SRC
        elif ! [ -f "$model" ] || [ "$(cat "$model.recipe" 2>/dev/null)" != "$cls $arch $ep $per" ]; then
            nk=$(echo "$arch" | sed 's/.*dense:\([0-9]*\)$/\1/')
            k=$(echo "$cls" | awk -F'[-,]' '{ if (index($0, "-")) print $2 - $1 + 1; else print NF }')
            a2=$(echo "$arch" | sed "s/dense:$nk\$/dense:$k/")
            note "training source model $name ..."
            $TL train --arch "$a2" --data "$FM:train" --classes "$cls" --per-class "$per" --seed 3 \
                --epochs "$ep" --lr 0.05 --schedule cosine --augment crop:2,flip --threads "$TH" \
                --save "$model" -q >/dev/null
            echo "$cls $arch $ep $per" >"$model.recipe"
        fi
        note "scoring and fine-tuning source model $name ..."
        sc=$($TL transferability --model "$model" --data "$FM:train" --classes 5-9 --per-class $TK \
            --seed 1 --threads "$TH" --json -q)
        accs=""
        for s in $SEEDS_LARGE; do
            r=$($TL finetune --from "$model" --new-head auto --reg l2sp=0.01 --data "$FM:train" \
                --classes 5-9 --per-class $TK --seed "$s" --epochs $((STEPS / 2)) --batch 32 $FT --lr 0.02 \
                --threads "$TH" --save "$OUT/target.tlm" --test "$FM:test" --no-baseline --json -q)
            accs="$accs $(echo "$r" | num accuracy)"
        done
        acc=$(echo "$accs" | awk '{s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.4f", s / NF}')
        lm=$(echo "$sc" | num logme); le=$(echo "$sc" | num leep); nc=$(echo "$sc" | num nce); hs=$(echo "$sc" | num hscore)
        printf '%s,"%s","%s",%s,%s,%s,%s,%s,%s\n' "$name" "$cls" "$arch" "$ep" "$lm" "$le" "$nc" "$hs" "$acc" >>"$TCSV"
        clear_note
        printf '%-10s %-6s %9.4f %9.4f %9.4f %9.3f %10.2f\n' "$name" "$cls" "$lm" "$le" "$nc" "$hs" \
            "$(echo "$acc" | awk '{print 100 * $1}')"
    done <"$OUT/sources.txt"
    # Kendall tau-b of each score column against the accuracy (last column)
    awk -F'"' 'NR > 1 {print $NF}' "$TCSV" | sed 's/^,//' | awk -F, '
    {n++; for (c = 1; c <= 6; c++) v[n, c] = $c}
    END {
        split("LogME LEEP NCE H-score", nm, " ")
        for (c = 2; c <= 5; c++) {
            cc = 0; dd = 0; ta = 0; tb = 0
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) {
                a = v[i, c] - v[j, c]; b = v[i, 6] - v[j, 6]
                if (a == 0 && b == 0) continue
                if (a == 0) ta++; else if (b == 0) tb++; else if (a * b > 0) cc++; else dd++
            }
            den = sqrt((cc + dd + ta) * (cc + dd + tb))
            printf "Kendall tau (%s vs fine-tuned accuracy, %d sources): %.3f\n", nm[c - 1], n, den ? (cc - dd) / den : 0
        }
    }'
    echo "wrote $TCSV"
fi
echo
echo "demo_nn: $(($(date +%s) - T0)) s in all"
