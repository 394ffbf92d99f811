#!/bin/sh
# The guide's commands, run: every ```sh block of docs/guide/*.md (a block fenced ```sh norun is
# shown, not run - installing packages, say) runs with `set -e` in one scratch folder per page, in
# page order, with the built `tl` first on PATH. A block passes when it exits 0 and its output
# holds every "# => TEXT" line written under its commands. So a renamed option or a changed message
# fails here rather than misleading a reader. Uses $BUILD (default build). Prints "N passed, N
# failed, N skipped".
BUILD=${BUILD:-build}
. tests/cli/harness.sh
ROOT=$(pwd)
PATH="$ROOT/$BUILD:$PATH"
# the shared benchmark data, for the pages that work on it (they read $DATA, defaulting to
# ../shared/data as seen from the repository root)
DATA=${DATA:-$ROOT/../shared/data}
export PATH DATA
for page in docs/guide/*.md; do
    [ -f "$page" ] || continue
    dir="$TMP/$(basename "$page" .md)"
    mkdir -p "$dir"
    # split the page into its runnable blocks: $dir/block_N.sh
    awk -v dir="$dir" '
        /^```sh *$/ { n++; f = sprintf("%s/block_%03d.sh", dir, n); inb = 1; print "set -e" >f; next }
        /^```/ && inb { inb = 0; close(f); next }
        inb { print >f }' "$page"
    for b in "$dir"/block_*.sh; do
        [ -f "$b" ] || continue
        name="$(basename "$page"):$(basename "$b" .sh)"
        out=$(cd "$dir" && sh "$b" 2>&1); rc=$?
        if [ "$rc" -ne 0 ]; then bad "$name (exit $rc)" "$out"; continue; fi
        missing=""
        while IFS= read -r want; do
            printf '%s' "$out" | grep -qF -- "$want" || missing="$missing '$want'"
        done <<EOW
$(sed -n 's/^# => //p' "$b")
EOW
        if [ -n "$missing" ]; then bad "$name (output lacks$missing)" "$out"; else ok; fi
    done
done
harness_summary
