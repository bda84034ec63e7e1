"""kafka-python (2.0.2, the Debian package) against the broker, one operation per run.

Usage: /usr/bin/python3 kafka_python_client.py BOOTSTRAP COMMAND [JSON]

COMMAND is one of create-topic, produce, consume, group-consume, group-offsets, isolation-level-setting,
end-offsets, list-topics, describe-configs, create-partitions, delete-topic; JSON holds its parameters. `produce` reads the records to
send from stdin as a JSON array. Results are printed as JSON lines on stdout; the last line is {"apis": {...}},
the request types (name and version) this run sent. Any failure exits non-zero with the error on stderr.
"""
import hashlib
import json
import os
import sys
import time

import kafka.conn
from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
from kafka.errors import BrokerResponseError, KafkaConfigurationError

# Every request any client of this process sends passes through BrokerConnection._send: count them by type.
SENT = {}
_send = kafka.conn.BrokerConnection._send


def _counting_send(self, request, blocking=True):
    name = type(request).__name__  # e.g. ProduceRequest_v7
    SENT[name] = SENT.get(name, 0) + 1
    return _send(self, request, blocking)


kafka.conn.BrokerConnection._send = _counting_send

MAX_BYTES = 8 * 1024 * 1024


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


def admin(bootstrap):
    return KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kafka-python-admin", request_timeout_ms=10000)


def topic_results(topic, request):
    """Runs an admin request about one topic; the admin client raises a topic's error, printed as its code."""
    try:
        response = request()
    except BrokerResponseError as e:
        out({"topic": topic, "error_code": e.errno, "error": type(e).__name__})
        return
    errors = response.topic_errors if hasattr(response, "topic_errors") else response.topic_error_codes
    for name, code, *rest in errors:
        out({"topic": name, "error_code": code, "version": response.API_VERSION})


def create_topic(bootstrap, p):
    client = admin(bootstrap)
    try:
        topic = NewTopic(p["topic"], p["partitions"], 1, topic_configs=p.get("configs", {}))
        topic_results(p["topic"], lambda: client.create_topics([topic], timeout_ms=10000))
    finally:
        client.close()


def produce(bootstrap, p):
    records = json.load(sys.stdin)
    config = dict(
        bootstrap_servers=bootstrap,
        client_id="kafka-python-producer",
        acks=p["acks"] if p["acks"] == "all" else int(p["acks"]),
        max_request_size=MAX_BYTES,
        request_timeout_ms=10000,
        linger_ms=p.get("linger_ms", 0),
    )
    if p.get("compression"):
        config["compression_type"] = p["compression"]
    producer = KafkaProducer(**config)
    try:
        futures = []
        for r in records:
            value = encode(r.get("value"))
            if "repeat" in r:
                value = (r["repeat"] * (r["length"] // len(r["repeat"]) + 1))[: r["length"]].encode("utf-8")
            headers = [(k, encode(v)) for k, v in r.get("headers", [])]
            futures.append(producer.send(p["topic"], key=encode(r.get("key")), value=value, headers=headers,
                                         partition=r.get("partition")))
        producer.flush(timeout=20)
        for i, f in enumerate(futures):
            meta = f.get(timeout=20)
            out({"index": i, "partition": meta.partition, "offset": meta.offset})
    finally:
        producer.close(timeout=10)


def consumer_for(bootstrap, p):
    return KafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id="kafka-python-consumer",
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="none",
        request_timeout_ms=15000,
        fetch_max_wait_ms=200,
        # Fetch sizes stay at their defaults (1 MiB per partition): the broker still returns a bigger batch
        # when it is the first one, as Kafka does.
    )


def consume(bootstrap, p):
    consumer = consumer_for(bootstrap, p)
    try:
        if p.get("isolation") == "read_committed":
            # kafka-python 2.0.2 has no isolation_level setting (it is an unrecognised config, see the check
            # below); its fetcher sends the level it keeps here in every Fetch v4 request.
            consumer._fetcher._isolation_level = 1
        partitions = sorted(consumer.partitions_for_topic(p["topic"]) or [])
        tps = [TopicPartition(p["topic"], n) for n in partitions]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        out({"end_offsets": {str(tp.partition): ends[tp] for tp in tps}})
        deadline = time.time() + p.get("timeout", 20)
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            if time.time() > deadline:
                raise RuntimeError("timed out at %s of %s" % ({tp.partition: consumer.position(tp) for tp in tps},
                                                             {tp.partition: ends[tp] for tp in tps}))
            for tp, messages in consumer.poll(timeout_ms=500).items():
                for m in messages:
                    out({"partition": m.partition, "offset": m.offset, "key": show(m.key), "value": show(m.value),
                         "headers": [[k, show(v)] for k, v in m.headers]})
    finally:
        consumer.close(autocommit=False)


def group_consume(bootstrap, p):
    """Joins group p["group"] subscribed to p["topic"] (offsets reset to earliest, no auto commit), prints what
    is committed first, every record until the end of its assigned partitions, the assignments it was given,
    and what committed() answers after a synchronous commit(). It keeps polling p["hold"] seconds once at the
    end (a record arriving then is printed too: it would be one too many) so that heartbeats go out.

    With "members" > 1 the consumer waits, its partitions paused, until it shares the topic with the others
    (it holds fewer than all partitions) before fetching anything; once done it waits for the others to be
    done too ("barrier": a folder where each member leaves a file) before it leaves the group, so that nobody
    takes over partitions that were already read."""
    topic = p["topic"]
    members = p.get("members", 1)
    name = p.get("client_id", "kafka-python-group")
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id=name,
        group_id=p["group"],
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        request_timeout_ms=15000,
        fetch_max_wait_ms=200,
        session_timeout_ms=10000,
        heartbeat_interval_ms=200,
    )
    try:
        partitions = sorted(consumer.partitions_for_topic(topic) or [])
        tps = [TopicPartition(topic, n) for n in partitions]
        out({"committed_before": {str(tp.partition): consumer.committed(tp) for tp in tps}})
        assignments = []

        class Listener(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked):
                pass

            def on_partitions_assigned(self, assigned):
                assignments.append(sorted(tp.partition for tp in assigned))
                if members > 1 and len(assigned) == len(partitions):
                    consumer.pause(*assigned)

        consumer.subscribe([topic], listener=Listener())

        def poll_once():
            for _tp, messages in consumer.poll(timeout_ms=100).items():
                for m in messages:
                    out({"partition": m.partition, "offset": m.offset, "key": show(m.key), "value": show(m.value),
                         "headers": [[k, show(v)] for k, v in m.headers]})

        deadline = time.time() + p.get("timeout", 20)
        ends = {}
        while True:
            if time.time() > deadline:
                raise RuntimeError("timed out: assignments %s" % assignments)
            poll_once()
            assignment = consumer.assignment()
            if not assignment or (members > 1 and len(assignment) == len(partitions)):
                continue
            key = frozenset(assignment)
            if key not in ends:
                ends[key] = consumer.end_offsets(list(assignment))
            if all(consumer.position(tp) >= ends[key][tp] for tp in assignment):
                break
        hold = time.time() + p.get("hold", 0.6)
        while time.time() < hold:
            poll_once()
        out({"assignments": assignments, "assignment": sorted(tp.partition for tp in consumer.assignment())})
        consumer.commit()
        out({"committed": {str(tp.partition): consumer.committed(tp) for tp in tps}})
        if members > 1:
            open(os.path.join(p["barrier"], name), "w").close()
            while len(os.listdir(p["barrier"])) < members:
                if time.time() > deadline:
                    raise RuntimeError("timed out waiting for the other members")
                time.sleep(0.05)
    finally:
        consumer.close(autocommit=False)


