#!/bin/sh
# `tl report` and --report FILE: a saved run's report rendered as a self-contained HTML page and
# SVG figures; bad input (not JSON, not a report, a folder, a missing file) fails with exit 1 and
# the file, line and column named, leaving no output behind; a usage error exits 2. Then, where
# Debian's chromium is installed (sh scripts/install-deps.sh browser), the page is opened headless:
# it must render (the DOM holds the verdict and the charts) with nothing in the browser's console,
# and the same check must catch a page that does log an error (so it cannot pass vacuously).
# Without chromium that group is one SKIP with the reason. Prints "N passed, N failed, N skipped".
TL=${TL_BIN:-build/tl}
D=tests/cli/data
. tests/cli/harness.sh

expect report-run-json 0 '"command": "adapt"' -- "$TL" adapt --method coral --source $D/animals_src.csv \
    --target $D/animals_tgt.csv --json --report "$TMP/run.json" --report-view tsne
cmp -s "$TMP/run.json" /dev/null && bad "report-json-written" "empty" || ok
expect report-html 0 "wrote $TMP/page.html and $TMP/fig.svg" -- "$TL" report "$TMP/run.json" \
    --out "$TMP/page.html" --svg "$TMP/fig.svg"
grep -q '<!DOCTYPE html>' "$TMP/page.html" && grep -q 'coral (feature)' "$TMP/page.html" &&
    grep -q '<svg' "$TMP/page.html" && ! grep -q '<script' "$TMP/page.html" && ok ||
    bad "report-page-content" "$(head -c 300 "$TMP/page.html")"
head -c 5 "$TMP/fig.svg" | grep -q '<?xml' && grep -q 'Accuracy on the scored rows' "$TMP/fig.svg" && ok ||
    bad "report-svg-content" "$(head -c 300 "$TMP/fig.svg")"
# --report FILE also saves what the page draws per class and per row, in the documented schema
CHECKER=${SCHEMA_CHECK:-$(dirname "$TL")/tests/test_report_schema}
grep -q '"confusion": {"classes": \[' "$TMP/run.json" && grep -q '"view": {"domain": \[0' "$TMP/run.json" &&
    out=$("$CHECKER" --validate docs/report.schema.json "$TMP/run.json" 2>&1) && ok ||
    bad "report-views-saved" "${out:-no confusion or view key}"
grep -q 'id="confusion"' "$TMP/page.html" && grep -q 'id="view"' "$TMP/page.html" &&
    grep -q 'id="view"' "$TMP/fig.svg" && ok || bad "report-views-drawn" "no confusion or view chart"
# --report-view tsne: the same rows by t-SNE too, saved and drawn; the per-class table; a bad kind
grep -q '"tsne_before": \[\[' "$TMP/run.json" && grep -q 'id="tsne"' "$TMP/page.html" &&
    grep -q 'id="tsne"' "$TMP/fig.svg" && grep -q 'id="per-class"' "$TMP/page.html" && ok ||
    bad "report-tsne-and-per-class" "no t-SNE view or per-class table"
# tl weight --report: each source row's weight against the domain classifier's p(target | row)
expect report-weight-run 0 '"command": "weight"' -- "$TL" weight --method kliep --learner logreg \
    --source $D/animals_src.csv --target $D/animals_tgt.csv --json --report "$TMP/w.json"
grep -q '"weights_view": {"weight": \[' "$TMP/w.json" &&
    out=$("$CHECKER" --validate docs/report.schema.json "$TMP/w.json" 2>&1) &&
    "$TL" report "$TMP/w.json" --out "$TMP/w.html" 2>/dev/null && grep -q 'id="weights"' "$TMP/w.html" && ok ||
    bad "report-weights-view" "${out:-no weights_view key or chart}"
# a heterogeneous method (3 and 6 features): each domain on its own axes, then the shared space
expect report-het-run 0 "cdspp" -- "$TL" adapt --method cdspp --source $D/het_src.csv --target \
    $D/het_tgt.csv --labelled-per-class 2 --dim 2 --report "$TMP/het.json" --json
