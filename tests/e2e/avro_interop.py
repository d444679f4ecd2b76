"""Decodes Couplet's log values with fastavro and the .avsc files alone.

Usage: python3 avro_interop.py SCHEMAS_DIR MESSAGES_DIR

MESSAGES_DIR holds `<kind>-<n>.bin` files (kind: change, command or outcome), each one raw
value from the log. For every file the script checks the Avro single-object header (0xC3 0x01,
then the 8-byte little-endian CRC-64-AVRO fingerprint of the schema), decodes the body with
`schemaless_reader`, and prints one JSON document: {"fingerprints": {...}, "messages": [...]}.
It exits non-zero on the first mismatch. Run by tests/e2e/avro_interop.rs.
"""

import io
import json
import os
import sys

import fastavro
from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

SCHEMA_FILES = {
    "change": "change_event.avsc",
    "command": "write_command.avsc",
    "outcome": "outcome.avsc",
}

# The Avro specification's 64-bit Rabin fingerprint, written out as an independent check of
# what fastavro calls CRC-64-AVRO (and of its byte order).
EMPTY = 0xC15D213AA4D7A795
TABLE = []
for i in range(256):
    fp = i
    for _ in range(8):
        fp = (fp >> 1) ^ (EMPTY if fp & 1 else 0)
    TABLE.append(fp)


def rabin(data: bytes) -> int:
    fp = EMPTY
    for b in data:
        fp = (fp >> 8) ^ TABLE[(fp ^ b) & 0xFF]
    return fp


def fail(msg: str) -> None:
    print(msg, file=sys.stderr)
    sys.exit(1)


def main() -> None:
    if len(sys.argv) != 3:
        fail(__doc__)
    schemas_dir, messages_dir = sys.argv[1], sys.argv[2]
    schemas = {}
    fingerprints = {}
    for kind, name in SCHEMA_FILES.items():
        with open(os.path.join(schemas_dir, name), encoding="utf-8") as f:
            parsed = parse_schema(json.load(f))
        canonical = to_parsing_canonical_form(parsed)
        fp_hex = fingerprint(canonical, "CRC-64-AVRO")
        own = rabin(canonical.encode("utf-8")).to_bytes(8, "little").hex()
        if fp_hex != own:
            fail(f"{name}: fastavro's CRC-64-AVRO {fp_hex} differs from the spec's {own}")
        schemas[kind] = (parsed, b"\xc3\x01" + bytes.fromhex(fp_hex))
        fingerprints[kind] = fp_hex

    messages = []
    for file in sorted(os.listdir(messages_dir)):
        if not file.endswith(".bin"):
            continue
        kind = file.split("-", 1)[0]
        if kind not in schemas:
            fail(f"{file}: unknown kind {kind}")
        parsed, header = schemas[kind]
        with open(os.path.join(messages_dir, file), "rb") as f:
            value = f.read()
        if value[:10] != header:
            fail(f"{file}: header {value[:10].hex()} is not {header.hex()} ({kind})")
        body = io.BytesIO(value[10:])
        rec = fastavro.schemaless_reader(body, parsed)
        if body.read():
            fail(f"{file}: bytes left after the datum")
        out = {"file": file, "kind": kind, "event_id": rec["event_id"], "mapping": rec["mapping"]}
        if kind == "change":
            out["key"] = f"{rec['system']}/{rec['entity']}/{rec['record_id']}"
            out["op"] = rec["op"]
            out["fields"] = len(rec["fields"])
        else:
            out["key"] = f"{rec['source_system']}/{rec['source_entity']}/{rec['source_id']}"
            out["target_system"] = rec["target_system"]
            out["target_id"] = rec["target_id"]
            if kind == "command":
                out["command_id"] = rec["command_id"]
                out["op"] = rec["op"]
            else:
                out["outcome_id"] = rec["outcome_id"]
                out["status"] = rec["status"]
        messages.append(out)
    print(json.dumps({"fastavro": fastavro.__version__, "fingerprints": fingerprints, "messages": messages}))


if __name__ == "__main__":
    main()
