# pyright: strict
"""The kernel's one error type: every bad input (syntax, scoping, a wrong proof) is a `MetamathError`."""

from __future__ import annotations

from ilya.core.errors import IlyaError


class MetamathError(IlyaError):
    """A user-facing Metamath error, located at ``file:line:col`` where the input has a place."""
