#!/usr/bin/env bash
# The Spark job in local mode against one `smishd rescore` process, over the cn_sms_spam sample
# turned into JSONL (two files, one gzipped, bad lines mixed in): every record accounted for,
# verdicts identical by id, rejects at the same lines for the same reasons. The same for a TSV
# with a header split over several partitions. Then a rule set smishd cannot load must fail
# the job and leave no output. Exits non-zero on any difference.
# usage: deploy/spark/ci_test.sh SMISHD DATA_DIR
# Needs Java 17 (skipped, with a line saying so, when there is no java); installs
# deploy/requirements.txt into a venv (target/deploy-venv, or $SMISHD_DEPLOY_VENV).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
data=$2

if ! command -v java >/dev/null 2>&1; then
    echo "SKIPPED: the Spark job test: no java on PATH (PySpark 4 needs Java 17)"
    exit 0
fi
venv="${SMISHD_DEPLOY_VENV:-$repo/target/deploy-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$repo/deploy/requirements.txt"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 "$here/ci_check.py" make "$data/cn_sms_spam_800k_sample/cn_sms_spam_sample.tsv" "$tmp"

# Loopback only, no web UI, no progress bars in the CI log.
export SPARK_LOCAL_IP=127.0.0.1
job=("$venv/bin/python" "$here/rescore_job.py" --master 'local[2]' --smishd "$bin"
     --conf spark.ui.enabled=false --conf spark.ui.showConsoleProgress=false)

echo "-- spark job, local[2], partitions of at most 2 MiB"
start=$(date +%s)
if ! "${job[@]}" --input "$tmp/logs/*" --output "$tmp/out/verdicts" --rejects "$tmp/out/rejects" \
        --partition-mb 2 >"$tmp/job.out" 2>"$tmp/job.err"; then
    tail -n 40 "$tmp/job.err"
    echo "FAIL: the Spark job failed"
    exit 1
fi
cat "$tmp/job.out"
grep '^rescore_job:' "$tmp/job.err" || true
echo "   ($(($(date +%s) - start)) s including Spark's start)"

echo "-- reference: one smishd rescore process over the same lines"
status=0
"$bin" rescore --input "$tmp/all.jsonl" --output "$tmp/ref.jsonl" \
    --rejects "$tmp/ref_rejects.jsonl" || status=$?
if [ "$status" -ne 1 ]; then
    echo "FAIL: the reference rescore exited $status (expected 1: the bad lines are rejected)"
    exit 1
fi
python3 "$here/ci_check.py" compare "$tmp" "$tmp/job.out"

echo "-- TSV with a header, partitions of at most 1 MiB, against one rescore process"
python3 "$here/ci_check.py" make-tsv "$data/cn_sms_spam_800k_sample/cn_sms_spam_sample.tsv" "$tmp"
if ! "${job[@]}" --input "$tmp/tsv/in.tsv" --format tsv --output "$tmp/tsv/out/verdicts" \
        --rejects "$tmp/tsv/out/rejects" --partition-mb 1 >"$tmp/tsv/job.out" 2>"$tmp/tsv/job.err"; then
    tail -n 40 "$tmp/tsv/job.err"
    echo "FAIL: the Spark job failed on TSV input"
    exit 1
fi
cat "$tmp/tsv/job.out"
status=0
"$bin" rescore --input "$tmp/tsv/in.tsv" --output "$tmp/tsv/ref.jsonl" \
    --rejects "$tmp/tsv/ref_rejects.jsonl" || status=$?
if [ "$status" -ne 1 ]; then
    echo "FAIL: the reference rescore of the TSV exited $status (expected 1)"
    exit 1
fi
python3 "$here/ci_check.py" compare-tsv "$tmp"

echo "-- a rule set smishd cannot load fails the job and leaves no output"
cp -r "$repo/rules" "$tmp/bad-rules"
printf 'this is [not TOML\n' >"$tmp/bad-rules/zz_broken.toml"
if "${job[@]}" --input "$tmp/logs/a.jsonl" --rules "$tmp/bad-rules" \
        --output "$tmp/bad/verdicts" --rejects "$tmp/bad/rejects" >"$tmp/bad.out" 2>"$tmp/bad.err"; then
    echo "FAIL: the job succeeded with a broken rule set"
    exit 1
fi
if ! grep -q 'smishd could not score partition' "$tmp/bad.err"; then
    tail -n 40 "$tmp/bad.err"
    echo "FAIL: the job failed, but not because smishd could not score"
    exit 1
fi
if [ -e "$tmp/bad/verdicts" ] || [ -e "$tmp/bad/rejects" ] || ls -A "$tmp/bad" 2>/dev/null | grep -q .; then
    ls -laR "$tmp/bad"
    echo "FAIL: a failed job left output behind"
    exit 1
fi
if grep -q '^read ' "$tmp/bad.out"; then
    echo "FAIL: a failed job printed a count"
    exit 1
fi
echo "ok   the job failed (smishd could not score), no output left, no count printed"
echo "Spark job: all checks passed"
