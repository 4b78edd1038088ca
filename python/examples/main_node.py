#!/usr/bin/env python3
"""A main node, as AML-IP's main_node_sync.py: every argument (or, without arguments, every line
of stdin until an empty one) is a job; each is sent, and its solution printed.

    python3 python/examples/main_node.py "first_job" "second job"
    printf 'a\\nb\\n' | python3 python/examples/main_node.py
"""

import argparse
import sys

from amlip_py.node.MainNode import MainNode
from amlip_py.types.JobDataType import JobDataType


def jobs(args):
    if args:
        yield from args
        return
    print("Type one job per line; an empty line or end of input finishes.", file=sys.stderr)
    for line in sys.stdin:
        line = line.rstrip("\r\n")
        if not line:
            return
        yield line


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jobs", nargs="*", help="job strings (default: lines of stdin)")
    parser.add_argument("-d", "--domain", type=int, default=None, help="DDS domain (166)")
    parser.add_argument("-n", "--name", default="AMLMainNode")
    parser.add_argument("-t", "--timeout", type=float, default=None,
                        help="seconds to wait for each solution (default: forever)")
    args = parser.parse_args()

    node = MainNode(args.name, domain=args.domain)
    print(f"Main Node {node.get_id()} ready.", file=sys.stderr)
    try:
        for job in jobs(args.jobs):
            solution, server = node.request_job_solution(JobDataType(job), timeout=args.timeout)
            print(f"Main Node received solution from {server} for job {job} => "
                  f"{solution.to_string()}", flush=True)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except TimeoutError as e:
        print(f"Timed out: {e}", file=sys.stderr)
        return 1
    finally:
        node.close()
    print("Main Node finished.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
