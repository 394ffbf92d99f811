#!/bin/sh
# The API reference builds without a warning (issue 19): Doxygen (docs/api/Doxyfile, the headers
# read through scripts/doxfilter.awk) over include/ into a scratch folder; every public
# declaration must be documented, every grouping balanced. One case per header, and one for the
# whole run. Skipped, with the reason, when doxygen is not installed (scripts/install-deps.sh
# installs it). Prints "N passed, N failed, N skipped".
. tests/cli/harness.sh
if ! command -v doxygen >/dev/null 2>&1; then
    skip api-reference "doxygen is not installed (sh scripts/install-deps.sh docs)"
    harness_summary
    exit 0
fi
sed "s|^OUTPUT_DIRECTORY .*|OUTPUT_DIRECTORY = $TMP/api|; s|^WARN_LOGFILE .*|WARN_LOGFILE = $TMP/warnings.log|" \
    docs/api/Doxyfile | (mkdir -p "$TMP/api" && doxygen - >"$TMP/doxygen.out" 2>&1) &&
    [ -f "$TMP/api/html/index.html" ] && ok || bad "api-reference-builds" "$(tail -5 "$TMP/doxygen.out")"
for h in include/tl.h include/tl/*.h; do
    n=$(grep -c "/$(basename "$h"):" "$TMP/warnings.log" 2>/dev/null)
    [ "${n:-0}" -eq 0 ] && ok || bad "api-reference-$(basename "$h" .h) ($n warnings)" \
        "$(grep "/$(basename "$h"):" "$TMP/warnings.log" | head -5)"
done
n=$(grep -c 'warning:' "$TMP/warnings.log" 2>/dev/null)
[ "${n:-0}" -eq 0 ] && ok || bad "api-reference-no-warnings ($n)" "$(head -5 "$TMP/warnings.log")"
harness_summary
