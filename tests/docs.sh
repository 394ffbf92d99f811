#!/bin/sh
# The guide's commands, run: every ```sh block of docs/guide/*.md (a block fenced ```sh norun is
# shown, not run - installing packages, say) runs with `set -e` in one scratch folder per page, in
# page order, with the built `tl` first on PATH; every ```c block is a whole program, compiled
# against the headers and the built libtl.so (with -DTL_STATIC_LINKING_ONLY and -Werror) and run
# in the same folder; a ```sh python block (a Python program in a heredoc) runs only when Debian's
# python3 has numpy and scikit-learn and the build is the default one (the package links
# build/libtl.a; a sanitizer build skips it, as tests/python.sh does), else it is skipped with the
# reason. A block passes when it exits 0 and its output holds every "# => TEXT" (sh)
# or "// => TEXT" (C) line written in it. So a renamed option, a changed message or a changed
# function fails here rather than misleading a reader. Uses $BUILD (default build). Prints "N passed, N
# failed, N skipped".
BUILD=${BUILD:-build}
. tests/cli/harness.sh
ROOT=$(pwd)
PATH="$ROOT/$BUILD:$PATH"
# the shared benchmark data, for the pages that work on it (they read $DATA, defaulting to
# ../shared/data as seen from the repository root)
DATA=${DATA:-$ROOT/../shared/data}
export PATH DATA ROOT
# a sanitizer build's libtl.so needs the sanitizer runtime in the program: compile the C blocks
# with the same sanitizers then
san=""
case "$BUILD" in *asan*) san="-fsanitize=address,undefined" ;; esac
py_ok=""
[ "$BUILD" = build ] && /usr/bin/python3 -c "import numpy, sklearn" 2>/dev/null && py_ok=1
for page in docs/guide/*.md; do
    [ -f "$page" ] || continue
    dir="$TMP/$(basename "$page" .md)"
    mkdir -p "$dir"
    # split the page into its runnable blocks: $dir/block_N.sh
    awk -v dir="$dir" '
        /^```sh *$/ { n++; f = sprintf("%s/block_%03d.sh", dir, n); inb = 1; print "set -e" >f; next }
        /^```c *$/ { n++; f = sprintf("%s/block_%03d.c", dir, n); inb = 1; next }
        /^```sh python *$/ { n++; f = sprintf("%s/block_%03d.py.sh", dir, n); inb = 1; print "set -e" >f; next }
        /^```/ && inb { inb = 0; close(f); next }
        inb { print >f }' "$page"
    for b in "$dir"/block_*; do
        [ -f "$b" ] || continue
        case "$b" in *.sh | *.c) ;; *) continue ;; esac
        name="$(basename "$page"):$(basename "$b")"
        if [ "${b%.py.sh}" != "$b" ] && [ -z "$py_ok" ]; then
            skip "$name" "needs Debian's python3 with numpy and scikit-learn, and the default build"
            continue
        fi
        if [ "${b%.c}" != "$b" ]; then
            out=$(cc -std=c11 -Wall -Wextra -Werror $san -D_GNU_SOURCE -DTL_STATIC_LINKING_ONLY \
                -I"$ROOT/include" "$b" -L"$ROOT/$BUILD" -ltl -Wl,-rpath,"$ROOT/$BUILD" -lm \
                -o "${b%.c}.bin" 2>&1) || { bad "$name (does not compile)" "$out"; continue; }
            out=$(cd "$dir" && "${b%.c}.bin" 2>&1); rc=$?
            marker='// => '
        else
            out=$(cd "$dir" && sh "$b" 2>&1); rc=$?
            marker='# => '
        fi
        if [ "$rc" -ne 0 ]; then bad "$name (exit $rc)" "$out"; continue; fi
        missing=""
        while IFS= read -r want; do
            printf '%s' "$out" | grep -qF -- "$want" || missing="$missing '$want'"
        done <<EOW
$(sed -n "s|^$marker||p" "$b")
EOW
        if [ -n "$missing" ]; then bad "$name (output lacks$missing)" "$out"; else ok; fi
    done
done
harness_summary
