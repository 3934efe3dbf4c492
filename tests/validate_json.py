#!/usr/bin/python3
"""Validates a JSON document against a JSON Schema with Debian's python3-jsonschema.

usage: validate_json.py SCHEMA DOCUMENT
Exit 0 when valid; 1 with one line per error (JSON path: message); 2 on a bad schema or
unreadable input; 3 when python3-jsonschema is missing. The tests call it with /usr/bin/python3.
"""
import json
import sys

try:
    import jsonschema
except ImportError:
    print("python3-jsonschema is not installed (apt-get install python3-jsonschema; "
          "scripts/setup.sh installs it)")
    sys.exit(3)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    try:
        with open(sys.argv[1], encoding="utf-8") as f:
            schema = json.load(f)
        with open(sys.argv[2], encoding="utf-8") as f:
            document = json.load(f)
    except (OSError, ValueError) as e:
        print(f"cannot read input: {e}")
        return 2
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        print(f"{sys.argv[1]}: not a valid schema: {e.message}")
        return 2
    validator = cls(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    for e in errors:
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path)
        print(f"{path}: {e.message}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
