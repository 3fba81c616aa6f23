#!/usr/bin/env python3
"""Rescore message logs on Apache Spark with the real smishd binary.

Every partition of the input is piped through one `smishd rescore --input - --output -`
process on the executor that holds it. Verdicts (the contract's JSON, one line per good record,
in input order within each part file) go to --output; rejected records (file, line, id when
known, reason: never the text) go to --rejects; the job ends by printing

    read N = scored S + rejected R

over the whole job. A bad record is a reject, not a failure. A partition where smishd cannot
score at all (bad rules or model, a crash, a count that does not reconcile) fails its task, and
so the job, and nothing is left at --output or --rejects.

Local test:
    python deploy/spark/rescore_job.py --master 'local[2]' --smishd target/release/smishd \\
        --input logs.jsonl --output out/verdicts --rejects out/rejects

On a cluster, unchanged (the binary must be built for the executors' OS and CPU):
    spark-submit --master yarn --deploy-mode cluster deploy/spark/rescore_job.py \\
        --smishd ./smishd --input 'hdfs:///logs/2026-10-*.jsonl.gz' \\
        --output hdfs:///verdicts/2026-10 --rejects hdfs:///rejects/2026-10

See deploy/README.md for partition sizing and figures.
"""

import argparse
import itertools
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from pyspark import SparkFiles
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

# What a task emits: blocks of lines, each tagged by its first byte: verdicts, rejects, the
# partition's counts. Blocks, not lines, cross from Python to the JVM, which splits them.
VERDICT, REJECT, TALLY = "v", "r", "t"
# Bytes of smishd's output read at a time (whole lines are passed on, the rest kept).
BLOCK = 1 << 20
# Lines handed to smishd per write: large enough that Python's per-call cost vanishes.
BATCH = 4096
SUMMARY = re.compile(r"^smishd: read (\d+), scored (\d+), rejected (\d+)", re.M)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Rescore message logs on Spark with smishd, one process per partition."
    )
    p.add_argument("--smishd", required=True, help="the smishd binary (a path the driver can read)")
    p.add_argument(
        "--input", required=True, action="append",
        help="file, directory or glob on any Hadoop filesystem (.gz read compressed); repeatable",
    )
    p.add_argument("--output", required=True, help="directory for the verdicts (must not exist)")
    p.add_argument("--rejects", required=True, help="directory for the rejects (must not exist)")
    p.add_argument("--rules", help="rule directory to ship instead of the compiled-in rule set")
    p.add_argument("--model", help="model file to ship instead of the compiled-in model")
    p.add_argument("--format", choices=["jsonl", "csv", "tsv"], default="jsonl")
    p.add_argument("--master", help="Spark master (omit under spark-submit)")
    p.add_argument(
        "--partition-mb", type=float, default=64.0,
        help="largest partition of an uncompressed file, in MiB [64]; a .gz file is one partition",
    )
    p.add_argument(
        "--threads", type=int,
        help="scoring threads per smishd process [spark.task.cpus, 1 by default]",
    )
    p.add_argument(
        "--compression", default="none",
        help="codec for the verdict files: none, gzip, bzip2, zstd, ... [none]",
    )
    p.add_argument("--overwrite", action="store_true", help="replace --output and --rejects")
    p.add_argument(
        "--conf", action="append", default=[], metavar="KEY=VALUE",
        help="a Spark setting, as spark-submit's --conf (when run with python directly)",
    )
    return p.parse_args(argv)


