"""The bundled sample newsroom behind ``newswatch demo``.

With no internet the demo needs news sites of its own: ``newsroom/`` holds outlets and articles
written for the demo as structured YAML, ``render`` and ``feeds`` turn them into realistic pages
and feeds (boilerplate, several feed formats and encodings, one malformed feed), and ``server``
serves them on loopback, releasing new articles in waves driven by an injectable clock.
"""

from typing import TYPE_CHECKING

from newswatch.demo.clock import Clock, ManualClock, SystemClock
from newswatch.demo.content import Article, Newsroom, Outlet, load_newsroom
from newswatch.demo.errors import ContentError, NewsroomError
from newswatch.demo.schedule import ReleaseSchedule, Timeline

if TYPE_CHECKING:
    from newswatch.demo.server import NewsroomServer

__all__ = [
    "Article",
    "Clock",
    "ContentError",
    "ManualClock",
    "Newsroom",
    "NewsroomError",
    "NewsroomServer",
    "Outlet",
    "ReleaseSchedule",
    "SystemClock",
    "Timeline",
    "load_newsroom",
]


def __getattr__(name: str) -> object:
    # The server is imported lazily so ``python -m newswatch.demo.server`` does not find it
    # already imported by the package (runpy warns about that).
    if name == "NewsroomServer":
        from newswatch.demo.server import NewsroomServer

        return NewsroomServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
