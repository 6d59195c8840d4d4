"""Test support for the Python tests registered with CTest: a test whose prerequisite (a Python
module, a program) is missing exits with SKIP_RETURN_CODE, which CTest reports as skipped
(SKIP_RETURN_CODE in the CMakeLists that registers it) instead of passed. The C++ tests'
counterpart is prerequisite.h."""
import importlib
import shutil
import sys

SKIP_RETURN_CODE = 77


def skip(what):
    print("FT_PREREQUISITE_MISSING: " + what, flush=True)
    sys.exit(SKIP_RETURN_CODE)


def require_module(name, package):
    """The imported module `name`; skips the test when it is not installed (Debian's `package`)."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        skip("python module %s (Debian's %s): %s" % (name, package, error))


def require_program(name, package):
    """The path of program `name`; skips the test when it is not on PATH (Debian's `package`)."""
    path = shutil.which(name)
    if path is None:
        skip("no %s on PATH (Debian's %s)" % (name, package))
    return path
