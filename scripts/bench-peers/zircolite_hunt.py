"""Hunt EVTX files with Sigma rules the way Zircolite does, for timing.

Zircolite itself is not published on PyPI, so this driver assembles its
method from packages that are:

- ``evtx`` (pyevtx-rs, Python bindings of the Rust ``evtx`` crate) parses
  each record to JSON.
- ``zargunlite`` (a library that re-implements Zircolite's core) flattens
  that JSON with its default field mapping (``Event.EventData.CommandLine``
  becomes ``CommandLine``), loads all events into one in-memory SQLite
  table and runs each rule's SQL queries.
- The rules file is the output of ``sigma convert -t sqlite -f zircolite``
  (pySigma-backend-sqlite), made once before the timed runs.

A detection is one row returned by one rule's query. The summary goes to
standard output as one JSON object.
"""

import argparse
import json
import sqlite3
import sys
import time

import evtx
from zargunlite.core import ZargunCore
from zargunlite.model import ZircoliteRule
from zargunlite.preprocess import flatten_json, mapping_field

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def read_events(paths):
    """Parse every record of the files and return the flattened events and the count of records that failed."""
    events = []
    failed = 0
    for path in paths:
        parser = evtx.PyEvtxParser(path)
        for record in parser.records_json():
            try:
                document = json.loads(record["data"])
            except (KeyError, ValueError):
                failed += 1
                continue
            flat = flatten_json(document)
            if isinstance(flat, dict):
                events.append(mapping_field(flat))
    return events, failed


def count_records(paths):
    """Return the number of records in the files, rendering each as JSON text and nothing more."""
    records = 0
    for path in paths:
        for _ in evtx.PyEvtxParser(path).records_json():
            records += 1
    return records


def column_types(events):
    """Return (name, type) for every field, first type seen wins.

    SQLite column names ignore case, so of two names that differ only in
    case the first one seen becomes the column, and row_values drops the
    other from each row.
    """
    types = {}
    seen_lower = set()
    for event in events:
        for name, value in event.items():
            if name in types or name.lower() in seen_lower:
                continue
            types[name] = type(value)
            seen_lower.add(name.lower())
    return list(types.items())


def row_values(event, column_names):
    """Return the fields of an event that have a column, as SQLite accepts them.

    SQLite integers are signed 64-bit, so larger integers (some EVTX
    keywords and ids are unsigned 64-bit) are stored as their decimal text.
    """
    row = {}
    for name, value in event.items():
        if name not in column_names:
            continue
        if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            value = str(value)
        row[name] = value
    return row


def load_rules(path):
    """Read a Zircolite JSON rules file (a list of objects with a "rule" list of SQL queries)."""
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a JSON list of Zircolite rules, got {type(raw).__name__}")
    rules = []
    for item in raw:
        rules.append(
            ZircoliteRule(
                title=item.get("title", ""),
                id=item.get("id", ""),
                level=item.get("level", ""),
                rule=list(item.get("rule", [])),
                filename=item.get("filename", ""),
            )
        )
    return rules


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rules", help="Zircolite JSON rules file from sigma convert -f zircolite")
    parser.add_argument(
        "--parse-only",
        action="store_true",
        help="only iterate over the records as JSON text (the Rust parser's cost plus a Python string per record)",
    )
    parser.add_argument("--counts", help="also write one line per matching rule to this file: id, count, title (tab-separated)")
    parser.add_argument("files", nargs="+", help="EVTX files; a file named twice is read twice")
    args = parser.parse_args()

    if args.parse_only:
        started = time.process_time()
        records = count_records(args.files)
        print(json.dumps({"events": records, "cpu_s_parse": round(time.process_time() - started, 3)}))
        return
    if not args.rules:
        parser.error("--rules is required unless --parse-only is given")
    rules = load_rules(args.rules)

    started = time.process_time()
    events, failed = read_events(args.files)
    parsed = time.process_time()

    core = ZargunCore()
    columns = column_types(events)
    column_names = {name for name, _ in columns}
    core.load_data(
        (row_values(event, column_names) for event in events),
        fields=columns,
        strict_field_name=False,
    )
    # All but 2 of the 326 converted Windows rules require EventID values,
    # so SQLite can narrow most queries with this index.
    if "EventID" in column_names:
        core.create_index("EventID")
    loaded = time.process_time()

    detections = 0
    rules_matched = 0
    rule_errors = 0
    counts = []
    for rule in rules:
        # NOTE: a query that names a column no loaded event has fails in
        # SQLite, and zargunlite returns no rows for it, so such a rule
        # matches nothing even where its other branch would match.
        try:
            result = core.execute_zircolite_rule(rule)
        except sqlite3.Error as err:
            rule_errors += 1
            print(f"rule {rule.id} ({rule.title}) failed: {err}", file=sys.stderr)
            continue
        detections += result.count
        if result.count:
            rules_matched += 1
            counts.append((rule.id, result.count, rule.title))
    queried = time.process_time()

    if args.counts:
        with open(args.counts, "w", encoding="utf-8") as f:
            for rule_id, count, title in counts:
                f.write(f"{rule_id}\t{count}\t{title}\n")

    summary = {
        "events": len(events),
        "records_failed": failed,
        "rules": len(rules),
        "rule_errors": rule_errors,
        "rules_matched": rules_matched,
        "detections": detections,
        "cpu_s_parse": round(parsed - started, 3),
        "cpu_s_load": round(loaded - parsed, 3),
        "cpu_s_query": round(queried - loaded, 3),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
