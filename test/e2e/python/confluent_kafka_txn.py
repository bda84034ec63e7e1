"""confluent-kafka (1.7.0 on librdkafka 2.0.2, the Debian package) transactions against the broker.

Usage: /usr/bin/python3 confluent_kafka_txn.py BOOTSTRAP COMMAND [JSON]

COMMAND is one of:
- session: a transactional producer (JSON "config": its librdkafka settings, transactional.id among them) driven
  one step at a time: each line of stdin is a JSON step, each step answers one JSON line on stdout. Steps:
  {"op": "init"}, {"op": "begin"}, {"op": "produce", "topic": T, "records": [{"key", "value", "partition"}]},
  {"op": "flush"} (answers where each record produced since the last flush went, or its error),
  {"op": "send_offsets", "group": G, "offsets": [[topic, partition, offset]]}, {"op": "commit"},
  {"op": "abort"}, {"op": "exit"}. A failing step answers {"op", "error": {...}} and the session goes on, so
  that a test sees what the client reports (fatal, abortable, retriable). Errors the client raised through its
  error callback since the previous step come with the next answer as "client_errors".
- consume: every record of a topic by assignment (no group joined) at "isolation" read_committed or
  read_uncommitted, until the end of every partition as the client sees it (for read_committed the last
  stable offset). Prints the end offsets ListOffsets gave at that isolation level first, then the records,
  then the positions reached.
- copy: one consume-transform-produce round: joins group "group" on "input" (read_committed, from the committed
  offsets or the beginning), reads to the end, and in one transaction of a producer with the settings
  "producer" produces each record to "output" (same partition, value prefixed "copied ") and sends the
  consumer's positions as the group's offsets, then commits or aborts ("outcome"). Prints what it copied and
  the group's committed offsets afterwards.

The last line of every command is {"apis": {...}}, the requests librdkafka logged as sent (see
confluent_kafka_client.py, whose helpers this reuses). Anything unexpected exits non-zero with the error.
"""
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition

from confluent_kafka_client import SENT, conf, encode, out, show

TIMEOUT = 20


def error_of(error):
    """How a KafkaError is reported to the test."""
    return {"name": error.name(), "code": error.code(), "message": error.str(), "fatal": error.fatal(),
            "retriable": error.retriable(), "abortable": error.txn_requires_abort()}


def record_line(msg):
    return {"partition": msg.partition(), "offset": msg.offset(), "key": show(msg.key()), "value": show(msg.value())}


def session(bootstrap, p):
    client_errors = []
    producer = Producer(conf(bootstrap, p, **{
        "client.id": "confluent-kafka-txn",
        "linger.ms": 5,
        "retry.backoff.ms": 100,
        "error_cb": lambda e: client_errors.append(error_of(e)),
    }))
    pending = []  # (index, delivery report) of the records produced since the last flush
    consumers = {}

    def delivered(index):
        def report(err, msg):
            pending[index][1] = (err, msg)
        return report

    def run(step):
        op = step["op"]
        timeout = step.get("timeout", TIMEOUT)
        if op == "init":
            producer.init_transactions(timeout)
        elif op == "begin":
            producer.begin_transaction()
        elif op == "produce":
            for r in step["records"]:
                pending.append([len(pending), None])
                kwargs = {"key": encode(r.get("key")), "value": encode(r.get("value")),
                          "on_delivery": delivered(len(pending) - 1)}
                if r.get("partition") is not None:
                    kwargs["partition"] = r["partition"]
                producer.produce(step["topic"], **kwargs)
                producer.poll(0)
        elif op == "flush":
            remaining = producer.flush(timeout)
            reports = []
            for index, report in pending:
                if report is None:
                    reports.append({"index": index, "error": None if remaining else "no delivery report"})
                    continue
                err, msg = report
                reports.append({"index": index, "error": error_of(err)} if err is not None
                               else {"index": index, "partition": msg.partition(), "offset": msg.offset()})
            pending.clear()
            return {"remaining": remaining, "delivered": reports}
        elif op == "send_offsets":
            group = step["group"]
            if group not in consumers:
                # The group's metadata as a consumer that never joined has it: generation -1, no member id.
                consumers[group] = Consumer(conf(bootstrap, {}, **{
                    "client.id": "confluent-kafka-txn-offsets", "group.id": group, "enable.auto.commit": False}))
            offsets = [TopicPartition(t, n, o) for t, n, o in step["offsets"]]
            producer.send_offsets_to_transaction(offsets, consumers[group].consumer_group_metadata(), timeout)
        elif op == "commit":
            producer.commit_transaction(timeout)
        elif op == "abort":
            producer.abort_transaction(timeout)
        else:
            raise ValueError("unknown step %s" % op)
        return {}

    for line in iter(sys.stdin.readline, ""):
        step = json.loads(line)
        if step["op"] == "exit":
            break
        started = time.time()
        try:
            answer = {"op": step["op"], **run(step)}
            producer.poll(0)
        except KafkaException as e:
            answer = {"op": step["op"], "error": error_of(e.args[0])}
        answer["ms"] = round((time.time() - started) * 1000)
        if client_errors:
            answer["client_errors"] = list(client_errors)
            client_errors.clear()
        out(answer)
    for consumer in consumers.values():
        consumer.close()


