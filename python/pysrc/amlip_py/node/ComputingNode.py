"""AML-IP Computing Node (one job per call)."""

from amlip import ComputingNode as _ComputingNode
from amlip_py.node._common import domain_of, one_of, solution_bytes
from amlip_py.types.AmlipIdDataType import AmlipIdDataType
from amlip_py.types.JobDataType import JobDataType
from amlip_py.types.JobSolutionDataType import JobSolutionDataType


class JobListener:
    """Subclass and implement ``process_job(job) -> JobSolutionDataType``."""

    def process_job(self, job: JobDataType) -> JobSolutionDataType:
        raise NotImplementedError("JobListener.process_job must be specialized before use.")


class JobLambda(JobListener):
    """A JobListener calling `callback(job) -> JobSolutionDataType`."""

    def __init__(self, callback):
        self.callback_ = callback

    def process_job(self, job):
        return self.callback_(job)


class ComputingNode:
    """Answers jobs from main nodes; ``process_job`` answers exactly one."""

    def __init__(self, name: str, domain: int = None, interface: str = "127.0.0.1"):
        self._node = _ComputingNode(name, domain=domain_of(domain), interface=interface)

    def process_job(self, callback=None, listener=None, timeout=None):
        """Wait for one job and answer it with `callback(job)` or `listener.process_job(job)`
        (given a JobDataType, returning a JobSolutionDataType, str or bytes).

        Returns the id of the client (AmlipIdDataType), as AML-IP's. An exception of the function
        is raised here; the job is answered as failed (its main node offers it again).
        """
        process = one_of(callback, listener, "process_job", "Method process_job")
        client = self._node.process_job(lambda job: solution_bytes(process(JobDataType(job))),
                                        timeout=timeout)
        # None if stopped before a job came: an undefined id.
        return AmlipIdDataType(client if client is not None else "")

    def get_id(self) -> AmlipIdDataType:
        return AmlipIdDataType(self._node.id)

    id = get_id

    def close(self):
        self._node.close()
