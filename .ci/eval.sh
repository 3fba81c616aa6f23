#!/usr/bin/env bash
# The shipped model's figures on the validation split (texts `smishd train` held out), with the
# aims of the project as gates: a regression below them fails CI. When the development set of
# real quoted messages (DATA_DIR/real_quotes_dev) is present, its scam rows must be detected and
# its real notices must pass.
# usage: .ci/eval.sh SMISHD DATA_DIR
set -euo pipefail
bin=$1
data=$2
python3 - "$bin" "$data" <<'PY'
import json, subprocess, sys
bin, data = sys.argv[1], sys.argv[2]

def ev(path, *extra):
    out = subprocess.run([bin, "eval", "--holdout", "--json", "--data", f"{data}/{path}", *extra],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["total"]

failures = []
def gate(name, value, op, limit):
    ok = value >= limit if op == ">=" else value <= limit
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {value:.4f} (aim {op} {limit})")
    if not ok:
        failures.append(name)

covid = ev("telecom_fraud_texts_5/covid_related_subset.tsv")
telecom = ev("telecom_fraud_texts_5/telecom_fraud5.tsv")
cn = ev("cn_sms_spam_800k_sample/cn_sms_spam_sample.tsv")
fbs = ev("fbs_spam_sms_ccs20/fbs_sms.tsv", "--unique")
uci = ev("uci_sms_spam/SMSSpamCollection.tsv")
keys = ["rows", "fraud_rows", "fraud_detected", "legit_rows", "legit_called_fraud", "spam_rows",
        "spam_called_fraud", "spam_recognised"]
for name, r in [("covid subset", covid), ("telecom_fraud5", telecom), ("cn sms", cn),
                ("fbs (unique texts)", fbs), ("uci", uci)]:
    print(f"{name}: " + ", ".join(f"{k} {r[k]}" for k in keys))

gate("covid subset: fraud detected", covid["detection_rate"], ">=", 0.95)
gate("telecom_fraud5: fraud detected", telecom["detection_rate"], ">=", 0.95)
gate("telecom_fraud5: normal called fraud", telecom["legit_false_positive_rate"], "<=", 0.005)
gate("cn sms: ham called fraud", cn["legit_false_positive_rate"], "<=", 0.001)
gate("cn sms: spam called fraud", cn["spam_called_fraud_rate"], "<=", 0.01)
gate("fbs: FR detected (unique texts)", fbs["detection_rate"], ">=", 0.80)
gate("uci: ham called fraud", uci["legit_false_positive_rate"], "<=", 0.01)

# Real quoted messages: score the message-like rows (a paraphrase or a bare URL is not a message).
import csv, os
quotes = f"{data}/real_quotes_dev/quotes.tsv"
if os.path.exists(quotes):
    fraud_cats = {"close_contact_red_code", "positive_parcel", "paid_fast_test", "miracle_drug",
                  "generic_fraud"}
    scam = detected = notices = flagged = 0
    with open(quotes, encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["kind"] in ("paraphrase", "scam_url_verbatim"):
                continue
            out = subprocess.run([bin, "score", "--json", row["text"]], check=True,
                                 capture_output=True, text=True).stdout
            v = json.loads(out)
            hit = v["verdict"] in ("flag", "block") and v["category"] in fraud_cats
            if row["label"] == "legit_covid_notice":
                notices += 1
                flagged += hit
            else:
                scam += 1
                detected += hit
    print(f"real_quotes_dev: scam rows {scam}, detected {detected}; notices {notices}, flagged {flagged}")
    gate("real_quotes_dev: scam rows detected", detected / max(scam, 1), ">=", 0.85)
    gate("real_quotes_dev: real notices flagged", flagged, "<=", 0)
else:
    print(f"real_quotes_dev: not found under {data}, gate skipped")
sys.exit(1 if failures else 0)
PY
