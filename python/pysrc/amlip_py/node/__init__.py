"""AML-IP nodes: ``from amlip_py.node import MainNode`` or
``from amlip_py.node.MainNode import MainNode`` (AML-IP's module layout)."""

from amlip_py.node.AsyncComputingNode import AsyncComputingNode, JobReplier, JobReplierLambda
from amlip_py.node.AsyncMainNode import AsyncMainNode, SolutionLambda, SolutionListener
from amlip_py.node.ComputingNode import ComputingNode, JobLambda, JobListener
from amlip_py.node.MainNode import MainNode
from amlip_py.node.StatusNode import StatusLambda, StatusListener, StatusNode

__all__ = [
    "AsyncComputingNode",
    "AsyncMainNode",
    "ComputingNode",
    "JobLambda",
    "JobListener",
    "JobReplier",
    "JobReplierLambda",
    "MainNode",
    "SolutionLambda",
    "SolutionListener",
    "StatusLambda",
    "StatusListener",
    "StatusNode",
]
