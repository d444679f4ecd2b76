#!/usr/bin/env python3
"""Checks that a Kafka-protocol broker serves a partition from an offset inside a record batch.

    python3 scripts/check-broker-mid-batch.py [--brokers 127.0.0.1:19092] [--batch N]

Produces 10 keyed messages to a fresh one-partition topic as one batch (linger 200 ms;
`--batch 1` makes every message its own batch), then for committed offsets 0, 3, 5 and 9 starts
a group member and reads what follows. A Kafka broker returns the whole batch and the client
drops the records before the offset, so the member reads offsets N..9. Tansu 0.6 returns
nothing for an offset inside a batch: a member that takes over a partition at a committed
offset in the middle of a batch never sees the batch's tail. Couplet's scale-out tests on
Tansu therefore produce one record per batch (`[bus.kafka.extra] "batch.num.messages" = "1"`).
Exits non-zero when a read comes back short. Needs `confluent-kafka`.
"""
import argparse
import sys
import time
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", default="127.0.0.1:19092")
    ap.add_argument("--batch", type=int, default=10000, help="batch.num.messages of the producer")
    args = ap.parse_args()
    b = args.brokers
    topic = "mid-batch-" + uuid.uuid4().hex[:8]
    admin = AdminClient({"bootstrap.servers": b})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result()
    p = Producer({"bootstrap.servers": b, "linger.ms": 200, "enable.idempotence": True,
                  "batch.num.messages": args.batch})
    for i in range(10):
        p.produce(topic, key="k", value=f"v{i}")
    p.flush(10)
    ok = True
    group = "mid-batch-" + uuid.uuid4().hex[:6]
    for start in [0, 3, 5, 9]:
        conf = {"bootstrap.servers": b, "group.id": f"{group}-{start}",
                "enable.auto.commit": False, "auto.offset.reset": "earliest"}
        c = Consumer(conf)
        c.commit(offsets=[TopicPartition(topic, 0, start)], asynchronous=False)
        c.close()
        c = Consumer(conf)
        c.subscribe([topic])
        got, deadline = [], time.time() + 10
        while time.time() < deadline and len(got) < 10 - start:
            m = c.poll(0.5)
            if m is not None and not m.error():
                got.append(m.offset())
        c.close()
        want = list(range(start, 10))
        print(f"committed {start}: read {got}" + ("" if got == want else f", want {want}"))
        ok = ok and got == want
    print("PASS" if ok else "FAIL: records inside a batch are not served from a mid-batch offset")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