grep -q '"before_separate": true' "$TMP/het.json" &&
    out=$("$CHECKER" --validate docs/report.schema.json "$TMP/het.json" 2>&1) &&
    "$TL" report "$TMP/het.json" --out "$TMP/het.html" 2>/dev/null &&
    grep -q 'each domain on its own axes' "$TMP/het.html" && grep -q 'after the mapping (PCA' "$TMP/het.html" &&
    ok || bad "report-het-view" "${out:-no separate view}"
# several sources: each source's result and the weight the combination gave it
expect report-ms-run 0 "" -- "$TL" adapt --method coral --source $D/animals_src.csv --source \
    $D/animals_src.csv --target $D/animals_tgt.csv --combine weighted --report "$TMP/ms.html" -q
grep -q '<table id="sources">' "$TMP/ms.html" && grep -q 'id="source-weights"' "$TMP/ms.html" &&
    grep -q '<td>0.5</td><td>yes</td>' "$TMP/ms.html" && ok || bad "report-ms-weights" "no sources table or weights chart"
expect report-view-bad 2 "--report-view: 'umap' is not one of pca, tsne" -- "$TL" adapt --method coral \
    --source $D/animals_src.csv --target $D/animals_tgt.csv --report "$TMP/no6.json" --report-view umap
# an unlabelled target: the page says how many rows' classes the transfer changed, as the text does
expect report-unlabelled-text 0 "against no transfer    the transfer changed the class of" -- "$TL" adapt \
    --method coral --source $D/animals_src.csv --target $D/animals_tgt_nolabels.csv:label=none \
    --report "$TMP/unl.html"
grep -q 'Not scored' "$TMP/unl.html" && grep -q 'the transfer changed the class of' "$TMP/unl.html" && ok ||
    bad "report-unlabelled-page" "$(grep -o 'Not scored[^<]*' "$TMP/unl.html")"
# the accuracy of the run is the number on the page
acc=$(sed -n 's/.*"accuracy": \([0-9.]*\),.*/\1/p' "$TMP/run.json" | head -n 1)
pct=$(awk -v a="$acc" 'BEGIN { printf "%.2f %%", 100 * a }')
grep -q ">$pct</text>" "$TMP/page.html" && ok || bad "report-page-shows-accuracy" "$pct not on the page"
expect report-stdout 0 '<!DOCTYPE html>' -- "$TL" report "$TMP/run.json"
expect report-json 0 '"output": "'"$TMP"'/page2.html", "svg": null' -- "$TL" report "$TMP/run.json" --out "$TMP/page2.html" --json
expect report-json-stdout 2 "give the page a file" -- "$TL" report "$TMP/run.json" --json
# --report FILE.html / FILE.svg render directly; weight and tradaboost share the option
expect report-direct-html 0 "" -- "$TL" weight --method kmm --learner logreg --source $D/animals_src.csv \
    --target $D/animals_tgt.csv --report "$TMP/w.html" -q
grep -q 'kmm (instance)' "$TMP/w.html" && ok || bad "report-direct-html-content" "$(head -c 300 "$TMP/w.html")"
expect report-direct-svg 0 "" -- "$TL" tradaboost --source $D/animals_src.csv --target $D/animals_tgt.csv \
    --labelled 2 --report "$TMP/t.svg" -q
grep -q '<svg xmlns' "$TMP/t.svg" && ok || bad "report-direct-svg-content" "$(head -c 300 "$TMP/t.svg")"

