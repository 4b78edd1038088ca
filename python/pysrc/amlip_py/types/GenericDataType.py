"""Bytes of a job or solution, built from str or bytes (AML-IP's GenericDataType)."""

from typing import Union


class GenericDataType:
    """Bytes with AML-IP's accessors (``to_string()``, ``data()``, ``data_size()``)."""

    __slots__ = ("_data",)

    def __init__(self, data: Union[str, bytes, bytearray, memoryview, "GenericDataType"] = b""):
        if isinstance(data, GenericDataType):
            data = data._data
        elif isinstance(data, str):
            data = data.encode("utf-8")
        self._data = bytes(data)

    def to_string(self) -> str:
        """The bytes as text (UTF-8; invalid bytes replaced)."""
        return self._data.decode("utf-8", errors="replace")

    def to_bytes(self) -> bytes:
        return self._data

    def to_vector(self) -> list:
        return list(self._data)

    def data(self) -> bytes:
        return self._data

    def data_size(self) -> int:
        return len(self._data)

    def __bytes__(self) -> bytes:
        return self._data

    def __str__(self) -> str:
        return self.to_string()

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other) -> bool:
        if isinstance(other, GenericDataType):
            return self._data == other._data
        if isinstance(other, str):
            return self._data == other.encode("utf-8")
        if isinstance(other, (bytes, bytearray)):
            return self._data == bytes(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_string()!r})"
