#!/usr/bin/env python3
"""Dump python-evtx's view of EVTX files as JSON lines, for the Go tests.

Usage: evtx_oracle.py FILE...

Each record gives one line: {"file", "record_id", "event_id", "channel",
"computer", "time", "data": [[name, text], ...]} where data lists the
children of EventData (Data elements by their Name attribute, unnamed ones
as param1, param2, ...). A record python-evtx cannot render gives a line
with "error". Each file ends with {"file", "count"}.
"""
import json
import sys
import xml.etree.ElementTree as ET

import Evtx.Evtx as evtx

NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"


def local(tag):
    return tag.split("}", 1)[1] if "}" in tag else tag


def child(elem, name):
    if elem is None:
        return None
    for c in elem:
        if local(c.tag) == name:
            return c
    return None


def text(elem):
    if elem is None:
        return ""
    return "".join(elem.itertext())


def main():
    out = sys.stdout
    for path in sys.argv[1:]:
        count = 0
        with evtx.Evtx(path) as log:
            for rec in log.records():
                count += 1
                line = {"file": path, "record_id": rec.record_num()}
                try:
                    root = ET.fromstring(rec.xml())
                except Exception as err:  # noqa: BLE001 - reported to the Go test
                    line["error"] = str(err)
                    out.write(json.dumps(line) + "\n")
                    continue
                system = child(root, "System")
                line["event_id"] = text(child(system, "EventID")).strip()
                line["channel"] = text(child(system, "Channel"))
                line["computer"] = text(child(system, "Computer"))
                created = child(system, "TimeCreated")
                line["time"] = created.get("SystemTime", "") if created is not None else ""
                data = []
                index = 0
                for c in child(root, "EventData") if child(root, "EventData") is not None else []:
                    name = local(c.tag)
                    if name == "Data":
                        index += 1
                        name = c.get("Name") or "param%d" % index
                    data.append([name, text(c)])
                line["data"] = data
                out.write(json.dumps(line) + "\n")
        out.write(json.dumps({"file": path, "count": count}) + "\n")


if __name__ == "__main__":
    main()
