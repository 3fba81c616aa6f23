#!/usr/bin/env python3
"""Builds the fuzzers' seed corpus from the project's own examples: every rule's hit and miss
examples, every whole-message case, the fixture messages, and the rule files themselves.

Usage: python3 fuzz/make_corpus.py   (writes fuzz/corpus/<target>/, which git ignores)
"""
import hashlib
import pathlib
import tomllib

root = pathlib.Path(__file__).resolve().parent.parent
corpus = root / "fuzz" / "corpus"
texts = []
for path in sorted((root / "rules").glob("*.toml")):
    data = tomllib.loads(path.read_text())
    for rule in data.get("rule", []):
        texts += rule.get("hit", []) + rule.get("miss", [])
    texts += [case["text"] for case in data.get("case", [])]
for path in sorted((root / "tests" / "fixtures" / "messages").glob("*.txt")):
    for block in path.read_text().split("\n---\n"):
        if "\n\n" in block:
            texts.append(block.split("\n\n", 1)[1].strip())


def write(target, items):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    for item in items:
        b = item.encode() if isinstance(item, str) else item
        (d / hashlib.sha1(b).hexdigest()).write_bytes(b)
    print(f"{target}: {len(items)} seeds")


for target in ["normalize", "score", "links", "grpc"]:
    write(target, texts)
write("rules_load", [p.read_text() for p in sorted((root / "rules").glob("*.toml"))])
