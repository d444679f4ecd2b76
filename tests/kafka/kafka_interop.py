#!/usr/bin/env python3
"""Reads Couplet's events from a Kafka topic with clients nobody on the project wrote.

confluent-kafka consumes the topic; fastavro decodes each value with only the .avsc files:
Avro single-object encoding is C3 01, the 8-byte little-endian CRC-64-AVRO fingerprint of the
writer schema, then the schemaless datum. The fingerprint must match one of the schemas.

Prints one JSON object per message (topic, partition, offset, key, headers, schema name,
fingerprint, decoded value) and exits 0 once --count messages were read; exits 1 with a
message on stderr otherwise.

usage: kafka_interop.py --brokers HOST:PORT --topic TOPIC --count N --schemas DIR
"""

import argparse
import io
import json
import pathlib
import sys
import time
import uuid

import fastavro
from confluent_kafka import Consumer, KafkaError


def load_schemas(directory):
    """Fingerprint (little-endian bytes) -> (name, parsed schema) for every .avsc file."""
    by_fingerprint = {}
    for path in sorted(pathlib.Path(directory).glob("*.avsc")):
        parsed = fastavro.parse_schema(json.loads(path.read_text()))
        canonical = fastavro.schema.to_parsing_canonical_form(parsed)
        fp = fastavro.schema.fingerprint(canonical, "CRC-64-AVRO")
        # fastavro's hex is already in the little-endian byte order single-object encoding uses.
        by_fingerprint[bytes.fromhex(fp)] = (parsed["name"].split(".")[-1], parsed)
    if not by_fingerprint:
        sys.exit(f"no .avsc files in {directory}")
    return by_fingerprint


def decode(value, schemas):
    if len(value) < 10 or value[:2] != b"\xc3\x01":
        raise ValueError(f"not Avro single-object encoded: {value[:10].hex()}")
    fp = value[2:10]
    if fp not in schemas:
        expected = ", ".join(f"{name}={k.hex()}" for k, (name, _) in schemas.items())
        raise ValueError(
            f"fingerprint {fp.hex()} matches no schema in schemas/: the CRC-64-AVRO "
            f"fingerprints of their Parsing Canonical Forms are {expected}"
        )
    name, schema = schemas[fp]
    datum = fastavro.schemaless_reader(io.BytesIO(value[10:]), schema, None)
    return name, fp.hex(), datum


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--schemas", required=True)
    ap.add_argument("--timeout", type=float, default=30.0)
    args = ap.parse_args()

    schemas = load_schemas(args.schemas)
    consumer = Consumer(
        {
            "bootstrap.servers": args.brokers,
            "group.id": f"interop-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([args.topic])
    seen = 0
    deadline = time.monotonic() + args.timeout
    try:
        while seen < args.count:
            if time.monotonic() > deadline:
                sys.exit(f"read {seen} of {args.count} messages within {args.timeout}s")
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                sys.exit(f"consumer error: {msg.error()}")
            name, fp, datum = decode(msg.value(), schemas)
            out = {
                "topic": msg.topic(),
                "partition": msg.partition(),
                "offset": msg.offset(),
                "key": msg.key().decode("utf-8"),
                "headers": [[k, (v or b"").decode("utf-8")] for k, v in (msg.headers() or [])],
                "schema": name,
                "fingerprint": fp,
                "value": datum,
            }
            print(json.dumps(out, default=str), flush=True)
            seen += 1
    finally:
        consumer.close()


if __name__ == "__main__":
    main()