def read_to_end(consumer, partitions, deadline, on_record):
    """Polls until the client reported the end of every partition (enable.partition.eof)."""
    at_end = set()
    while at_end != set(partitions):
        if time.time() > deadline:
            raise RuntimeError("timed out, at the end of %s of %s" % (sorted(at_end), partitions))
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(msg.partition())
                continue
            raise KafkaException(msg.error())
        at_end.discard(msg.partition())
        on_record(msg)


def positions_of(consumer, topic, partitions):
    return {str(tp.partition): tp.offset for tp in consumer.position([TopicPartition(topic, n) for n in partitions])}


def consume(bootstrap, p):
    topic = p["topic"]
    consumer = Consumer(conf(bootstrap, p, **{
        "client.id": "confluent-kafka-txn-consumer",
        "group.id": "unused",  # required by the library; no group is joined, nothing committed
        "isolation.level": p["isolation"],
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "fetch.wait.max.ms": 100,
    }))
    try:
        partitions = sorted(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
        ends = {str(n): consumer.get_watermark_offsets(TopicPartition(topic, n), timeout=10)[1] for n in partitions}
        out({"end_offsets": ends})
        consumer.assign([TopicPartition(topic, n, OFFSET_BEGINNING) for n in partitions])
        read_to_end(consumer, partitions, time.time() + p.get("timeout", TIMEOUT), lambda msg: out(record_line(msg)))
        out({"positions": positions_of(consumer, topic, partitions)})
    finally:
        consumer.close()


def copy(bootstrap, p):
    source, sink, group = p["input"], p["output"], p["group"]
    producer = Producer(conf(bootstrap, {"config": p["producer"]}, **{"client.id": "confluent-kafka-copier", "linger.ms": 5}))
    producer.init_transactions(TIMEOUT)
    consumer = Consumer(conf(bootstrap, {}, **{
        "client.id": "confluent-kafka-copier",
        "group.id": group,
        "isolation.level": "read_committed",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "fetch.wait.max.ms": 100,
        "session.timeout.ms": 10000,
        "heartbeat.interval.ms": 200,
    }))
    try:
        partitions = sorted(consumer.list_topics(source, timeout=10).topics[source].partitions)
        assigned = []
        consumer.subscribe([source], on_assign=lambda _c, tps: assigned.append(sorted(tp.partition for tp in tps)))
        deadline = time.time() + TIMEOUT
        while not assigned:
            if time.time() > deadline:
                raise RuntimeError("no assignment")
            consumer.poll(0.1)
        records = []
        read_to_end(consumer, partitions, deadline, records.append)
        producer.begin_transaction()
        for msg in records:
            producer.produce(sink, key=msg.key(), value=b"copied " + msg.value(), partition=msg.partition())
        # flush first: an abort purges what is not sent yet, and the aborted copies should be in the log.
        producer.flush(TIMEOUT)
        positions = consumer.position([TopicPartition(source, n) for n in partitions])
        producer.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), TIMEOUT)
        if p["outcome"] == "commit":
            producer.commit_transaction(TIMEOUT)
        else:
            producer.abort_transaction(TIMEOUT)
        out({"copied": [record_line(msg) for msg in records],
             "sent_offsets": {str(tp.partition): tp.offset for tp in positions}})
        committed = consumer.committed([TopicPartition(source, n) for n in partitions], timeout=10)
        out({"committed": {str(tp.partition): (tp.offset if tp.offset >= 0 else None) for tp in committed}})
    finally:
        consumer.close()


COMMANDS = {"session": session, "consume": consume, "copy": copy}

if __name__ == "__main__":
    bootstrap, command = sys.argv[1], sys.argv[2]
    params = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    COMMANDS[command](bootstrap, params)
    out({"apis": SENT})
