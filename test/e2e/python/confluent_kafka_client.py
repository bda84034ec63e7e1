"""confluent-kafka (1.7.0 on librdkafka 2.0.2, the Debian package) against the broker, one operation per run.

Usage: /usr/bin/python3 confluent_kafka_client.py BOOTSTRAP COMMAND [JSON]

COMMAND is one of create-topic, produce, consume, group-consume, list-groups, list-topics, describe-configs,
create-partitions, delete-topic; JSON holds its parameters ("config" adds librdkafka settings). `produce` reads the records to
send from stdin as a JSON array. Results are printed as JSON lines on stdout; the last line is {"apis": {...}},
the requests (name and version) librdkafka reported sending in its protocol debug log. Any failure exits
non-zero with the error on stderr.
"""
import hashlib
import json
import logging
import re
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

MAX_BYTES = 8 * 1024 * 1024

# librdkafka's protocol debug log names every request it sends: "Sent ProduceRequest (v7, ...)".
SENT = {}
SENT_LINE = re.compile(r"Sent (\w+)Request \(v(\d+)")


class RequestCounter(logging.Handler):
    def emit(self, record):
        message = record.getMessage()
        match = SENT_LINE.search(message)
        if match:
            name = "%s_v%s" % match.groups()
            SENT[name] = SENT.get(name, 0) + 1
        elif record.levelno >= logging.WARNING:
            sys.stderr.write(message + "\n")


logger = logging.getLogger("librdkafka")
logger.setLevel(logging.DEBUG)
logger.propagate = False
logger.addHandler(RequestCounter())


def conf(bootstrap, p, **extra):
    return {"bootstrap.servers": bootstrap, "debug": "protocol", "logger": logger, **extra, **p.get("config", {})}


def out(obj):
    print(json.dumps(obj), flush=True)


def show(data):
    """How a key, value or header value is printed: text, or a digest for anything long; None stays None."""
    if data is None:
        return None
    if len(data) > 256:
        return "sha256:%s:%d" % (hashlib.sha256(data).hexdigest(), len(data))
    return data.decode("utf-8")


def encode(text):
    return None if text is None else text.encode("utf-8")


def admin(bootstrap, p):
    return AdminClient(conf(bootstrap, p, **{"client.id": "confluent-kafka-admin"}))


def wait(client, futures):
    """Resolves a dict of admin futures to {name: result or raised KafkaException}, serving logs meanwhile."""
    results = {}
    for name, future in futures.items():
        try:
            results[name] = ("ok", future.result(timeout=20))
        except Exception as e:  # a per-resource failure: report its Kafka error code
            error = e.args[0] if e.args and isinstance(e.args[0], KafkaError) else None
            if error is None:
                raise
            results[name] = ("error", error)
    client.poll(0)
    return results


def error_fields(status, value):
    if status == "ok":
        return {"error": None}
    return {"error": value.name(), "error_code": value.code()}


def create_topic(bootstrap, p):
    client = admin(bootstrap, p)
    topic = NewTopic(p["topic"], num_partitions=p["partitions"], replication_factor=1, config=p.get("configs", {}))
    for name, (status, value) in wait(client, client.create_topics([topic], request_timeout=15)).items():
        out({"topic": name, **error_fields(status, value)})


