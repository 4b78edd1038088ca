"""AML-IP JobSolutionDataType: the bytes of a solution."""

from amlip_py.types.GenericDataType import GenericDataType


class JobSolutionDataType(GenericDataType):
    """A solution: ``JobSolutionDataType("text")`` or ``JobSolutionDataType(b"bytes")``."""

    __slots__ = ()