class Hadoop:
    """The few Hadoop filesystem calls the driver needs, through Spark's JVM."""

    def __init__(self, sc):
        self.jvm = sc._jvm
        self.conf = sc._jsc.hadoopConfiguration()

    def path(self, s):
        return self.jvm.org.apache.hadoop.fs.Path(s)

    def fs(self, p):
        return p.getFileSystem(self.conf)

    def exists(self, s):
        p = self.path(s)
        return self.fs(p).exists(p)

    def delete(self, s):
        p = self.path(s)
        self.fs(p).delete(p, True)

    def mkdirs(self, s):
        p = self.path(s)
        self.fs(p).mkdirs(p)

    def rename(self, src, dst):
        a, b = self.path(src), self.path(dst)
        if not self.fs(a).rename(a, b):
            raise RuntimeError(f"cannot move {src} to {dst}")

    def touch(self, s):
        p = self.path(s)
        self.fs(p).create(p, True).close()

    def files(self, pattern):
        """(path, length) of every file the pattern names, directories listed one level deep,
        hidden and `_` files skipped as Hadoop does, sorted by path."""
        p = self.path(pattern)
        statuses = self.fs(p).globStatus(p)
        if statuses is None or len(statuses) == 0:
            raise SystemExit(f"rescore_job: no input matches {pattern}")
        found = []
        for st in statuses:
            if st.isDirectory():
                for child in self.fs(st.getPath()).listStatus(st.getPath()):
                    name = child.getPath().getName()
                    if child.isFile() and not name.startswith((".", "_")):
                        found.append((child.getPath().toString(), child.getLen()))
            else:
                found.append((st.getPath().toString(), st.getLen()))
        return sorted(found)


def local_executable(name):
    """The shipped binary on this executor, made executable if the fetch lost the bit."""
    path = SparkFiles.get(name)
    if os.access(path, os.X_OK):
        return path, None
    tmp = tempfile.mkdtemp(prefix="smishd-bin-")
    copy = os.path.join(tmp, name)
    shutil.copyfile(path, copy)
    os.chmod(copy, 0o755)
    return copy, tmp


def make_scorer(cfg, parts):
    """The per-partition function. `parts[i]` = (file index, first split of its file?)."""

    def score(index, lines):
        file_index, first_split = parts[index]
        exe, bin_tmp = local_executable(cfg["binary"])
        work = tempfile.mkdtemp(prefix="smishd-part-")
        rejects_path = os.path.join(work, "rejects.jsonl")
        err_path = os.path.join(work, "stderr")
        cmd = [exe, "rescore", "--input", "-", "--output", "-", "--format", cfg["format"],
               "--rejects", rejects_path, "--accept-rejects", "--threads", str(cfg["threads"])]
        if cfg["rules"]:
            cmd += ["--rules", SparkFiles.get(cfg["rules"])]
        if cfg["model"] == "none":
            cmd += ["--model", "none"]
        elif cfg["model"]:
            cmd += ["--model", SparkFiles.get(cfg["model"])]
        header = cfg["header"]
        # Stream line k (1-based) is partition line k, except where a header was put in front
        # of a later split of a CSV/TSV file: then it is partition line k - 1.
        shift = 0
        counts = {"lines": 0, "sent": 0}
        failure = []
        proc = None
        try:
            with open(err_path, "wb") as err:
                proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=err)

            def feed():
                try:
                    it = iter(lines)
                    if header is not None:
                        if first_split:
                            first = next(it, None)
                            if first is not None:
                                counts["lines"] += 1
                                if first != header:
                                    raise ValueError(
                                        f"{cfg['files'][file_index]}: its header differs from "
                                        "the first input file's")
                        proc.stdin.write(header.encode("utf-8") + b"\n")
                    while True:
                        chunk = list(itertools.islice(it, BATCH))
                        if not chunk:
                            break
                        counts["lines"] += len(chunk)
                        counts["sent"] += len(chunk)
                        proc.stdin.write(("\n".join(chunk) + "\n").encode("utf-8"))
                except BrokenPipeError:
                    pass  # smishd ended early; its exit status says why
                except BaseException as e:  # noqa: BLE001 - re-raised by the task thread
                    failure.append(e)
                finally:
                    try:
                        proc.stdin.close()
                    except BrokenPipeError:
                        pass

            if header is not None and not first_split:
                shift = 1
            writer = threading.Thread(target=feed, daemon=True)
            writer.start()
            scored = 0
            rest = b""
            while True:
                data = proc.stdout.read1(BLOCK)
                if not data:
                    break
                data = rest + data
                end = data.rfind(b"\n") + 1
                rest = data[end:]
                if end:
                    scored += data.count(b"\n", 0, end)
                    yield VERDICT.encode() + data[:end - 1]
            if rest:
                raise RuntimeError(f"partition {index}: smishd's output ended inside a line")
            writer.join()
            code = proc.wait()
            if failure:
                raise RuntimeError(f"partition {index}: {failure[0]}")
            with open(err_path, "rb") as f:
                err_text = f.read().decode("utf-8", "replace")
            if code != 0:
                tail = "\n".join(err_text.strip().splitlines()[-5:])
                raise RuntimeError(
                    f"smishd could not score partition {index} ({cfg['files'][file_index]}): "
                    f"exit status {code}\n{tail}")
            rejected, block = 0, []
            with open(rejects_path, "rb") as f:
                for raw in f:
                    r = json.loads(raw)
                    line = r["line"] - shift
                    if header is not None and line <= 0:
                        raise RuntimeError(f"smishd rejected the header of partition {index}")
                    rejected += 1
                    out = {"p": index, "line": line, "reason": r["reason"]}
                    if "id" in r:
                        out["id"] = r["id"]
                    block.append(json.dumps(out, ensure_ascii=False, separators=(",", ":")))
                    if len(block) == BATCH:
                        yield (REJECT + "\n".join(block)).encode("utf-8")
                        block = []
            if block:
                yield (REJECT + "\n".join(block)).encode("utf-8")
            sent = counts["sent"]
            m = SUMMARY.search(err_text)
            reported = tuple(int(x) for x in m.groups()) if m else None
            if sent != scored + rejected or (reported and reported != (sent, scored, rejected)):
                hint = ""
                if header is not None:
                    hint = ("; a quoted CSV/TSV field spanning lines cannot be split by Spark: "
                            "convert such input to JSONL")
                raise RuntimeError(
                    f"partition {index}: sent {sent} records but got {scored} verdicts and "
                    f"{rejected} rejects (smishd reported {reported}){hint}")
            yield (TALLY + json.dumps({"p": index, "lines": counts["lines"], "read": sent,
                                       "scored": scored, "rejected": rejected})).encode("utf-8")
        finally:
            # A task cancelled mid-partition (a failed sibling, speculation) ends its smishd too.
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
            shutil.rmtree(work, ignore_errors=True)
            if bin_tmp:
                shutil.rmtree(bin_tmp, ignore_errors=True)

    return score


