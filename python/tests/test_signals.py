"""Ctrl-C in blocking calls, and the examples end to end (subprocesses, real sockets)."""

import signal
import subprocess
import sys
import time

from conftest import run_example

WAIT = 60


def wait_ready(proc, word="ready"):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if word in line:
            return
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"process not ready: rc={proc.poll()}")


def interrupt(proc):
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(WAIT)
    finally:
        proc.kill()
        proc.communicate()


def test_ctrl_c_interrupts_request_job_solution(domain):
    # No computing node: the request blocks until Ctrl-C.
    proc = run_example("main_node.py", "-d", domain, "never answered")
    wait_ready(proc)
    time.sleep(0.3)
    assert interrupt(proc) == 130


def test_ctrl_c_interrupts_run_and_process_job(domain):
    for count in ("0", "1"):
        proc = run_example("computing_node.py", count, "-d", domain, "--delay", "0")
        wait_ready(proc)
        time.sleep(0.3)
        assert interrupt(proc) == 130


def test_ctrl_c_interrupts_a_status_iteration(domain):
    code = ("import sys, amlip\n"
            f"n = amlip.StatusNode('S', domain={domain})\n"
            "print('ready', file=sys.stderr, flush=True)\n"
            "try:\n"
            "    for s in n: pass\n"
            "except KeyboardInterrupt:\n"
            "    sys.exit(130)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_ready(proc)
    time.sleep(0.3)
    assert interrupt(proc) == 130


def test_examples_main_and_computing(domain):
    comp = run_example("computing_node.py", "2", "-d", domain, "--delay", "0")
    main = run_example("main_node.py", "-d", domain, "first_job", "second job")
    out, err = main.communicate(timeout=WAIT)
    assert main.returncode == 0, err
    assert "for job first_job => FIRST_JOB" in out
    assert "for job second job => SECOND JOB" in out
    assert comp.wait(WAIT) == 0
    comp.communicate()


def test_example_main_reads_jobs_from_stdin(domain):
    comp = run_example("computing_node.py", "2", "-d", domain, "--delay", "0")
    main = run_example("main_node.py", "-d", domain, stdin=subprocess.PIPE)
    out, err = main.communicate("one\ntwo words\n\n", timeout=WAIT)
    assert main.returncode == 0, err
    assert "for job one => ONE" in out and "for job two words => TWO WORDS" in out
    assert comp.wait(WAIT) == 0
    comp.communicate()


def test_example_word_count(domain, tmp_path):
    a = tmp_path / "a.txt"
    a.write_text("the cat and the dog\n")
    b = tmp_path / "b.txt"
    b.write_text("The end.\n")
    server = run_example("word_count.py", "-d", domain, "serve", "--concurrency", "2")
    try:
        out = subprocess.run([sys.executable, str(run_example.__globals__["EXAMPLES"] /
                                                  "word_count.py"),
                              "-d", str(domain), "count", str(a), str(b)],
                             capture_output=True, text=True, timeout=WAIT)
        assert out.returncode == 0, out.stderr
        assert "a.txt: 5 words" in out.stdout and "b.txt: 2 words" in out.stdout
        assert "total: 7 words; most common: the" in out.stdout
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(WAIT)
        server.communicate()
