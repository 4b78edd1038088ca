"""AML-IP JobDataType: the bytes of a job."""

from amlip_py.types.GenericDataType import GenericDataType


class JobDataType(GenericDataType):
    """A job: ``JobDataType("text")`` or ``JobDataType(b"bytes")``."""

    __slots__ = ()
