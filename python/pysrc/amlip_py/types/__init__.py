"""AML-IP data types."""

from amlip_py.types.AmlipIdDataType import AmlipIdDataType
from amlip_py.types.JobDataType import JobDataType
from amlip_py.types.JobSolutionDataType import JobSolutionDataType
from amlip_py.types.StatusDataType import NodeKind, StateKind, StatusDataType, StatusKind
from amlip_py.types.TaskId import TaskId

__all__ = [
    "AmlipIdDataType",
    "JobDataType",
    "JobSolutionDataType",
    "NodeKind",
    "StateKind",
    "StatusDataType",
    "StatusKind",
    "TaskId",
]
