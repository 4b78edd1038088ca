"""The amlip Python nodes against each other and against the Rust CLI (real sockets)."""

import queue
import subprocess
import threading
import time

import pytest

from amlip import AmlipError, ComputingNode, JobFailed, MainNode, StatusNode

WAIT = 60  # seconds: generous bound for one job on a loaded machine; never reached when healthy


def serve_in_thread(node, fn, **kw):
    result = {}

    def target():
        try:
            result["answered"] = node.run(fn, **kw)
        except BaseException as e:  # reported by the test
            result["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t, result


def stop_and_join(node, thread):
    node.stop()
    thread.join(WAIT)
    assert not thread.is_alive(), "run() did not return after stop()"


def test_python_main_python_computing_blocking_and_pipelined(domain):
    comp = ComputingNode("PyWorker", domain=domain)
    t, result = serve_in_thread(comp, lambda job: job.upper())
    with MainNode("PyMain", domain=domain) as main:
        solution, server = main.request_job_solution("hello", timeout=WAIT)
        assert solution == b"HELLO"
        assert server == comp.id
        solution, _ = main.request_job_solution(b"\x00bytes\xff", timeout=WAIT)
        assert solution == b"\x00BYTES\xff"
        tasks = {main.submit(f"job {i}"): f"JOB {i}".encode() for i in range(20)}
        got = {}
        for _ in tasks:
            s = main.next_solution(timeout=WAIT)
            got[s.task_id] = s.solution
            assert s.server_id == comp.id
            assert s.latency >= 0
        assert got == tasks
        assert main.in_flight == 0
    stop_and_join(comp, t)
    assert result.get("answered") == 22, result
    comp.close()


def test_on_solution_callback_and_iterator(domain):
    comp = ComputingNode("PyWorker", domain=domain)
    t, _ = serve_in_thread(comp, lambda job: job[::-1], concurrency=2)
    with MainNode("PyMain", domain=domain) as main:
        it = main.solutions()
        task = main.submit("abc")
        s = next(it)
        assert (s.task_id, s.solution) == (task, b"cba")
        got = queue.Queue()
        main.on_solution(got.put)
        tasks = {main.submit(str(i) + "xy") for i in range(10)}
        solved = {got.get(timeout=WAIT).task_id for _ in tasks}
        assert solved == tasks
    stop_and_join(comp, t)
    comp.close()


def test_python_main_rust_cli_computing(domain, amlip_cli):
    proc = subprocess.Popen([amlip_cli, "computing", "3", "--delay", "0", "--domain", str(domain)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with MainNode("PyMain", domain=domain) as main:
            for job in ["first_job", "second job", "third"]:
                solution, server = main.request_job_solution(job, timeout=WAIT)
                assert solution == job.upper().encode()
                assert server.startswith("AMLComputingNode")
        assert proc.wait(WAIT) == 0
    finally:
        proc.kill()
        proc.communicate()


def test_rust_cli_main_python_computing(domain, amlip_cli):
    comp = ComputingNode("PyWorker", domain=domain)
    t, result = serve_in_thread(comp, lambda job: job.upper() + b"!")
    try:
        out = subprocess.run([amlip_cli, "main", "first_job", "second job", "--domain", str(domain)],
                             capture_output=True, text=True, timeout=WAIT)
        assert out.returncode == 0, out.stderr
        assert f'job "first_job" => "FIRST_JOB!" from {comp.id}' in out.stdout
        assert f'job "second job" => "SECOND JOB!" from {comp.id}' in out.stdout
    finally:
        stop_and_join(comp, t)
    assert result.get("answered") == 2, result
    comp.close()


def test_exception_in_job_function_reoffers_the_job_to_another_node(domain, caplog):
    bad = ComputingNode("PyBad", domain=domain)

    def broken(job):
        raise ValueError("broken job function")

    # Attempts to spare: the failing node keeps serving and may win a retry before the good
    # node is discovered; a held reply of a node that failed the job waits for other nodes.
    with MainNode("PyMain", domain=domain, max_attempts=10) as main:
        task = main.submit("rescue me")
        # Only the broken node exists: it wins the job, and its function raises.
        with pytest.raises(ValueError, match="broken job function"):
            bad.process_job(broken, timeout=WAIT)
        assert bad.failures == 1
        assert any("job function raised" in r.getMessage() for r in caplog.records)
        # The failed job is offered again; the broken node goes on serving (and failing).
        tb, _ = serve_in_thread(bad, broken)
        good = ComputingNode("PyGood", domain=domain)
        tg, _ = serve_in_thread(good, lambda job: job.upper())
        s = main.next_solution(timeout=WAIT)
        assert (s.task_id, s.solution, s.server_id) == (task, b"RESCUE ME", good.id)
        assert not s.failed and s.attempts >= 2 and s.reason is None
        stop_and_join(good, tg)
        stop_and_join(bad, tb)
        good.close()
    bad.close()


def test_exception_in_run_keeps_serving_and_the_job_is_solved(domain):
    calls = []

    def flaky(job):
        calls.append(job)
        if len(calls) == 1:
            raise RuntimeError("first call fails")
        return job.upper()

    comp = ComputingNode("PyFlaky", domain=domain)
    t, result = serve_in_thread(comp, flaky)
    with MainNode("PyMain", domain=domain) as main:
        # The failed job is offered again; the only computing node solves it this time.
        solution, server = main.request_job_solution("again", timeout=WAIT)
        assert (solution, server) == (b"AGAIN", comp.id)
        assert main.request_job_solution("next", timeout=WAIT)[0] == b"NEXT"
    stop_and_join(comp, t)
    assert comp.failures == 1
    assert result.get("answered") == 2, result
    comp.close()


def test_exception_everywhere_fails_the_job_after_max_attempts(domain):
    def broken(job):
        raise ValueError(f"cannot do {job!r}")

    comp = ComputingNode("PyBroken", domain=domain)
    t, result = serve_in_thread(comp, broken, concurrency=2)
    with MainNode("PyMain", domain=domain, max_attempts=2) as main:
        with pytest.raises(JobFailed) as failure:
            main.request_job_solution("doomed", timeout=WAIT)
        e = failure.value
        assert isinstance(e, AmlipError)
        assert (e.attempts, e.server_id) == (2, comp.id)
        assert e.reason == "ValueError: cannot do b'doomed'"
        assert main.in_flight == 0
        # Pipelined: the failure is a Solution with `failed` set, its reason as the solution.
        main.set_max_attempts(1)
        task = main.submit("also doomed")
        s = main.next_solution(timeout=WAIT)
        assert (s.task_id, s.failed, s.attempts, s.server_id) == (task, True, 1, comp.id)
        assert s.solution == b"ValueError: cannot do b'also doomed'" and s.reason == s.solution.decode()
    stop_and_join(comp, t)
    assert comp.failures == 3
    assert result.get("answered") == 0, result
    comp.close()


def test_bad_solution_type_is_a_failure_not_a_hang(domain):
    comp = ComputingNode("PyNone", domain=domain)
    with MainNode("PyMain", domain=domain) as main:
        task = main.submit("x")
        with pytest.raises(TypeError):
            comp.process_job(lambda job: None, timeout=WAIT)
        # Offered again: the only computing node gets it once more.
        assert comp.process_job(lambda job: job + b"y", timeout=WAIT) == main.id
        s = main.next_solution(timeout=WAIT)
        assert (s.task_id, s.solution, s.attempts) == (task, b"xy", 2)
    comp.close()


def test_job_function_gets_the_task_and_run_has_k_workers(domain):
    # Two jobs held at once by one node: a single worker would break the barrier.
    barrier = threading.Barrier(2, timeout=WAIT)
    seen = queue.Queue()

    def both(job, task_id, client_id):
        seen.put((task_id, client_id))
        barrier.wait()
        return job

    comp = ComputingNode("PyPair", domain=domain)
    t, result = serve_in_thread(comp, both, concurrency=2, with_task=True)
    with MainNode("PyMain", domain=domain) as main:
        tasks = {main.submit(f"j{i}") for i in range(2)}
        solved = [main.next_solution(timeout=WAIT) for _ in tasks]
        assert {s.task_id for s in solved} == tasks and not any(s.failed for s in solved)
        assert {seen.get_nowait() for _ in tasks} == {(task, main.id) for task in tasks}
    stop_and_join(comp, t)
    assert result.get("answered") == 2, result
    comp.close()


def test_timeouts_and_stop(domain):
    with MainNode("PyLonely", domain=domain) as main:
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            main.request_job_solution("nobody", timeout=0.5)
        assert main.in_flight == 0  # the job was cancelled
        with pytest.raises(TimeoutError):
            main.next_solution(timeout=0.2)
        assert time.monotonic() - t0 < WAIT
    comp = ComputingNode("PyIdle", domain=domain)
    with pytest.raises(TimeoutError):
        comp.process_job(lambda job: job, timeout=0.3)
    t, result = serve_in_thread(comp, lambda job: job)
    time.sleep(0.2)
    with pytest.raises(AmlipError):
        comp.run(lambda job: job)  # already running
    stop_and_join(comp, t)
    assert result.get("answered") == 0, result
    comp.close()
    with pytest.raises(AmlipError):
        comp.run(lambda job: job)


def test_status_node_sees_a_computing_node(domain):
    with StatusNode("PyStatus", domain=domain) as status:
        comp = ComputingNode("PyObserved", domain=domain)
        t, _ = serve_in_thread(comp, lambda job: job)
        seen = set()
        deadline = time.monotonic() + WAIT
        while ("computing", "running") not in seen and time.monotonic() < deadline:
            s = status.next(timeout=1)
            if s is not None and s.id == comp.id:
                seen.add((s.kind, s.state))
        assert ("computing", "running") in seen
        stop_and_join(comp, t)
        comp.close()


def test_bad_arguments():
    with pytest.raises(ValueError):
        MainNode("x" * 40)
    with pytest.raises(ValueError):
        MainNode("ok", interface="not an address")
