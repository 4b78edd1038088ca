"""Shared helpers of the amlip_py nodes."""

from amlip import DEFAULT_DOMAIN


def domain_of(domain):
    """None means AML-IP's default domain 166; any number, 0 included, is that domain."""
    return DEFAULT_DOMAIN if domain is None else int(domain)


def one_of(callback, listener, method, what):
    """The function given by `callback` or by `listener.<method>` (exactly one of them)."""
    if callback is not None and listener is not None:
        raise ValueError(f"{what} expects a listener object or a callback, both given.")
    if listener is not None:
        return getattr(listener, method)
    if callback is not None:
        return callback
    raise ValueError(f"{what} expects a listener object or a callback, none given.")


def solution_bytes(s):
    """A job function's answer as bytes (JobSolutionDataType, bytes or str)."""
    return s.encode("utf-8") if isinstance(s, str) else bytes(s)