def produce(bootstrap, p):
    records = json.load(sys.stdin)
    producer = Producer(conf(bootstrap, p, **{
        "client.id": "confluent-kafka-producer",
        "acks": p["acks"],
        "message.max.bytes": MAX_BYTES,
        "linger.ms": p.get("linger_ms", 5),
        "retry.backoff.ms": 100,
    }))
    # Learn the partitions first, as applications commonly do: records produced while librdkafka still
    # waits for the topic's metadata may go out in a batch of their own when it arrives, linger.ms or not.
    producer.list_topics(p["topic"], timeout=10)
    reports = {}

    def delivered(index):
        def report(err, msg):
            reports[index] = (err, msg)
        return report

    for i, r in enumerate(records):
        value = encode(r.get("value"))
        if "repeat" in r:
            value = (r["repeat"] * (r["length"] // len(r["repeat"]) + 1))[: r["length"]].encode("utf-8")
        kwargs = {"key": encode(r.get("key")), "value": value, "on_delivery": delivered(i)}
        if r.get("headers"):
            kwargs["headers"] = [(k, encode(v)) for k, v in r["headers"]]
        if r.get("partition") is not None:
            kwargs["partition"] = r["partition"]
        producer.produce(p["topic"], **kwargs)
        producer.poll(0)
    remaining = producer.flush(20)
    if remaining:
        raise RuntimeError("%d records not delivered" % remaining)
    for i in range(len(records)):
        err, msg = reports[i]
        if err is not None:
            raise RuntimeError("record %d: %s" % (i, err))
        out({"index": i, "partition": msg.partition(), "offset": msg.offset()})


def consume(bootstrap, p):
    consumer = Consumer(conf(bootstrap, p, **{
        "client.id": "confluent-kafka-consumer",
        # Required by the library; never used to join a group: partitions are assigned, nothing is committed.
        "group.id": "unused",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "fetch.wait.max.ms": 100,
        # Fetch sizes stay at their defaults (1 MiB per partition): the broker still returns a bigger batch
        # when it is the first one, as Kafka does.
    }))
    try:
        metadata = consumer.list_topics(p["topic"], timeout=10)
        partitions = sorted(metadata.topics[p["topic"]].partitions)
        ends = {n: consumer.get_watermark_offsets(TopicPartition(p["topic"], n), timeout=10)[1] for n in partitions}
        out({"end_offsets": {str(n): ends[n] for n in partitions}})
        consumer.assign([TopicPartition(p["topic"], n, OFFSET_BEGINNING) for n in partitions])
        positions = {n: 0 for n in partitions}
        deadline = time.time() + p.get("timeout", 20)
        while any(positions[n] < ends[n] for n in partitions):
            if time.time() > deadline:
                raise RuntimeError("timed out at %s of %s" % (positions, ends))
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise RuntimeError(str(msg.error()))
            positions[msg.partition()] = msg.offset() + 1
            out({"partition": msg.partition(), "offset": msg.offset(), "key": show(msg.key()),
                 "value": show(msg.value()), "headers": [[k, show(v)] for k, v in (msg.headers() or [])]})
    finally:
        consumer.close()


def offsets_of(tps):
    """{partition: offset} of a list of TopicPartitions; an offset never committed (-1001) prints as null."""
    return {str(tp.partition): (tp.offset if tp.offset >= 0 else None) for tp in sorted(tps, key=lambda t: t.partition)}


def describe_groups(bootstrap, p, group):
    """AdminClient.list_groups (ListGroups, then DescribeGroups), the one group's entry."""
    client = admin(bootstrap, p)
    groups = client.list_groups(timeout=10)
    client.poll(0)
    return [{"id": g.id, "state": g.state, "protocol_type": g.protocol_type, "protocol": g.protocol,
             "error": None if g.error is None else g.error.name(),
             "members": [{"client_id": m.client_id, "assignment": len(m.assignment) > 0} for m in g.members]}
            for g in groups if g.id == group]


def group_consume(bootstrap, p):
    """Joins group p["group"] subscribed to p["topic"] (offsets reset to earliest, no auto commit), prints what
    is committed first, every record until the end of every partition, the assignments it was given, what a
    synchronous commit() committed and what committed() answers after it. It keeps polling p["hold"] seconds
    once at the end (a record arriving then is printed too: it would be one too many) so that heartbeats go out.
    With "list_groups", AdminClient.list_groups describes the group while this member is in it."""
    topic = p["topic"]
    consumer = Consumer(conf(bootstrap, p, **{
        "client.id": p.get("client_id", "confluent-kafka-group"),
        "group.id": p["group"],
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "fetch.wait.max.ms": 100,
        "session.timeout.ms": 10000,
        "heartbeat.interval.ms": 200,
    }))
    try:
        partitions = sorted(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
        tps = [TopicPartition(topic, n) for n in partitions]
        out({"committed_before": offsets_of(consumer.committed(tps, timeout=10))})
        assignments = []
        at_end = set()

        def on_assign(_consumer, assigned):
            assignments.append(sorted(tp.partition for tp in assigned))
            at_end.clear()

        consumer.subscribe([topic], on_assign=on_assign)

        def poll_once():
            msg = consumer.poll(0.1)
            if msg is None:
                return
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    at_end.add(msg.partition())
                    return
                raise RuntimeError(str(msg.error()))
            at_end.discard(msg.partition())
            out({"partition": msg.partition(), "offset": msg.offset(), "key": show(msg.key()),
                 "value": show(msg.value()), "headers": [[k, show(v)] for k, v in (msg.headers() or [])]})

        deadline = time.time() + p.get("timeout", 20)
        while not (assignments and assignments[-1] == partitions and at_end == set(partitions)):
            if time.time() > deadline:
                raise RuntimeError("timed out: assignments %s, at end %s" % (assignments, sorted(at_end)))
            poll_once()
        hold = time.time() + p.get("hold", 0.6)
        while time.time() < hold:
            poll_once()
        out({"assignments": assignments})
        try:
            committed = consumer.commit(asynchronous=False)
        except KafkaException as e:
            if e.args[0].code() != KafkaError._NO_OFFSET:
                raise
            committed = []
        out({"commit": offsets_of(committed)})
        out({"committed": offsets_of(consumer.committed(tps, timeout=10))})
        if p.get("list_groups"):
            out({"groups": describe_groups(bootstrap, p, p["group"])})
    finally:
        consumer.close()


def list_groups(bootstrap, p):
    out({"groups": describe_groups(bootstrap, p, p["group"])})


def list_topics(bootstrap, p):
    client = admin(bootstrap, p)
    metadata = client.list_topics(timeout=10)
    out({"brokers": sorted("%d@%s:%d" % (b.id, b.host, b.port) for b in metadata.brokers.values()),
         "controller_id": metadata.controller_id,
         "topics": {name: len(t.partitions) for name, t in sorted(metadata.topics.items())}})
    client.poll(0)


def describe_configs(bootstrap, p):
    client = admin(bootstrap, p)
    resource = ConfigResource(p["type"], p["name"])
    for res, (status, value) in wait(client, client.describe_configs([resource], request_timeout=15)).items():
        line = {"resource_type": res.restype.name,
                "resource_name": res.name, **error_fields(status, value)}
        if status == "ok":
            line["configs"] = {name: entry.value for name, entry in sorted(value.items())}
            line["read_only"] = sorted(name for name, entry in value.items() if entry.is_read_only)
            line["sources"] = {name: entry.source for name, entry in sorted(value.items())}
        out(line)


def alter_configs(bootstrap, p):
    """AdminClient.alter_configs (librdkafka's AlterConfigs): the resource's configs become the given set."""
    client = admin(bootstrap, p)
    resource = ConfigResource(p["type"], p["name"], set_config=p["configs"])
    for res, (status, value) in wait(client, client.alter_configs([resource], request_timeout=15)).items():
        out({"resource_type": res.restype.name, "resource_name": res.name, **error_fields(status, value)})


def create_partitions(bootstrap, p):
    client = admin(bootstrap, p)
    futures = client.create_partitions([NewPartitions(p["topic"], p["count"])], request_timeout=15)
    for name, (status, value) in wait(client, futures).items():
        out({"topic": name, **error_fields(status, value)})


def delete_topic(bootstrap, p):
    client = admin(bootstrap, p)
    for name, (status, value) in wait(client, client.delete_topics([p["topic"]], request_timeout=15)).items():
        out({"topic": name, **error_fields(status, value)})


COMMANDS = {
    "create-topic": create_topic,
    "produce": produce,
    "consume": consume,
    "group-consume": group_consume,
    "list-groups": list_groups,
    "list-topics": list_topics,
    "describe-configs": describe_configs,
    "alter-configs": alter_configs,
    "create-partitions": create_partitions,
    "delete-topic": delete_topic,
}

if __name__ == "__main__":
    bootstrap, command = sys.argv[1], sys.argv[2]
    params = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    COMMANDS[command](bootstrap, params)
    out({"apis": SENT})
