#!/usr/bin/env python3
"""Input and checks for deploy/spark/ci_test.sh (standard library only).

make TSV DIR: writes DIR/logs/a.jsonl and DIR/logs/b.jsonl.gz (the labelled TSV as JSONL with
ids, bad lines mixed in) and DIR/all.jsonl, the same lines in one file for the reference run.

make-tsv TSV DIR / compare-tsv DIR: the same for a TSV file with a header (DIR/tsv/).

compare DIR JOB_STDOUT: the Spark job's verdicts and rejects against one `smishd rescore`
process over DIR/all.jsonl (DIR/ref.jsonl, DIR/ref_rejects.jsonl). Exits 1, loudly, on any
difference.
"""

import glob
import gzip
import json
import os
import re
import sys

# Bad lines, each with the reason smishd gives it; none holds message text.
BAD = [
    ("xqzw not json at all", "not JSON"),
    ('{"id":"bad-no-text"}', "no text field"),
    ('{"id":"bad-empty","text":""}', "text is empty"),
    ('{"id":"bad-number","text":42}', "text is not a string"),
    ("", "empty line"),
    ("[1,2,3]", "not a JSON object"),
    ('{"id":"bad-trunc","text":"xqzw unterminated', "not JSON"),
]
EVERY = 997  # a bad line after every EVERY good ones, cycling through BAD


def make(tsv, out):
    lines, expected_bad = [], 0
    with open(tsv, encoding="utf-8") as f:
        for n, row in enumerate(f, 1):
            label, _, text = row.rstrip("\n").partition("\t")
            rec = {"id": f"r{n:07d}", "text": text}
            if n % 3 == 0:
                rec["sender"] = "1069000" + str(n % 1000)
            lines.append(json.dumps(rec, ensure_ascii=False))
            if n % EVERY == 0:
                lines.append(BAD[expected_bad % len(BAD)][0])
                expected_bad += 1
    os.makedirs(os.path.join(out, "logs"), exist_ok=True)
    half = len(lines) // 2
    with open(os.path.join(out, "logs", "a.jsonl"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines[:half]) + "\n")
    with gzip.open(os.path.join(out, "logs", "b.jsonl.gz"), "wt", encoding="utf-8") as f:
        f.write("\n".join(lines[half:]) + "\n")
    with open(os.path.join(out, "all.jsonl"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "split.json"), "w") as f:
        json.dump({"a_lines": half, "lines": len(lines), "bad": expected_bad}, f)
    print(f"input: {len(lines)} lines ({expected_bad} bad) in a.jsonl ({half}) and b.jsonl.gz")


