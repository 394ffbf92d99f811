#!/bin/sh
# The libtl Python package's tests (tests/python/test_libtl.py), run by tests/run_all.sh: builds
# the extension (`make python`) against $BUILD/libtl.a and runs the tests with Debian's
# /usr/bin/python3. Skips, with a SKIP line saying why, where that python3, numpy, scipy,
# scikit-learn or the CPython headers are missing (scripts/install-deps.sh python installs them),
# and under the sanitizer build (an instrumented library cannot load into an uninstrumented
# interpreter).
BUILD=${BUILD:-build}
PY=${PYTHON:-/usr/bin/python3}
skip() { echo "SKIP python: $1"; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
[ "$BUILD" = build ] || skip "not run on the $BUILD build (sanitizers)"
[ -x "$PY" ] || skip "$PY not found (apt-get install python3)"
"$PY" -c "import numpy, scipy, sklearn" 2>/dev/null ||
    skip "$PY lacks numpy, scipy or scikit-learn (apt-get install python3-numpy python3-scipy python3-sklearn)"
inc=$("$PY" -c "import sysconfig; print(sysconfig.get_paths()['include'])")
[ -f "$inc/Python.h" ] || skip "no $inc/Python.h (apt-get install python3-dev)"
if ! out=$(make --no-print-directory python BUILD="$BUILD" PYTHON="$PY" 2>&1); then
    printf '%s\n' "$out" | tail -n 20
    echo "FAIL python: make python failed"; echo "0 passed, 1 failed"; exit 1
fi
PYTHONPATH=python${PYTHONPATH:+:$PYTHONPATH} TL_BIN=${TL_BIN:-$BUILD/tl} "$PY" tests/python/test_libtl.py
