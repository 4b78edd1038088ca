"""AML-IP Asynchronous Computing Node."""

import threading

from amlip import ComputingNode as _ComputingNode
from amlip_py.node._common import domain_of, one_of, solution_bytes
from amlip_py.types.AmlipIdDataType import AmlipIdDataType
from amlip_py.types.JobDataType import JobDataType


class JobReplier:
    """Subclass and implement ``process_job(job, task_id, client_id) -> JobSolutionDataType``."""

    def process_job(self, job, task_id, client_id):
        raise NotImplementedError("JobReplier.process_job must be specialized before use.")


class JobReplierLambda(JobReplier):
    """A JobReplier calling `callback(job, task_id, client_id)`."""

    def __init__(self, callback):
        self.callback_ = callback

    def process_job(self, job, task_id, client_id):
        return self.callback_(job, task_id, client_id)


class AsyncComputingNode:
    """Answers jobs on a thread of its own between ``run()`` and ``stop()``.

    The callback gets ``(JobDataType, task_id: int, client_id: AmlipIdDataType)``. If it raises,
    the job is answered as failed (see the ``amlip`` package) and the node goes on.
    """

    def __init__(self, name: str, domain: int = None, callback=None, listener=None,
                 interface: str = "127.0.0.1", concurrency: int = 1):
        if domain is not None and not isinstance(domain, int) and callback is None:
            # An older AML-IP's positional order (name, callback), without domain.
            callback, domain = domain, None
        self._process = one_of(callback, listener, "process_job", "AsyncComputingNode constructor")
        self._node = _ComputingNode(name, domain=domain_of(domain), interface=interface)
        self._concurrency = concurrency
        self._thread = None
        self._error = None

    def _serve(self):
        try:
            self._node.run(
                lambda job, task_id, client_id: solution_bytes(
                    self._process(JobDataType(job), task_id, AmlipIdDataType(client_id))),
                concurrency=self._concurrency,
                with_task=True,
            )
        except BaseException as e:  # kept for stop()
            self._error = e

    def run(self) -> None:
        """Start answering jobs (returns at once). Raises if already running."""
        if self._thread is not None:
            raise RuntimeError("AsyncComputingNode is already running")
        self._error = None
        self._thread = threading.Thread(target=self._serve, name="amlip-async-computing",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop answering jobs (jobs in progress are finished). Raises if not running."""
        if self._thread is None:
            raise RuntimeError("AsyncComputingNode is not running")
        # A stop() before the thread's run() started would be forgotten by run(): repeat it.
        while self._thread.is_alive():
            self._node.stop()
            self._thread.join(0.1)
        self._thread = None
        if self._error is not None:
            raise self._error

    def get_id(self) -> AmlipIdDataType:
        return AmlipIdDataType(self._node.id)

    id = get_id

    def close(self):
        if self._thread is not None:
            self.stop()
        self._node.close()
