"""Print the test files that skipped a test for a reason other than a missing GPU.

Reads the JUnit XML of a pytest run. Without the optional extras, the tests of Dask,
OpenCV and the like skip; .ci/run installs the extras and reruns these files, then
calls this again to check that nothing but the GPU tests still skips.

Usage:
    python .ci/skipped.py JUNIT_XML
"""

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

# The tests' own reasons for needing (or not having) CUDA: "needs CUDA", "has CUDA",
# "a machine with 100 GPUs".
GPU = re.compile(r"CUDA|GPU")


def test_file(testcase):
    """The test file of a JUnit testcase, from its dotted class name.

    A test's class name is "tests.test_x" or "tests.test_x.TestClass"; a module
    skipped at collection has an empty class name and its dotted path as name.
    """
    parts = (testcase.get("classname") or testcase.get("name")).split(".")
    for stop in range(len(parts), 0, -1):
        path = Path(*parts[:stop]).with_suffix(".py")
        if path.is_file():
            return path.as_posix()
    raise SystemExit(f"no test file for {testcase.attrib}")


def main(argv):
    files = {}
    for testcase in ET.parse(argv[0]).iter("testcase"):
        skipped = testcase.find("skipped")
        if skipped is None:
            continue
        reason = f"{skipped.get('message', '')} {skipped.text or ''}"
        if not GPU.search(reason):
            files.setdefault(test_file(testcase), skipped.get("message"))
    for path, reason in sorted(files.items()):
        print(path)
        print(f"{path}: {reason}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
