#!/usr/bin/env python3
"""Real work in Python: count the words of text files on every computing node in the domain.

    python3 python/examples/word_count.py serve [--concurrency 2]     # a computing node
    python3 python/examples/word_count.py count FILE...               # a main node

The main node sends each file's text as one job; a computing node answers with a JSON object of
its ten most common words and the total, and the main node adds them up.
"""

import argparse
import collections
import json
import re
import sys

from amlip import ComputingNode, MainNode

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def count_words(job: bytes) -> str:
    words = collections.Counter(w.lower() for w in WORD.findall(job.decode("utf-8", "replace")))
    return json.dumps({"total": sum(words.values()), "top": words.most_common(10)})


def serve(args):
    node = ComputingNode(args.name, domain=args.domain)
    print(f"Word-count node {node.id}: Ctrl-C to stop.", file=sys.stderr)
    try:
        answered = node.run(count_words, concurrency=args.concurrency)
    except KeyboardInterrupt:
        answered = None
    print(f"answered {answered if answered is not None else 'some'} job(s)", file=sys.stderr)


def count(args):
    main = MainNode(args.name, domain=args.domain)
    tasks = {}
    for path in args.files:
        with open(path, encoding="utf-8", errors="replace") as f:
            tasks[main.submit(f.read())] = path
    total = 0
    top = collections.Counter()
    for _ in tasks:
        s = main.next_solution(timeout=args.timeout)
        r = json.loads(s.solution)
        print(f"{tasks[s.task_id]}: {r['total']} words (by {s.server_id})")
        total += r["total"]
        top.update(dict(r["top"]))
    print(f"total: {total} words; most common: {', '.join(w for w, _ in top.most_common(5))}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-d", "--domain", type=int, default=166)
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--concurrency", type=int, default=1)
    s.add_argument("-n", "--name", default="WordCounter")
    c = sub.add_parser("count")
    c.add_argument("files", nargs="+")
    c.add_argument("-n", "--name", default="WordCountMain")
    c.add_argument("-t", "--timeout", type=float, default=60)
    args = parser.parse_args()
    serve(args) if args.cmd == "serve" else count(args)


if __name__ == "__main__":
    main()
