"""Errors of the demo newsroom.

``NewsroomError`` is the root so the demo runner can catch everything the newsroom raises in one
place; ``ContentError`` means the bundled YAML is inconsistent (a bug in the repository, not in the
user's setup), so its message names the file and the article.
"""

from __future__ import annotations

from newswatch.errors import NewswatchError

__all__ = ["ContentError", "NewsroomError"]


class NewsroomError(NewswatchError):
    """Root of every error raised by ``newswatch.demo``."""


class ContentError(NewsroomError):
    """The bundled newsroom content is missing, malformed or inconsistent."""
