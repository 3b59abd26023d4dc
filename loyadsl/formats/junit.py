"""JUnit XML, as CI servers read test results: a ``<testsuite>`` per suite (a checked file, a set
of assertions), a ``<testcase>`` per case, a ``<failure>`` in each failed one carrying the first
failing message, with every diagnostic of the case in its text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from loyadsl.diagnostics import Diagnostic
from loyadsl.formats import Case

# characters XML 1.0 cannot hold (C0 controls other than TAB, LF, CR; surrogates; U+FFFE/U+FFFF)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def render(cases: Iterable[Case], name: str) -> str:
    suites: dict[str, list[Case]] = {}
    for case in cases:
        suites.setdefault(case.suite, []).append(case)
    every = [case for group in suites.values() for case in group]
    root = ET.Element("testsuites", name=_xml(name), tests=str(len(every)),
                      failures=str(sum(case.failed for case in every)), errors="0")
    for suite_name, group in suites.items():
        suite = ET.SubElement(root, "testsuite", name=_xml(suite_name), tests=str(len(group)),
                              failures=str(sum(case.failed for case in group)), errors="0", skipped="0")
        for case in group:
            _testcase(suite, case, name)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _testcase(suite: ET.Element, case: Case, classname: str) -> None:
    element = ET.SubElement(suite, "testcase", name=_xml(case.name), classname=_xml(classname))
    if not case.failed:
        if case.diagnostics:  # warnings of a passing case
            ET.SubElement(element, "system-out").text = _xml(_listing(case.diagnostics))
        return
    first = next((d for d in case.diagnostics if d.is_error), case.diagnostics[0] if case.diagnostics else None)
    failure = ET.SubElement(element, "failure", message=_xml(f"{first.code}: {first.message}" if first else "failed"),
                            type=first.code if first else "failed")
    failure.text = _xml(_listing(case.diagnostics))


def _listing(diagnostics: Iterable[Diagnostic]) -> str:
    lines = []
    for d in diagnostics:
        lines.append(f"{f'{d.span}: ' if d.span else ''}{d.severity.value}[{d.code}]: {d.message}")
        lines += [f"  = hint: {d.hint}"] if d.hint else []
        lines += [f"  = note: {note}" for note in d.notes]
    return "\n".join(lines)


def _xml(text: str) -> str:
    """``text`` without the characters XML cannot carry, each shown as its escape instead."""
    return _NOT_XML.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)
