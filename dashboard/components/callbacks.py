"""Callbacks of the shared components, registered on each app by the factory.

Page modules use `dash.callback` (Dash re-executes page modules for every app it creates), but
component modules are imported once per process; their callbacks are recorded here and attached
to each new app by `register_all(app)`, so a second app (tests) gets them too.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import dash

_SERVER: list[tuple[Callable, tuple, dict]] = []
_CLIENT: list[tuple[str, tuple, dict]] = []
_REGISTERED: weakref.WeakSet[dash.Dash] = weakref.WeakSet()  # apps that have them


def callback(*args: Any, **kwargs: Any) -> Callable[[Callable], Callable]:
    """Like dash.callback, but recorded for register_all (the function is returned unchanged)."""

    def record(func: Callable) -> Callable:
        _SERVER.append((func, args, kwargs))
        return func

    return record


def clientside_callback(code: str, *args: Any, **kwargs: Any) -> None:
    """Like dash.clientside_callback, recorded for register_all."""
    _CLIENT.append((code, args, kwargs))


def register_all(app: dash.Dash) -> None:
    """Attach every recorded component callback to app (once per app)."""
    if app in _REGISTERED:
        return
    for func, args, kwargs in _SERVER:
        app.callback(*args, **kwargs)(func)
    for code, args, kwargs in _CLIENT:
        app.clientside_callback(code, *args, **kwargs)
    _REGISTERED.add(app)