def partitioned_write(spark, blocks, compression, path):
    """Writes the tasks' tagged blocks in one pass, one directory per kind (`kind=v` ...).

    The blocks go from Python to the JVM as UTF-8 bytes and become strings there, as in
    `RDD.saveAsTextFile`, and the JVM splits them into lines: Python never handles an output
    line on its own (building rows in Python costs more than the scoring). With a writer per
    kind open at once, Spark does not sort the rows, so each verdict file keeps its
    partition's input order.
    """
    sc = spark.sparkContext
    blocks._bypass_serializer = True
    strings = blocks._jrdd.map(sc._jvm.BytesToString())
    encoder = sc._jvm.org.apache.spark.sql.Encoders.STRING()
    jdf = spark._jsparkSession.createDataset(strings.rdd(), encoder).toDF()
    lines = F.explode(F.split(F.expr("substring(value, 2)"), "\n")).alias("value")
    (DataFrame(jdf, spark)
     .select(F.substring("value", 1, 1).alias("kind"), lines)
     .write.partitionBy("kind").option("compression", compression).text(path))


def run(args):
    builder = SparkSession.builder.appName("smishd-rescore")
    if args.master:
        builder = builder.master(args.master)
        if args.master.startswith("local"):
            # Local workers run this interpreter (the venv with PySpark), not whatever
            # `python3` is first on PATH.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # Verdicts, rejects and counts leave each task through one partitioned write, unsorted.
    builder = builder.config("spark.sql.maxConcurrentOutputFileWriters", "3")
    for kv in args.conf:
        key, sep, value = kv.partition("=")
        if not sep:
            raise SystemExit(f"rescore_job: --conf {kv}: expected KEY=VALUE")
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    sc = spark.sparkContext
    hadoop = Hadoop(sc)
    start = time.monotonic()

    for d in (args.output, args.rejects):
        if hadoop.exists(d):
            if not args.overwrite:
                raise SystemExit(f"rescore_job: {d} exists (--overwrite replaces it)")
            hadoop.delete(d)

    names = set()

    def ship(path, recursive=False):
        name = os.path.basename(os.path.normpath(path))
        if name in names:
            raise SystemExit(f"rescore_job: two shipped files are named {name}: rename one")
        names.add(name)
        sc.addFile(path, recursive=recursive)
        return name

    binary = ship(args.smishd)
    rules = ship(args.rules, recursive=True) if args.rules else None
    # `--model none` (rules and links alone) is smishd's own value, not a file to ship.
    model = args.model if args.model in (None, "none") else ship(args.model)

    files = sorted({f for pattern in args.input for f in hadoop.files(pattern)})
    total_bytes = sum(length for _, length in files)
    split = args.partition_mb * (1 << 20)
    # At least one partition per core for a small input, so every core scores.
    split = max(1 << 20, min(split, math.ceil(total_bytes / max(1, sc.defaultParallelism))))
    rdds, parts = [], []
    for i, (path, length) in enumerate(files):
        rdd = sc.textFile(path, minPartitions=max(1, math.ceil(length / split)))
        n = rdd.getNumPartitions()
        rdds.append(rdd)
        parts.extend((i, j == 0) for j in range(n))
    lines = sc.union(rdds) if len(rdds) > 1 else rdds[0]
    assert lines.getNumPartitions() == len(parts)

    header = None
    if args.format in ("csv", "tsv"):
        header = rdds[0].first() if files else None

    threads = args.threads or int(sc.getConf().get("spark.task.cpus", "1"))
    cfg = {"binary": binary, "rules": rules, "model": model, "format": args.format,
           "threads": threads, "header": header, "files": [f for f, _ in files]}
    tagged = lines.mapPartitionsWithIndex(make_scorer(cfg, parts))

    parent = hadoop.path(args.output).getParent()
    staging = parent.toString() + f"/.{hadoop.path(args.output).getName()}.staging-{sc.applicationId}"
    try:
        partitioned_write(spark, tagged, args.compression, staging)

        tallies = sorted((json.loads(t) for t in sc.textFile(f"{staging}/kind={TALLY}").collect()),
                         key=lambda t: t["p"])
        if [t["p"] for t in tallies] != list(range(len(parts))):
            raise RuntimeError("a partition left no count: the run is incomplete")
        # Line offsets: lines of the earlier partitions of the same file.
        offsets, seen = [], {}
        for t, (file_index, _) in zip(tallies, parts):
            offsets.append(seen.get(file_index, 0))
            seen[file_index] = seen.get(file_index, 0) + t["lines"]
        read = sum(t["read"] for t in tallies)
        scored = sum(t["scored"] for t in tallies)
        rejected = sum(t["rejected"] for t in tallies)

        file_names, parts_b, offsets_b = cfg["files"], parts, offsets

        def locate(text):
            r = json.loads(text)
            p = r["p"]
            out = {"file": file_names[parts_b[p][0]], "line": offsets_b[p] + r["line"]}
            if "id" in r:
                out["id"] = r["id"]
            out["reason"] = r["reason"]
            return json.dumps(out, ensure_ascii=False, separators=(",", ":"))

        if rejected:
            sc.textFile(f"{staging}/kind={REJECT}").map(locate).saveAsTextFile(args.rejects)
        else:
            sc.parallelize([], 1).saveAsTextFile(args.rejects)
        if scored:
            hadoop.rename(f"{staging}/kind={VERDICT}", args.output)
        else:
            hadoop.mkdirs(args.output)
        hadoop.touch(f"{args.output}/_SUCCESS")
    finally:
        hadoop.delete(staging)

    elapsed = time.monotonic() - start
    print(f"read {read} = scored {scored} + rejected {rejected}")
    print(f"rescore_job: {len(files)} files, {len(parts)} partitions, {elapsed:.1f} s, "
          f"{read / max(elapsed, 1e-9):.0f} records/s", file=sys.stderr)
    spark.stop()
    if read != scored + rejected:
        raise SystemExit(f"rescore_job: read {read} != scored {scored} + rejected {rejected}")


def main(argv=None):
    run(parse_args(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
