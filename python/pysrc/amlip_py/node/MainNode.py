"""AML-IP Main Node (blocking)."""

from amlip import MainNode as _MainNode
from amlip_py.node._common import domain_of
from amlip_py.types.AmlipIdDataType import AmlipIdDataType
from amlip_py.types.JobDataType import JobDataType
from amlip_py.types.JobSolutionDataType import JobSolutionDataType


class MainNode:
    """Sends jobs to computing nodes and waits for their solutions, one at a time."""

    def __init__(self, name: str, domain: int = None, interface: str = "127.0.0.1"):
        self._node = _MainNode(name, domain=domain_of(domain), interface=interface)

    def request_job_solution(self, job, timeout=None):
        """Send `job` (JobDataType, str or bytes) and wait for its solution.

        Returns ``(JobSolutionDataType, AmlipIdDataType)``: the solution and the computing node
        that sent it. Ctrl-C interrupts the wait (and cancels the job). A job that failed on
        every attempt raises ``amlip.JobFailed`` (an extension: AML-IP's main node knows no
        failure and takes the reason for the solution).
        """
        solution, server = self._node.request_job_solution(
            bytes(job) if isinstance(job, JobDataType) else job, timeout=timeout
        )
        return JobSolutionDataType(solution), AmlipIdDataType(server)

    def get_id(self) -> AmlipIdDataType:
        """The id of the node."""
        return AmlipIdDataType(self._node.id)

    id = get_id

    def close(self):
        self._node.close()
