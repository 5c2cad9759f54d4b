#!/bin/sh
# `pip install bindings/python` into a fresh virtual environment of the
# given interpreter, then use the installed package from outside the tree.
#   pip_install.sh PYTHON WORKDIR      (run from bindings/python)
# Exit 77 (ctest: skipped), after printing "skipped: <reason>", when the
# venv module is missing or PyPI (for the build backend, scikit-build-core)
# is out of reach: this test never passes without having built the wheel.
set -u
PYTHON=$1
WORK=$2
rm -rf "$WORK"
mkdir -p "$WORK"
skip() { echo "skipped: $*"; exit 77; }

"$PYTHON" -m venv "$WORK/venv" >"$WORK/venv.log" 2>&1 ||
  skip "cannot make a virtual environment with $PYTHON (Debian: apt-get install python3-venv): $(tail -1 "$WORK/venv.log")"
PIP="$WORK/venv/bin/python -m pip"
$PIP --version >/dev/null 2>&1 || skip "no pip in the virtual environment (Debian: apt-get install python3-pip python3-venv)"

# Can the build backend be had? (The only thing this test fetches.)
if ! timeout 120 $PIP download --no-deps --disable-pip-version-check -q -d "$WORK/probe" \
     "scikit-build-core>=0.8" >"$WORK/probe.log" 2>&1; then
  skip "PyPI unreachable, cannot fetch the build backend scikit-build-core: $(tail -1 "$WORK/probe.log")"
fi

export CMAKE_BUILD_PARALLEL_LEVEL=2
if ! $PIP install --disable-pip-version-check -v . >"$WORK/install.log" 2>&1; then
  tail -60 "$WORK/install.log"
  echo "FAILED: pip install bindings/python"
  exit 1
fi
grep -E "Created wheel for roche|Successfully installed roche" "$WORK/install.log"

cd "$WORK" || exit 1
"$WORK/venv/bin/python" - "$WORK/store" <<'PY' || exit 1
import os, sys
import roche
assert os.path.realpath(roche.__file__).startswith(os.path.realpath(sys.prefix)), roche.__file__
with roche.open(sys.argv[1]) as db:
    offsets = db.append_many([b"a\0b", b"", bytes(range(256))])
    assert db.multi_get(offsets) == [b"a\0b", b"", bytes(range(256))]
    assert [r.value for r in db.scan()] == [b"a\0b", b"", bytes(range(256))]
print("installed roche", roche.__version__, "libroche", roche.libroche_version(), "from", os.path.dirname(roche.__file__))
PY
ls "$WORK"/venv/lib/python3*/site-packages/roche/ | tr '\n' ' '
echo
echo "pip install bindings/python: ok"
