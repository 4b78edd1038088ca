"""AML-IP Status Node."""

import threading

from amlip import StatusNode as _StatusNode
from amlip_py.node._common import domain_of, one_of
from amlip_py.types.AmlipIdDataType import AmlipIdDataType
from amlip_py.types.StatusDataType import StatusDataType


class StatusListener:
    """Subclass and implement ``status_received(status)``."""

    def status_received(self, status: StatusDataType):
        raise NotImplementedError("StatusListener.status_received must be specialized before use.")


class StatusLambda(StatusListener):
    """A StatusListener calling `callback(status)`."""

    def __init__(self, callback):
        self.callback_ = callback

    def status_received(self, status):
        self.callback_(status)


class StatusNode:
    """Receives every node's status; ``process_status_async`` hands them to a callback."""

    def __init__(self, name: str, domain: int = None, interface: str = "127.0.0.1"):
        self._node = _StatusNode(name, domain=domain_of(domain), interface=interface)
        self._thread = None
        self._stop = threading.Event()

    def process_status_async(self, callback=None, listener=None) -> None:
        """Call `callback(status)` / `listener.status_received(status)` for every status, on a
        thread of the node, until ``stop_processing()``."""
        received = one_of(callback, listener, "status_received", "Method process_status_async")
        self.stop_processing()
        self._stop.clear()

        def loop():
            while not self._stop.is_set():
                s = self._node.next(timeout=0.1)
                if s is not None:
                    received(StatusDataType._from_native(s))

        self._thread = threading.Thread(target=loop, name="amlip-status", daemon=True)
        self._thread.start()

    def stop_processing(self) -> None:
        """Stop calling the callback; nothing if not processing."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def get_id(self) -> AmlipIdDataType:
        return AmlipIdDataType(self._node.id)

    id = get_id

    def close(self):
        self.stop_processing()
        self._node.close()
