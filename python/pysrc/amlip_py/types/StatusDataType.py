"""AML-IP StatusDataType: a node's id, kind and state."""

from enum import Enum

from amlip_py.types.AmlipIdDataType import AmlipIdDataType


class NodeKind(Enum):
    """Node kinds, with the values on the wire (AML-IP's C++ NodeKind)."""

    UNDETERMINED = 0
    DISCOVERY = 1
    AGENT = 2
    MAIN = 3
    COMPUTING = 4
    STATUS = 5
    META = 6
    EDGE = 7
    INFERENCE = 8
    MODEL_RECEIVER = 9
    MODEL_SENDER = 10
    FIWARE = 11
    # AML-IP 0.3's Python name of the computing kind.
    COMPUTATIONAL = 4


class StateKind(Enum):
    """Node states, with the values on the wire."""

    UNKNOWN = 0
    RUNNING = 1
    STOPPED = 2
    DROPPED = 3
    # AML-IP 0.3's Python name of `stopped`.
    DISABLED = 2


StatusKind = StateKind


def _enum(cls, value):
    try:
        return cls(value)
    except ValueError:
        return value


class StatusDataType:
    """A status: ``id()``, ``node_kind()``, ``state()`` (and AML-IP's ``get_*`` spellings)."""

    __slots__ = ("_id", "_kind", "_state")

    def __init__(self, id=None, node_kind=NodeKind.UNDETERMINED, state=StateKind.UNKNOWN):
        self._id = id if isinstance(id, AmlipIdDataType) else AmlipIdDataType(id or "")
        self._kind = _enum(NodeKind, node_kind.value if isinstance(node_kind, Enum) else node_kind)
        self._state = _enum(StateKind, state.value if isinstance(state, Enum) else state)

    @classmethod
    def _from_native(cls, s):
        return cls(AmlipIdDataType(s.id), s.kind_value, s.state_value)

    def id(self) -> AmlipIdDataType:
        return self._id

    def node_kind(self) -> NodeKind:
        return self._kind

    def state(self) -> StateKind:
        return self._state

    status_kind = state

    def get_id(self) -> AmlipIdDataType:
        return self._id

    def get_node_kind(self) -> NodeKind:
        return self._kind

    def get_status_kind(self) -> StateKind:
        return self._state

    def is_defined(self) -> bool:
        return (
            self._id.is_defined()
            and self._kind != NodeKind.UNDETERMINED
            and self._state != StateKind.UNKNOWN
        )

    def __str__(self) -> str:
        kind = self._kind.name.lower() if isinstance(self._kind, Enum) else self._kind
        state = self._state.name.lower() if isinstance(self._state, Enum) else self._state
        return f"Status{{{self._id}, {kind}, {state}}}"

    __repr__ = __str__
