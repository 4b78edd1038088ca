"""Shared fixtures: a fresh DDS domain per test, the Rust `amlip` CLI, subprocess helpers.

The tests open real UDP sockets: they run only inside a private network namespace
(`../shared/oracles/netns-run python -m pytest python/tests`) and skip elsewhere.
"""

import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "python" / "examples"
_domains = itertools.count(20)


def _loopback_only():
    try:
        with open("/proc/net/dev") as f:
            names = [line.split(":")[0].strip() for line in f.readlines()[2:] if ":" in line]
    except OSError:
        return False
    return bool(names) and all(n == "lo" for n in names)


def pytest_collection_modifyitems(config, items):
    if _loopback_only():
        return
    skip = pytest.mark.skip(
        reason="not inside a private network namespace (run under ../shared/oracles/netns-run)")
    for item in items:
        item.add_marker(skip)


@pytest.fixture
def domain():
    """A DDS domain no other test of this run uses."""
    return next(_domains)


def _find_cli():
    env = os.environ.get("AMLIP_BIN")
    if env:
        return env
    built = [REPO / "target" / p / "amlip" for p in ("release", "debug")]
    built = [p for p in built if p.exists()]
    if built:
        return str(max(built, key=lambda p: p.stat().st_mtime))
    if shutil.which("cargo"):
        r = subprocess.run(["cargo", "build", "--offline", "--quiet", "--bin", "amlip"],
                           cwd=REPO, timeout=1200)
        p = REPO / "target" / "debug" / "amlip"
        if r.returncode == 0 and p.exists():
            return str(p)
    return None


@pytest.fixture(scope="session")
def amlip_cli():
    """The Rust CLI: $AMLIP_BIN, else target/{release,debug}/amlip, else built with cargo."""
    cli = _find_cli()
    if cli is None:
        pytest.skip("the amlip CLI is not built (set AMLIP_BIN or run cargo build)")
    return cli


def run_example(name, *args, **kw):
    return subprocess.Popen([sys.executable, str(EXAMPLES / name), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