def group_offsets(bootstrap, p):
    """KafkaAdminClient: the groups listed, and the committed offsets of p["group"]."""
    client = admin(bootstrap)
    try:
        out({"groups": sorted([g[0], g[1]] for g in client.list_consumer_groups())})
        offsets = client.list_consumer_group_offsets(p["group"])
        out({"offsets": {"%s:%d" % (tp.topic, tp.partition): o.offset for tp, o in sorted(offsets.items())}})
    finally:
        client.close()


def isolation_level_setting(bootstrap, p):
    try:
        KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, isolation_level="read_committed").close()
        out({"isolation_level": "accepted"})
    except KafkaConfigurationError as e:
        out({"isolation_level": "rejected", "error": str(e)})


def end_offsets(bootstrap, p):
    consumer = consumer_for(bootstrap, p)
    try:
        tps = [TopicPartition(p["topic"], n) for n in sorted(consumer.partitions_for_topic(p["topic"]) or [])]
        consumer.assign(tps)
        ends = consumer.end_offsets(tps)
        begins = consumer.beginning_offsets(tps)
        out({"beginning_offsets": {str(tp.partition): begins[tp] for tp in tps},
             "end_offsets": {str(tp.partition): ends[tp] for tp in tps}})
    finally:
        consumer.close(autocommit=False)


def list_topics(bootstrap, p):
    client = admin(bootstrap)
    try:
        out({"topics": sorted(client.list_topics())})
        out({"described": [{"topic": t["topic"], "error_code": t["error_code"], "partitions": len(t["partitions"])}
                           for t in client.describe_topics(p.get("topics"))]})
    finally:
        client.close()


def describe_configs(bootstrap, p):
    client = admin(bootstrap)
    try:
        kind = ConfigResourceType.TOPIC if p["type"] == "topic" else ConfigResourceType.BROKER
        responses = client.describe_configs([ConfigResource(kind, p["name"], p.get("keys"))])
        for response in responses:
            for code, message, rtype, rname, entries in response.resources:
                out({"version": response.API_VERSION, "error_code": code, "resource_type": rtype,
                     "resource_name": rname, "configs": {e[0]: e[1] for e in entries},
                     "read_only": sorted(e[0] for e in entries if e[2])})
    finally:
        client.close()


def alter_configs(bootstrap, p):
    client = admin(bootstrap)
    try:
        kind = ConfigResourceType.TOPIC if p["type"] == "topic" else ConfigResourceType.BROKER
        response = client.alter_configs([ConfigResource(kind, p["name"], configs=p["configs"])])
        for code, message, rtype, rname in response.resources:
            out({"version": response.API_VERSION, "error_code": code, "error_message": message,
                 "resource_type": rtype, "resource_name": rname})
    finally:
        client.close()


def create_partitions(bootstrap, p):
    client = admin(bootstrap)
    try:
        topic_results(p["topic"],
                      lambda: client.create_partitions({p["topic"]: NewPartitions(p["count"])}, timeout_ms=10000))
    finally:
        client.close()


def delete_topic(bootstrap, p):
    client = admin(bootstrap)
    try:
        topic_results(p["topic"], lambda: client.delete_topics([p["topic"]], timeout_ms=10000))
    finally:
        client.close()


COMMANDS = {
    "create-topic": create_topic,
    "produce": produce,
    "consume": consume,
    "group-consume": group_consume,
    "group-offsets": group_offsets,
    "isolation-level-setting": isolation_level_setting,
    "end-offsets": end_offsets,
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
