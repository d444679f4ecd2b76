#!/usr/bin/env python3
"""Checks that a Kafka-protocol broker hands a SIGKILLed group member's partitions to the others.

    python3 scripts/check-broker-member-expiry.py [--brokers 127.0.0.1:19092] [--wait 60]

Creates a fresh 4-partition topic; member A (a child process) and member B join one group
(session timeout 6 s, heartbeats every second) and share the partitions; A is killed with
SIGKILL; B polls and prints its assignment until it holds all 4 partitions or `--wait` seconds
pass. Apache Kafka expires A after the session timeout and makes B rejoin, so B gets every
partition within seconds. Tansu 0.6 expires A too (its log says "missed heartbeat for … after
6958ms" on B's next heartbeat) but never tells B to rejoin: B keeps its two partitions and A's
two are read by no one. This is why Couplet's SIGKILL scale-out test needs Apache Kafka.
Exits non-zero when B never gets every partition. Needs `confluent-kafka`.
"""
import argparse
import os
import signal
import subprocess
import sys
import time

from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, NewTopic

MEMBER = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000, "auto.offset.reset": "earliest"}


def member(brokers, group, topic):
    c = Consumer({"bootstrap.servers": brokers, "group.id": group, **MEMBER})
    c.subscribe([topic])
    while True:
        c.poll(0.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", default="127.0.0.1:19092")
    ap.add_argument("--wait", type=float, default=60.0)
    ap.add_argument("--member", nargs=2, metavar=("GROUP", "TOPIC"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.member:
        member(a.brokers, *a.member)
        return 0
    topic = "member-expiry-%d" % int(time.time() * 1000)
    admin = AdminClient({"bootstrap.servers": a.brokers})
    for f in admin.create_topics([NewTopic(topic, num_partitions=4, replication_factor=1)]).values():
        f.result()
    group = "g-" + topic
    child = subprocess.Popen([sys.executable, __file__, "--brokers", a.brokers, "--member", group, topic])
    b = Consumer({"bootstrap.servers": a.brokers, "group.id": group, **MEMBER})
    b.subscribe([topic])
    start = time.time()
    while time.time() - start < 30 and len(b.assignment()) not in (1, 2, 3):
        b.poll(0.5)
    shared = sorted(p.partition for p in b.assignment())
    print("before SIGKILL: B holds %s (A the rest)" % shared, flush=True)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    killed = time.time()
    last = None
    while time.time() - killed < a.wait:
        b.poll(0.5)
        cur = sorted(p.partition for p in b.assignment())
        if cur != last:
            print("%.1f s after SIGKILL: B holds %s" % (time.time() - killed, cur), flush=True)
            last = cur
        if len(cur) == 4:
            break
    b.close()
    if last is None or len(last) != 4:
        print("FAIL: after %.0f s B still holds %s; the dead member's partitions were never reassigned" % (a.wait, last))
        return 1
    print("OK: the dead member's partitions were reassigned")
    return 0


if __name__ == "__main__":
    sys.exit(main())
