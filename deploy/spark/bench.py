#!/usr/bin/env python3
"""The Spark job beside one `smishd rescore` process on the same records (BENCHMARKS.md).

    python deploy/spark/bench.py --smishd target/release/smishd [--data ../shared/data]
        [--records 1000000] [--runs 3] [--master 'local[2]'] [--partition-mb 64]

Builds the records as benches/rescore.rs does (the cn_sms_spam and telecom_fraud5 texts,
repeated with distinct ids, a sender on every fourth) in a temporary directory, then, RUNS
times, alternately: `smishd rescore --threads 2` over the file, and the Spark job over the same
file (run with this interpreter, which needs PySpark). Prints each run and the medians: records/s
of rescore, of the Spark job as a whole process (JVM and Spark start included), and of the job
from its own clock (after the Spark session is up). Every run must account for every record.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def build_input(data, records, path):
    texts = []
    for f in ("cn_sms_spam_800k_sample/cn_sms_spam_sample.tsv",
              "telecom_fraud_texts_5/telecom_fraud5.tsv"):
        with open(os.path.join(data, f), encoding="utf-8") as fh:
            for line in fh:
                _, tab, text = line.rstrip("\n").partition("\t")
                if tab:
                    texts.append(text)
    with open(path, "w", encoding="utf-8") as out:
        for i in range(records):
            rec = {"id": f"r{i}", "text": texts[i % len(texts)]}
            if i % 4 == 3:
                rec["sender"] = "10690000"
            out.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":"), sort_keys=True))
            out.write("\n")
    return os.path.getsize(path)


CGROUP = "/sys/fs/cgroup/cpuacct"


def run_measured(cmd, **kw):
    """Runs `cmd`; returns (completed process, wall seconds, CPU seconds of the process and
    everything it started, or None). CPU time comes from a cpuacct cgroup of its own, where
    this machine lets one be made (cgroup v1, as root); the JVM, Python workers and smishd
    processes of a Spark job are all counted."""
    cg = None
    if os.access(CGROUP, os.W_OK):
        cg = os.path.join(CGROUP, f"smishd-bench-{os.getpid()}-{time.monotonic_ns()}")
        os.mkdir(cg)

    def enter():
        with open(os.path.join(cg, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    t = time.monotonic()
    r = subprocess.run(cmd, preexec_fn=enter if cg else None, capture_output=True, text=True,
                       **kw)
    wall = time.monotonic() - t
    cpu = None
    if cg:
        with open(os.path.join(cg, "cpuacct.usage")) as f:
            cpu = int(f.read()) / 1e9
        for _ in range(50):  # stragglers of the job (Python daemon) leave within moments
            try:
                os.rmdir(cg)
                break
            except OSError:
                time.sleep(0.1)
    return r, wall, cpu


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--smishd", required=True)
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--master", default="local[2]")
    p.add_argument("--partition-mb", default="64")
    a = p.parse_args()

    tmp = tempfile.mkdtemp(prefix="smishd-spark-bench-")
    try:
        src = os.path.join(tmp, "in.jsonl")
        size = build_input(a.data, a.records, src)
        print(f"input: {a.records} records, {size / 1e6:.1f} MB; {a.runs} runs; "
              f"{os.cpu_count()} cores online; load average {os.getloadavg()[0]:.1f}")
        rescore, whole, own, cpu_rescore, cpu_spark = [], [], [], [], []
        for run in range(1, a.runs + 1):
            r, secs, cpu = run_measured([a.smishd, "rescore", "--threads", "2", "--input", src,
                                         "--output", os.path.join(tmp, "ref.jsonl")])
            if r.returncode != 0 or f"read {a.records}, scored {a.records}," not in r.stderr:
                sys.exit(f"rescore run {run} failed: {r.stderr}")
            rescore.append(a.records / secs)
            cpu_rescore.append(cpu)

            out = os.path.join(tmp, "out")
            shutil.rmtree(out, ignore_errors=True)
            r, job_secs, cpu = run_measured(
                [sys.executable, os.path.join(HERE, "rescore_job.py"), "--master", a.master,
                 "--smishd", a.smishd, "--input", src, "--output", os.path.join(out, "v"),
                 "--rejects", os.path.join(out, "r"), "--partition-mb", a.partition_mb,
                 "--conf", "spark.ui.enabled=false",
                 "--conf", "spark.ui.showConsoleProgress=false"],
                env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"})
            counted = f"read {a.records} = scored {a.records} + rejected 0"
            m = re.search(r"rescore_job: .* (\d+) partitions, ([\d.]+) s,", r.stderr)
            if r.returncode != 0 or counted not in r.stdout or not m:
                sys.exit(f"spark run {run} failed:\n{r.stdout}\n{r.stderr[-3000:]}")
            whole.append(a.records / job_secs)
            own.append(a.records / float(m.group(2)))
            cpu_spark.append(cpu)
            cpu_text = ""
            if cpu is not None:
                cpu_text = f"; CPU s: rescore {cpu_rescore[-1]:.1f}, spark job {cpu:.1f}"
            print(f"run {run}: rescore {rescore[-1]:,.0f} records/s; spark job "
                  f"{whole[-1]:,.0f} records/s whole process ({job_secs:.1f} s), "
                  f"{own[-1]:,.0f} records/s after Spark's start ({m.group(2)} s, "
                  f"{m.group(1)} partitions){cpu_text}; {counted}", flush=True)
        med = statistics.median
        print(f"median: rescore {med(rescore):,.0f} records/s; spark job {med(whole):,.0f} "
              f"records/s whole process, {med(own):,.0f} records/s after Spark's start")
        if None not in cpu_rescore + cpu_spark:
            cr, cs = med(cpu_rescore), med(cpu_spark)
            print(f"median CPU: rescore {cr:.1f} s, spark job {cs:.1f} s ({cs / cr:.1f}x); "
                  f"rate on 2 otherwise idle cores, estimated from CPU time: rescore "
                  f"{a.records / (cr / 2):,.0f} records/s, spark job {a.records / (cs / 2):,.0f}"
                  " records/s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