# bad input: exit 1, the place named, no output left behind
printf '{"method": "x",\n "accuracy": }\n' >"$TMP/bad.json"
expect report-bad-json 1 "bad.json: JSON line 2, column 14: expected a value" -- "$TL" report "$TMP/bad.json" --out "$TMP/no1.html"
printf '{"command": "rank-sources", "ranking": []}' >"$TMP/rank.json"
expect report-not-a-report 1 'not a transfer report: no key "accuracy"' -- "$TL" report "$TMP/rank.json" --out "$TMP/no2.html"
expect report-missing 1 "nope.json" -- "$TL" report "$TMP/nope.json" --out "$TMP/no3.html"
mkdir "$TMP/adir"
expect report-dir 1 "adir: is a directory" -- "$TL" report "$TMP/adir" --out "$TMP/no4.html"
expect report-out-dir 1 "--out" -- "$TL" report "$TMP/run.json" --out "$TMP/adir"
# the page is written only when the figure can be too: both or neither
expect report-svg-unwritable 1 "--svg" -- "$TL" report "$TMP/run.json" --out "$TMP/no5.html" --svg "$TMP/adir/x/y.svg"
rmdir "$TMP/adir"
expect report-no-arg 2 "expects one saved report" -- "$TL" report
expect report-bad-option 2 "unknown option --nope" -- "$TL" report "$TMP/run.json" --nope
expect report-bad-report-path 1 "--report" -- "$TL" adapt --method coral --source $D/animals_src.csv \
    --target $D/animals_tgt.csv --report "$TMP/none/r.json"
left=$(ls "$TMP" | grep -E '^no[0-9]|^r\.json|tmp' || true)
[ -z "$left" ] && ok || bad "report-failures-leave-nothing" "$left"

# the headless browser check
CHROME=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROME" ]; then
    skip "report-browser" "chromium not installed (sh scripts/install-deps.sh browser installs Debian's)"
else
    # console messages go to stderr as "...:CONSOLE(line)] message"; a page's errors, failed
    # loads and refused content (the page's Content-Security-Policy) show there too
    browse() { # FILE -> $TMP/dom.html, $TMP/console.txt
        "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions \
            --enable-logging=stderr --v=0 --user-data-dir="$TMP/profile" --dump-dom \
            "file://$1" >"$TMP/dom.html" 2>"$TMP/stderr.txt"
        grep -E 'CONSOLE|Refused|ERR_FILE_NOT_FOUND|Uncaught' "$TMP/stderr.txt" >"$TMP/console.txt"
    }
    cp "$TMP/page.html" "$TMP/ok.html"
    browse "$TMP/ok.html"
    if grep -q 'id="verdict"' "$TMP/dom.html" && grep -q '<svg' "$TMP/dom.html" &&
        grep -q 'id="view"' "$TMP/dom.html" && grep -q 'id="confusion"' "$TMP/dom.html" &&
        grep -q 'id="tsne"' "$TMP/dom.html" && grep -q 'id="per-class"' "$TMP/dom.html"; then ok; else
        bad "report-browser-renders" "$(tail -n 5 "$TMP/stderr.txt")"; fi
    [ -s "$TMP/console.txt" ] && bad "report-browser-console-clean" "$(cat "$TMP/console.txt")" || ok
    browse "$TMP/ms.html" # several sources: the table and the weights chart
    grep -q 'id="source-weights"' "$TMP/dom.html" && [ ! -s "$TMP/console.txt" ] && ok ||
        bad "report-browser-sources" "$(cat "$TMP/console.txt") $(tail -n 3 "$TMP/stderr.txt")"
    browse "$TMP/w.html" # the weighting's page: its weights chart
    grep -q 'id="weights"' "$TMP/dom.html" && [ ! -s "$TMP/console.txt" ] && ok ||
        bad "report-browser-weights" "$(cat "$TMP/console.txt") $(tail -n 3 "$TMP/stderr.txt")"
    # the control: the same page with a script that logs an error (refused by the page's policy,
    # which the console reports) and a missing image must be caught
    sed 's|</body>|<script>console.error("planted")</script><img src="missing.png"></body>|' \
        "$TMP/page.html" >"$TMP/broken.html"
    browse "$TMP/broken.html"
    [ -s "$TMP/console.txt" ] && ok || bad "report-browser-check-catches-errors" "nothing logged for a broken page"
fi
harness_summary
