"""AML-IP Asynchronous Main Node."""

import logging

from amlip import MainNode as _MainNode
from amlip_py.node._common import domain_of, one_of
from amlip_py.types.AmlipIdDataType import AmlipIdDataType
from amlip_py.types.JobDataType import JobDataType
from amlip_py.types.JobSolutionDataType import JobSolutionDataType


class SolutionListener:
    """Subclass and implement ``solution_received(solution, task_id, server_id)``."""

    def solution_received(self, solution: JobSolutionDataType, task_id, server_id):
        raise NotImplementedError("SolutionListener.solution_received must be specialized before use.")


class SolutionLambda(SolutionListener):
    """A SolutionListener calling `callback(solution, task_id, server_id)`."""

    def __init__(self, callback):
        self.callback_ = callback

    def solution_received(self, solution, task_id, server_id):
        return self.callback_(solution, task_id, server_id)


class AsyncMainNode:
    """Sends jobs without waiting; every solution is given to the callback / listener as
    ``(JobSolutionDataType, task_id: int, AmlipIdDataType)`` on a thread of the node. A job that
    failed on every attempt is given too, its reason as the solution (and logged)."""

    def __init__(self, name: str, domain: int = None, callback=None, listener=None,
                 interface: str = "127.0.0.1"):
        if domain is not None and not isinstance(domain, int) and callback is None:
            # An older AML-IP's positional order (name, callback), without domain.
            callback, domain = domain, None
        received = one_of(callback, listener, "solution_received", "AsyncMainNode constructor")
        self._node = _MainNode(name, domain=domain_of(domain), interface=interface)

        def deliver(s):
            if s.failed:
                # AML-IP has no failed solution: the callback gets the reason as the solution
                # (what an AML-IP main node sees from our computing nodes).
                logging.getLogger("amlip").warning(
                    "task %d failed %d time(s), last on %s: %s", s.task_id, s.attempts,
                    s.server_id, s.reason)
            received(JobSolutionDataType(s.solution), s.task_id, AmlipIdDataType(s.server_id))

        self._node.on_solution(deliver)

    def request_job_solution(self, job) -> int:
        """Send `job` (JobDataType, str or bytes); returns its task id at once."""
        return self._node.submit(bytes(job) if isinstance(job, JobDataType) else job)

    def get_id(self) -> AmlipIdDataType:
        return AmlipIdDataType(self._node.id)

    id = get_id

    def close(self):
        self._node.close()
