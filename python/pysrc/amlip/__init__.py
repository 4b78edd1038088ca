"""AML-IP workload distribution from Python, on amlip's Rust nodes.

    from amlip import MainNode, ComputingNode, StatusNode

    main = MainNode("Client")                       # domain 166, loopback by default
    solution, server = main.request_job_solution("hello", timeout=30)

    node = ComputingNode("Worker")
    node.run(lambda job: job.upper())               # until node.stop() or Ctrl-C

Every blocking call releases the GIL and can be interrupted with Ctrl-C. A job function that
raises is logged on the ``amlip`` logger and its job answered as failed ("ExcType: message"):
the main node offers it again, preferring other computing nodes, up to ``max_attempts`` (3),
then ``request_job_solution`` raises ``JobFailed`` (a pipelined ``Solution`` has ``failed``).
"""

import atexit

from ._amlip import (
    DEFAULT_DOMAIN,
    AmlipError,
    ComputingNode,
    JobFailed,
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
    "JobFailed",
    "MainNode",
    "Solution",
    "Status",
    "StatusNode",
]
