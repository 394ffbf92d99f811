#!/bin/sh
# Installs the system packages libtl needs to build, test and run its demo, when they are missing.
# Debian/Ubuntu; runs apt-get as root (or through sudo when available).
set -e
need=""
have_hdr() { [ -e "$1" ] || find /usr/include -name "$(basename "$1")" 2>/dev/null | grep -q .; }
have_hdr /usr/include/lapacke.h || need="$need liblapacke-dev"
# OpenBLAS by its own header folder or pkg-config file: netlib's libblas-dev also ships a cblas.h
pkg-config --exists openblas 2>/dev/null || ls /usr/include/*/openblas-pthread/cblas.h >/dev/null 2>&1 ||
    need="$need libopenblas-dev"
have_hdr /usr/include/matio.h || need="$need libmatio-dev"
have_hdr /usr/include/zlib.h || need="$need zlib1g-dev"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
command -v make >/dev/null 2>&1 || need="$need make"
command -v doxygen >/dev/null 2>&1 || need="$need doxygen" # the API reference, checked by make test
command -v cc >/dev/null 2>&1 || need="$need gcc libc6-dev"
# The Python package (make python; its tests in make test): wanted by default, but only installed
# where packages can be installed - without root or sudo, make test skips its tests instead.
pyneed=""
/usr/bin/python3 -c "import numpy, scipy, sklearn" 2>/dev/null ||
    pyneed=" python3-numpy python3-scipy python3-sklearn"
[ -f "/usr/include/python3.$(/usr/bin/python3 -c 'import sys; print(sys.version_info[1])' 2>/dev/null)/Python.h" ] ||
    pyneed="$pyneed python3-dev"
# extra packages for particular targets: `install-deps.sh bench` / `install-deps.sh fuzz` /
# `install-deps.sh python` (the Python package: make python)
for extra in "$@"; do
    case "$extra" in
    bench) /usr/bin/python3 -c "import numpy, scipy, sklearn, cvxopt" 2>/dev/null ||
        need="$need python3-numpy python3-scipy python3-sklearn python3-cvxopt"
        /usr/bin/python3 -c "import torch" 2>/dev/null || need="$need python3-torch"
        /usr/bin/python3 -c "import ot" 2>/dev/null || need="$need python3-pot" ;; # skada_compare
    fuzz) command -v clang >/dev/null 2>&1 || need="$need clang" ;;
    docs) command -v doxygen >/dev/null 2>&1 || need="$need doxygen" ;;
    python) need="$need$pyneed"; pyneed="" ;;
    browser) command -v chromium >/dev/null 2>&1 || need="$need chromium" ;; # tl report's browser check
    esac
done
[ -d /usr/share/datasets/fashion-mnist ] || need="$need dataset-fashion-mnist"
# MPI (src/dist/: `mpirun -np N tl train ...`; make test runs its cases on 1 to 3 processes)
command -v mpicc >/dev/null 2>&1 || need="$need libopenmpi-dev"
command -v mpirun >/dev/null 2>&1 || need="$need openmpi-bin"
if [ -n "$pyneed" ]; then
    if [ "$(id -u)" = 0 ] || command -v sudo >/dev/null 2>&1; then need="$need$pyneed"; else
        echo "install-deps: without$pyneed the Python package's tests are skipped" >&2; fi
fi
[ -n "$need" ] || exit 0
echo "install-deps: installing$need" >&2
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: missing packages:$need (run as root: apt-get install -y$need)" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq $need >/dev/null
