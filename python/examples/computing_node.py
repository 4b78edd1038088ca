#!/usr/bin/env python3
"""A computing node, as AML-IP's computing_node_sync: answers N jobs (default 1), each with its
uppercase after a mock delay of 1-5 s (``--delay 0`` for none).

    python3 python/examples/computing_node.py 2
    python3 python/examples/computing_node.py 0 --delay 0     # 0: until Ctrl-C
"""

import argparse
import random
import sys
import time

from amlip import ComputingNode


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=1,
                        help="jobs to answer (0: until Ctrl-C)")
    parser.add_argument("-d", "--domain", type=int, default=166)
    parser.add_argument("-n", "--name", default="AMLComputingNode")
    parser.add_argument("--delay", default="1-5",
                        help="mock work per job in seconds: N or MIN-MAX (default 1-5)")
    args = parser.parse_args()
    lo, _, hi = args.delay.partition("-")
    lo = float(lo)
    hi = float(hi) if hi else lo

    def uppercase(job: bytes) -> bytes:
        time.sleep(random.uniform(lo, hi))
        return job.upper()

    node = ComputingNode(args.name, domain=args.domain)
    print(f"Computing Node {node.id} ready.", file=sys.stderr)
    try:
        if args.count == 0:
            answered = node.run(uppercase)
        else:
            for _ in range(args.count):
                node.process_job(uppercase)
            answered = args.count
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    finally:
        node.stop()
    print(f"Computing Node answered {answered} job(s).", file=sys.stderr)
    node.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