def make_tsv(tsv, out, n=30000):
    """DIR/tsv/in.tsv: a header, then `id<TAB>text` rows (quotes dropped: a quoted field may
    span lines, which Spark cannot split), an empty text every 4,999 rows."""
    rows, bad = ["id\ttext"], 0
    with open(tsv, encoding="utf-8") as f:
        for i, row in enumerate(f):
            if i == n:
                break
            rows.append(f"t{i:06d}\t" + row.rstrip("\n").partition("\t")[2].replace('"', ""))
            if i % 4999 == 4998:
                rows.append(f"bad{i}\t")
                bad += 1
    os.makedirs(os.path.join(out, "tsv"), exist_ok=True)
    with open(os.path.join(out, "tsv", "in.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
    print(f"tsv input: {len(rows) - 1} rows ({bad} with an empty text) after a header")


def compare_tsv(d):
    """The job's TSV verdicts and rejects against the reference run's (DIR/tsv/ref*.jsonl)."""
    t = os.path.join(d, "tsv")
    ref = {json.loads(x)["id"]: x.rstrip("\n") for x in open(os.path.join(t, "ref.jsonl"))}
    got = {}
    for _, lines in read_lines(os.path.join(t, "out", "verdicts", "part-*")):
        got.update((json.loads(x)["id"], x) for x in lines)
    parts = len(glob.glob(os.path.join(t, "out", "verdicts", "part-*")))
    rejects = [json.loads(x) for _, lines in read_lines(os.path.join(t, "out", "rejects", "part-*"))
               for x in lines]
    mine = sorted((x["line"], x["reason"], x.get("id")) for x in rejects)
    theirs = sorted((x["line"], x["reason"], x.get("id"))
                    for x in map(json.loads, open(os.path.join(t, "ref_rejects.jsonl"))))
    ok = got == ref and mine == theirs and len(mine) > 0 and parts > 1
    print(f"{'ok  ' if ok else 'FAIL'} tsv, header in front of every partition: {len(got)} verdicts "
          f"in {parts} files identical to the reference ({len(ref)}); rejects at the same lines "
          f"({len(mine)} vs {len(theirs)})")
    if not ok:
        print("SPARK JOB CHECK FAILED: tsv", file=sys.stderr)
        sys.exit(1)


def read_lines(pattern):
    out = []
    for path in sorted(glob.glob(pattern)):
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as f:
            out.append((path, [line.rstrip("\n") for line in f]))
    return out


def compare(d, job_stdout):
    split = json.load(open(os.path.join(d, "split.json")))
    failures = []

    def check(ok, what):
        print(f"{'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            failures.append(what)

    ref = {}
    for line in open(os.path.join(d, "ref.jsonl"), encoding="utf-8"):
        ref[json.loads(line)["id"]] = line.rstrip("\n")
    ref_rejects = [json.loads(x) for x in open(os.path.join(d, "ref_rejects.jsonl"))]

    got, order_ok, part_files = {}, True, 0
    for path, lines in read_lines(os.path.join(d, "out", "verdicts", "part-*")):
        part_files += 1
        ids = [json.loads(x)["id"] for x in lines]
        order_ok &= ids == sorted(ids)
        for i, line in zip(ids, lines):
            if i in got:
                failures.append(f"id {i} scored twice")
            got[i] = line
    rejects = []
    for _, lines in read_lines(os.path.join(d, "out", "rejects", "part-*")):
        rejects += [json.loads(x) for x in lines]

    m = re.search(r"^read (\d+) = scored (\d+) \+ rejected (\d+)$", open(job_stdout).read(), re.M)
    check(m is not None, "the job printed 'read N = scored S + rejected R'")
    n, s, r = (int(x) for x in m.groups()) if m else (-1, -1, -1)
    print(f"     job: read {n} = scored {s} + rejected {r}; reference: scored {len(ref)}, "
          f"rejected {len(ref_rejects)}; input lines {split['lines']}")
    check(n == split["lines"] and n == s + r, "every input line accounted for (read = lines)")
    check(s == len(got) == len(ref), "verdict counts: job's count = its files = reference")
    check(r == len(rejects) == len(ref_rejects) == split["bad"],
          "reject counts: job's count = its files = reference = bad lines written")
    same = sum(1 for k, v in got.items() if ref.get(k) == v)
    differ = sorted(k for k in set(got) | set(ref) if got.get(k) != ref.get(k))
    for k in differ[:3]:
        print(f"     id {k}: job {str(got.get(k))[:160]}\n     {'':{len(k) + 4}}ref {str(ref.get(k))[:160]}")
    check(set(got) == set(ref) and same == len(ref),
          f"verdicts identical to one rescore process, compared by id ({same} of {len(ref)})")
    check(order_ok and part_files > 2, f"{part_files} verdict files, each in input order")

    # Rejects: file and line in the job map to the line in the concatenation.
    def whole_line(rej):
        line = rej["line"]
        return line if rej["file"].endswith("/a.jsonl") else split["a_lines"] + line

    mine = sorted((whole_line(x), x["reason"], x.get("id")) for x in rejects)
    theirs = sorted((x["line"], x["reason"], x.get("id")) for x in ref_rejects)
    check(mine == theirs, "rejects: same file lines, reasons and ids as the reference")
    check(not any("xqzw" in json.dumps(x) for x in rejects), "rejects hold no text")
    if failures:
        print(f"SPARK JOB CHECK FAILED: {len(failures)} check(s): {failures}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "make":
        make(sys.argv[2], sys.argv[3])
    elif cmd == "compare":
        compare(sys.argv[2], sys.argv[3])
    elif cmd == "make-tsv":
        make_tsv(sys.argv[2], sys.argv[3])
    elif cmd == "compare-tsv":
        compare_tsv(sys.argv[2])
    else:
        sys.exit(f"unknown command {cmd}")
