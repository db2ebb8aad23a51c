"""Close a MediaPipe task before the interpreter shuts its threads down.

A MediaPipe task closes itself through a thread pool (its serial dispatcher). A worker keeps its
image-mode tasks for its whole life, so they are still open at exit; by the time ordinary ``atexit``
handlers and finalisers run, ``concurrent.futures`` has already shut its pools down, and every
task's ``__del__`` fails with a traceback on stderr. Handlers registered with threading's own exit
hook run before that shutdown (they run newest first, and the pools registered theirs on import).
"""

import atexit
import threading
import weakref
from collections.abc import Callable


def close_before_exit(owner: object, close: Callable[[], None]) -> Callable[[], None]:
    """A call that closes once (now, when ``owner`` is collected, or before the threads stop)."""
    finalizer = weakref.finalize(owner, close)
    finalizer.atexit = False
    register = getattr(threading, "_register_atexit", atexit.register)
    register(finalizer)
    return finalizer
