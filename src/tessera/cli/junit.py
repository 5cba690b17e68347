"""A quality run as JUnit XML, so ``tessera test`` drops into any CI."""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

__all__ = ["junit_refused", "junit_xml"]


def junit_xml(run: Any) -> str:
    suites = ET.Element("testsuites")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"tessera.{run.subject}",
        tests=str(len(run.checks)),
        failures=str(sum(1 for c in run.checks if c.blocking and c.outcome == "failed")),
        errors=str(sum(1 for c in run.checks if c.blocking and c.outcome == "error")),
        timestamp=run.started_at.isoformat(),
        time=f"{(run.finished_at - run.started_at).total_seconds():.3f}",
    )
    for check in run.checks:
        classname = f"{run.subject}.{check.object}" if check.object else run.subject
        case = ET.SubElement(suite, "testcase", classname=classname, name=check.name)
        measured = "" if check.measured is None else f"measured {check.measured} {check.unit}".strip() + ", "
        detail = f"{measured}expected {check.threshold}"
        if check.outcome != "passed" and check.blocking:
            tag = "error" if check.outcome == "error" else "failure"
            element = ET.SubElement(case, tag, message=check.message, type=check.severity)
            element.text = detail
        elif check.outcome != "passed":  # a warning: reported, not failed (the gate does not refuse on it)
            ET.SubElement(case, "system-out").text = f"{check.severity}: {check.message} ({detail})"
    return _xml_text(ET.tostring(suites, encoding="unicode"))


#: characters XML 1.0 does not allow at all, even escaped: a contract's name or a message quoting a value may
#: hold them, and a CI parser refuses the whole report for one
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(xml: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", xml)


def junit_refused(target: str, problems: list[str]) -> str:
    """A refused contract (or data that cannot be used) as one failing test case listing the problems."""
    suites = ET.Element("testsuites")
    suite = ET.SubElement(suites, "testsuite", name=f"tessera.{target}", tests="1", failures="0", errors="1")
    case = ET.SubElement(suite, "testcase", classname="tessera.contract", name="contract")
    count = len(problems)
    element = ET.SubElement(
        case, "error", message=f"refused: {count} problem{'s' if count != 1 else ''}", type="refused"
    )
    element.text = "\n".join(problems)
    return _xml_text(ET.tostring(suites, encoding="unicode"))
