"""Convert Sigma rules to Elasticsearch queries with pySigma.

Read a JSON list of rule file paths on standard input and write one JSON
object on standard output:

    {"versions": {"pySigma": "1.5.1", ...},
     "pipeline": "ecs_windows",
     "rules": {"<rule id>": {"path": "...", "query": "<Lucene query>",
                             "dsl": {<Elasticsearch query DSL>}}
               | {"path": "...", "error": "<conversion error>"}}}

Each rule is converted by the Lucene backend of pySigma-backend-elasticsearch
with its ecs_windows processing pipeline (Winlogbeat 7+ field names). "dsl" is
the query the backend's dsl_lucene output format wraps the Lucene query in: a
query_string query with analyze_wildcard. A file that fails to parse, or a
rule the backend rejects, gets an "error" entry instead of stopping the run.
"""

import json
import sys
from importlib import metadata

from sigma.backends.elasticsearch import LuceneBackend
from sigma.collection import SigmaCollection
from sigma.pipelines.elasticsearch import ecs_windows

PACKAGES = ("pySigma", "pySigma-backend-elasticsearch")


def convert_file(path):
    """Return (rule id, result) pairs for the rules in one Sigma file."""
    try:
        with open(path, encoding="utf-8") as f:
            collection = SigmaCollection.from_yaml(f.read())
    except Exception as exc:  # pySigma raises many exception types on bad YAML.
        return [(path, {"path": path, "error": f"parse: {type(exc).__name__}: {exc}"})]

    results = []
    for rule in collection.rules:
        rule_id = str(rule.id) if rule.id else path
        # A new backend per rule keeps the state of one conversion (errors,
        # deferred parts) from leaking into the next.
        backend = LuceneBackend(processing_pipeline=ecs_windows())
        single = SigmaCollection([rule])
        # Convert once: the processing pipeline changes the rule in place,
        # so a second conversion of the same rule object would apply the
        # pipeline's conditions twice.
        try:
            bodies = backend.convert(single, "dsl_lucene")
        except Exception as exc:  # pySigma signals unsupported features with many types.
            results.append((rule_id, {"path": path, "error": f"{type(exc).__name__}: {exc}"}))
            continue
        if len(bodies) != 1:
            results.append((rule_id, {
                "path": path,
                "error": f"conversion gave {len(bodies)} queries; the cross-check expects one per rule",
            }))
            continue
        dsl = bodies[0]["query"]
        query = dsl["bool"]["must"][0]["query_string"]["query"]
        results.append((rule_id, {"path": path, "query": query, "dsl": dsl}))
    return results


def main():
    paths = json.load(sys.stdin)
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        sys.exit("convert.py: standard input must be a JSON list of rule file paths")

    rules = {}
    for path in paths:
        for rule_id, result in convert_file(path):
            rules[rule_id] = result

    out = {
        "versions": {name: metadata.version(name) for name in PACKAGES},
        "pipeline": "ecs_windows",
        "rules": rules,
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
