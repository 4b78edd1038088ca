"""AML-IP AmlipIdDataType: a node id, ``name.hh.hh.hh.hh``."""

import re

_ID = re.compile(r"^(.*)((?:\.[0-9a-f]{2}){4})$")


class AmlipIdDataType:
    """A node id. ``str(id)`` is ``name.hh.hh.hh.hh``; ``name()`` is the name part."""

    __slots__ = ("_id",)

    def __init__(self, name: str = ""):
        self._id = str(name)

    def name(self) -> str:
        m = _ID.match(self._id)
        return m.group(1) if m else self._id

    def id(self) -> str:
        return self._id

    def is_defined(self) -> bool:
        return bool(self._id)

    def to_string(self) -> str:
        return self._id

    def __str__(self) -> str:
        return self._id

    def __repr__(self) -> str:
        return f"AmlipIdDataType({self._id!r})"

    def __eq__(self, other) -> bool:
        if isinstance(other, AmlipIdDataType):
            return self._id == other._id
        if isinstance(other, str):
            return self._id == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._id)
