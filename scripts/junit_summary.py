"""Prints one line from a pytest JUnit XML file: passed, failed, skipped."""

import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
suite = root if root.tag == "testsuite" else root.find("testsuite")
tests, failures, errors, skipped = (
    int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped")
)
failed = failures + errors
print(f"{tests - failed - skipped} passed, {failed} failed, {skipped} skipped")
