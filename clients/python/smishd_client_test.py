#!/usr/bin/env python3
"""A client no one on the server side wrote: Python grpcio stubs generated from proto/ at run
time, against the real `smishd serve`.

Starts the daemon on a free loopback port with a rule set written here (so verdicts are known
whatever the shipped rules say), calls Health, Score, ScoreBatch, ScoreStream and reflection-free
error paths, checks the answers, stops the daemon with SIGTERM and checks it exits 0.

Usage: smishd_client_test.py --binary PATH/TO/smishd
"""

import argparse
import importlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_tools import protoc

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

RULES = """
[[rule]]
id = "PY_PARCEL_POSITIVE"
category = "positive_parcel"
weight = 3.0
action = "block"
description = "python client test rule"
all = [["快递", "包裹"], ["阳性"]]
"""

FRAUD = "您的快递检测呈阳性已销毁，请联系客服理赔"
HAM = "明天下午三点开会"

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def generate_stubs(out_dir):
    """Compiles proto/smishd/v1/classifier.proto with grpcio-tools' bundled protoc."""
    os.makedirs(out_dir, exist_ok=True)
    proto_dir = os.path.join(REPO, "proto")
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    rc = protoc.main([
        "grpc_tools.protoc",
        f"-I{proto_dir}",
        f"-I{include}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        os.path.join(proto_dir, "smishd", "v1", "classifier.proto"),
    ])
    if rc != 0:
        raise SystemExit(f"protoc failed with {rc}")
    for d in ("smishd", os.path.join("smishd", "v1")):
        open(os.path.join(out_dir, d, "__init__.py"), "a").close()
    sys.path.insert(0, out_dir)
    pb2 = importlib.import_module("smishd.v1.classifier_pb2")
    pb2_grpc = importlib.import_module("smishd.v1.classifier_pb2_grpc")
    return pb2, pb2_grpc


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(number, payload):
    """One length-delimited protobuf field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def raw_request(id_, text):
    """A ScoreRequest encoded by hand, so `text` can hold any bytes."""
    return field(1, id_.encode()) + field(2, text)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(REPO, "target", "debug", "smishd"))
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        pb2, pb2_grpc = generate_stubs(os.path.join(tmp, "stubs"))
        rules = os.path.join(tmp, "rules")
        os.makedirs(rules)
        with open(os.path.join(rules, "VERSION"), "w") as f:
            f.write("py-1\n")
        with open(os.path.join(rules, "py.toml"), "w", encoding="utf-8") as f:
            f.write(RULES)

        port = free_port()
        addr = f"127.0.0.1:{port}"
        log_path = os.path.join(tmp, "smishd.log")
        log = open(log_path, "w")
        proc = subprocess.Popen(
            [args.binary, "serve", "--listen", addr, "--rules", rules, "--model", "none"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )
        try:
            channel = grpc.insecure_channel(addr)
            health = health_pb2_grpc.HealthStub(channel)
            serving = False
            deadline = time.time() + 30
            while time.time() < deadline and proc.poll() is None:
                try:
                    r = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                    if r.status == health_pb2.HealthCheckResponse.SERVING:
                        serving = True
                        break
                except grpc.RpcError:
                    pass
                time.sleep(0.05)
            check("health: server SERVING", serving)
            if not serving:
                raise SystemExit(1)
            r = health.Check(health_pb2.HealthCheckRequest(service="smishd.v1.Classifier"), timeout=5)
            check("health: smishd.v1.Classifier SERVING",
                  r.status == health_pb2.HealthCheckResponse.SERVING, str(r))

            stub = pb2_grpc.ClassifierStub(channel)
            r = stub.Score(pb2.ScoreRequest(id="py-1", text=FRAUD, sender="10690000"), timeout=5)
            check("Score: id echoed", r.id == "py-1", r.id)
            check("Score: block positive_parcel",
                  (r.verdict, r.category) == ("block", "positive_parcel"), f"{r.verdict} {r.category}")
            check("Score: action enum", r.action == pb2.ACTION_BLOCK, str(r.action))
            check("Score: versions (VERSION+content digest, model)",
                  r.ruleset.startswith("py-1+") and len(r.ruleset) == len("py-1+") + 8
                  and r.model == "rules-only", f"{r.ruleset} {r.model}")
            raw = FRAUD.encode("utf-8")
            spans_ok = bool(r.hits) and all(
                raw[h.start:h.end].decode("utf-8") == h.text for h in r.hits)
            check("Score: hit spans are UTF-8 byte offsets", spans_ok, str(list(r.hits)))
            check("Score: score in [0, 1]", 0.0 <= r.score <= 1.0, str(r.score))

            r = stub.Score(pb2.ScoreRequest(id="py-2", text=HAM), timeout=5)
            check("Score: ham allowed", r.verdict == "allow" and not r.hits, str(r))

            batch = stub.ScoreBatch(pb2.ScoreBatchRequest(requests=[
                pb2.ScoreRequest(id=str(i), text=FRAUD if i % 2 else HAM) for i in range(10)]), timeout=5)
            check("ScoreBatch: order and verdicts",
                  [x.id for x in batch.responses] == [str(i) for i in range(10)]
                  and all(x.verdict == ("block" if int(x.id) % 2 else "allow") for x in batch.responses))

            def requests():
                for i in range(200):
                    yield pb2.ScoreRequest(id=f"s{i}", text=FRAUD if i % 4 == 0 else HAM)

            got = list(stub.ScoreStream(requests(), timeout=30))
            check("ScoreStream: one response per request", len(got) == 200, str(len(got)))
            check("ScoreStream: request order",
                  [x.id for x in got] == [f"s{i}" for i in range(200)])
            check("ScoreStream: verdicts",
                  all(x.verdict == ("block" if int(x.id[1:]) % 4 == 0 else "allow") for x in got))

            try:
                stub.Score(pb2.ScoreRequest(text=""), timeout=5)
                check("Score: empty text refused", False, "no error")
            except grpc.RpcError as e:
                check("Score: empty text refused", e.code() == grpc.StatusCode.INVALID_ARGUMENT, str(e.code()))
            try:
                stub.Score(pb2.ScoreRequest(text="阳" * 30000), timeout=5)
                check("Score: long text refused", False, "no error")
            except grpc.RpcError as e:
                check("Score: long text refused",
                      e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "阳" not in e.details(),
                      f"{e.code()} {e.details()}")

            # Bad messages in the middle of a batch and of a stream: each answered in its place
            # with an error, every other one scored, in order. Invalid UTF-8 cannot be put in a
            # Python string field, so these requests are encoded by hand.
            mixed = [("m0", FRAUD.encode()), ("m1", b""), ("m2", HAM.encode()),
                     ("m3", ("阳" * 30000).encode()), ("m4", b"\xe5\xbf\xab\xff"),
                     ("m5", FRAUD.encode())]
            expected = [None, grpc.StatusCode.INVALID_ARGUMENT, None,
                        grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.INVALID_ARGUMENT, None]
            encoded = [raw_request(i, t) for i, t in mixed]

            def check_mixed(face, answers):
                check(f"{face}: one answer per message, in order",
                      [a.id for a in answers] == [i for i, _ in mixed], str([a.id for a in answers]))
                for a, (i, text), want in zip(answers, mixed, expected):
                    if want is None:
                        ok = not a.HasField("error") and a.verdict == ("allow" if text == HAM.encode() else "block")
                    else:
                        ok = (a.HasField("error") and a.error.code == want.value[0]
                              and a.verdict == "" and "阳" not in a.error.reason)
                    check(f"{face}: message {i}", ok, str(a))

            batch_call = channel.unary_unary(
                "/smishd.v1.Classifier/ScoreBatch",
                request_serializer=lambda b: b,
                response_deserializer=pb2.ScoreBatchResponse.FromString)
            batch = batch_call(b"".join(field(1, r) for r in encoded), timeout=5)
            check_mixed("ScoreBatch with bad messages", list(batch.responses))
            stream_call = channel.stream_stream(
                "/smishd.v1.Classifier/ScoreStream",
                request_serializer=lambda b: b,
                response_deserializer=pb2.ScoreResponse.FromString)
            check_mixed("ScoreStream with bad messages", list(stream_call(iter(encoded), timeout=10)))
            try:
                stub.Score(pb2.ScoreRequest(id="i" * 1000, text=HAM), timeout=5)
                check("Score: long id refused", False, "no error")
            except grpc.RpcError as e:
                check("Score: long id refused", e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, str(e.code()))
            score_call = channel.unary_unary(
                "/smishd.v1.Classifier/Score",
                request_serializer=lambda b: b,
                response_deserializer=pb2.ScoreResponse.FromString)
            try:
                score_call(raw_request("u", b"bad \xff"), timeout=5)
                check("Score: invalid UTF-8 refused", False, "no error")
            except grpc.RpcError as e:
                check("Score: invalid UTF-8 refused", e.code() == grpc.StatusCode.INVALID_ARGUMENT, str(e.code()))
            channel.close()
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = None
            log.close()
        check("SIGTERM: exit 0", rc == 0, f"exit {rc}")
        if failed:
            print(open(log_path).read())

    print(f"python: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
