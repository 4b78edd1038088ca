"""The AML-IP-shaped amlip_py API (real sockets)."""

import queue
import threading

import pytest

from amlip import JobFailed

from amlip_py.node.AsyncComputingNode import AsyncComputingNode
from amlip_py.node.AsyncMainNode import AsyncMainNode
from amlip_py.node.ComputingNode import ComputingNode
from amlip_py.node.MainNode import MainNode
from amlip_py.node.StatusNode import StatusNode
from amlip_py.types.AmlipIdDataType import AmlipIdDataType
from amlip_py.types.JobDataType import JobDataType
from amlip_py.types.JobSolutionDataType import JobSolutionDataType
from amlip_py.types.StatusDataType import NodeKind, StateKind

WAIT = 60


def test_sync_main_and_computing_on_domain_zero():
    # Domain 0 means domain 0 (AML-IP turned it into 166).
    main = MainNode("AMLMainNode", domain=0)
    comp = ComputingNode("AMLComputingNode", domain=0)
    results = {}

    def compute():
        results["client"] = comp.process_job(
            callback=lambda job: JobSolutionDataType(job.to_string().upper()))

    t = threading.Thread(target=compute, daemon=True)
    t.start()
    solution, server = main.request_job_solution(JobDataType("first_job"))
    t.join(WAIT)
    assert isinstance(solution, JobSolutionDataType) and solution.to_string() == "FIRST_JOB"
    assert isinstance(server, AmlipIdDataType)
    assert server == comp.get_id() and server.name() == "AMLComputingNode"
    assert isinstance(results["client"], AmlipIdDataType) and results["client"] == main.get_id()
    assert main.get_id().name() == "AMLMainNode"
    comp.close()
    main.close()


def test_async_main_and_async_computing(domain):
    seen_jobs = queue.Queue()

    def process(job, task_id, client_id):
        seen_jobs.put((job, task_id, client_id))
        return JobSolutionDataType(job.to_string() + " done")

    comp = AsyncComputingNode("AsyncComputing", domain=domain, callback=process)
    comp.run()
    solutions = queue.Queue()
    main = AsyncMainNode("AsyncMain", domain=domain,
                         callback=lambda solution, task_id, server_id:
                         solutions.put((solution, task_id, server_id)))
    tasks = {main.request_job_solution(JobDataType(f"job{i}")): f"job{i} done" for i in range(5)}
    got = {}
    for _ in tasks:
        solution, task_id, server_id = solutions.get(timeout=WAIT)
        assert isinstance(solution, JobSolutionDataType)
        assert server_id == comp.get_id()
        got[task_id] = solution.to_string()
    assert got == tasks
    seen = [seen_jobs.get_nowait() for _ in tasks]
    assert all(isinstance(job, JobDataType) for job, _, _ in seen)
    # The computing callback gets the main node's task ids and its id.
    assert {task_id for _, task_id, _ in seen} == set(tasks)
    assert all(isinstance(c, AmlipIdDataType) and c == main.get_id() for _, _, c in seen)
    comp.stop()
    comp.close()
    main.close()


def test_failing_callback_fails_the_job_on_both_main_nodes(domain, caplog):
    def broken(job, task_id, client_id):
        raise KeyError(job.to_string())

    comp = AsyncComputingNode("Broken", domain=domain, callback=broken)
    comp.run()
    main = MainNode("SyncMain", domain=domain)
    with pytest.raises(JobFailed) as failure:
        main.request_job_solution(JobDataType("lost"))
    assert failure.value.attempts == 3 and failure.value.reason == "KeyError: 'lost'"
    assert failure.value.server_id == comp.get_id()
    solutions = queue.Queue()
    amain = AsyncMainNode("AsyncMain", domain=domain,
                          callback=lambda solution, task_id, server_id:
                          solutions.put((solution, task_id, server_id)))
    task = amain.request_job_solution("lost too")
    solution, task_id, server_id = solutions.get(timeout=WAIT)
    # AML-IP knows no failure: its callback gets the reason as the solution (and a warning).
    assert (solution.to_string(), task_id) == ("KeyError: 'lost too'", task)
    assert server_id == comp.get_id()
    assert any("failed 3 time(s)" in r.getMessage() for r in caplog.records)
    comp.stop()
    comp.close()
    main.close()
    amain.close()


def test_status_node_callback(domain):
    statuses = queue.Queue()
    status = StatusNode("AMLStatusNode", domain=domain)
    status.process_status_async(callback=statuses.put)
    main = MainNode("Observed", domain=domain)
    got = None
    for _ in range(200):
        s = statuses.get(timeout=WAIT)
        if s.get_id() == main.get_id():
            got = s
            break
    assert got is not None
    assert got.node_kind() == NodeKind.MAIN
    assert got.get_status_kind() in (StateKind.RUNNING, StateKind.UNKNOWN, StateKind.STOPPED)
    assert "main" in str(got)
    status.stop_processing()
    main.close()
    status.close()


def test_types():
    j = JobDataType("hello")
    assert j.to_string() == "hello" and bytes(j) == b"hello" and j.data_size() == 5
    assert JobSolutionDataType(b"\xffx").to_string() == "\ufffdx"
    i = AmlipIdDataType("Name.with.dots.0a.1b.2c.3d")
    assert i.name() == "Name.with.dots" and str(i) == "Name.with.dots.0a.1b.2c.3d"
    assert NodeKind.COMPUTATIONAL is NodeKind.COMPUTING


def test_async_nodes_take_the_callback_positionally():
    # An older amlip_py had no domain argument: (name, callback).
    main = AsyncMainNode("Positional", lambda solution, task_id, server_id: None)
    comp = AsyncComputingNode("Positional", lambda job, task_id, client_id: job)
    assert main.get_id().name() == "Positional" and comp.get_id().name() == "Positional"
    comp.close()
    main.close()
