"""AML-IP workload distribution from Python, on amlip's Rust nodes.

    from amlip import MainNode, ComputingNode, StatusNode

    main = MainNode("Client")                       # domain 166, loopback by default
    solution, server = main.request_job_solution("hello", timeout=30)

    node = ComputingNode("Worker")
    node.run(lambda job: job.upper())               # until node.stop() or Ctrl-C

Every blocking call releases the GIL and can be interrupted with Ctrl-C. A job function that
raises is logged on the ``amlip`` logger; its job is handed back to the main node (which asks
the other computing nodes again) and a fresh node replaces the one that failed.
"""

import atexit

from ._amlip import (
    DEFAULT_DOMAIN,
    AmlipError,
    ComputingNode,
    MainNode,
    Solution,
    Status,
    StatusNode,
    _shutdown,
)

# Threads still serving when the interpreter exits would die inside Rust code: stop them first.
atexit.register(_shutdown)

__all__ = [
    "DEFAULT_DOMAIN",
    "AmlipError",
    "ComputingNode",
    "MainNode",
    "Solution",
    "Status",
    "StatusNode",
]
