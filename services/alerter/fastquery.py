"""The query language's in-memory matcher, with full-text leaves answered from a token index.

Why: ``newswatch.query.matcher`` finds a term by scanning the article's token list, which is
right and simple but costs a pass over the text per term per subscription; with thousands of
subscriptions per article that scan was three quarters of the alerter's time. Here each article
gets a position index (token → positions) once, and a ``Text`` leaf is a dictionary lookup
(plus a check of the following positions for a phrase, or of the distinct tokens for a prefix).

Everything else — keywords, ranges, bools, per-event conditions — is delegated, node by node, to
``newswatch.query.matcher.evaluate`` over the same cached ``ArticleView``, so the semantics stay
those of the shared matcher; a unit test holds the two to the same answers on random queries.
TODO(query): if ``matcher._contains`` gains such an index, drop this module.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from newswatch.models.events import Event
from newswatch.models.messages import Article
from newswatch.query import ast
from newswatch.query.fields import indexed_events
from newswatch.query.matcher import ArticleView, view_of
from newswatch.query.matcher import evaluate as shared_evaluate

__all__ = ["ArticleContext", "compile_fast", "context_of"]

Clock = Callable[[], dt.datetime]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Column:
    """One text column: its distinct tokens, and token positions built on first need (phrases
    and prefixes only)."""

    __slots__ = ("_positions", "distinct", "tokens")

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = tokens
        self.distinct = set(tokens)
        self._positions: dict[str, list[int]] | None = None

    @property
    def positions(self) -> dict[str, list[int]]:
        if self._positions is None:
            positions: dict[str, list[int]] = {}
            for i, token in enumerate(self.tokens):
                positions.setdefault(token, []).append(i)
            self._positions = positions
        return self._positions

    def contains(self, wanted: Sequence[str], prefix: bool) -> bool:
        """Same answer as ``matcher._contains(tokens, wanted, prefix)``."""
        n = len(wanted)
        if n == 0:
            return False
        if n == 1:
            if prefix:
                first = wanted[0]
                return any(token.startswith(first) for token in self.distinct)
            return wanted[0] in self.distinct
        if wanted[0] not in self.distinct:
            return False
        starts = self.positions[wanted[0]]
        tokens = self.tokens
        last = n - 1
        for start in starts:
            if start + last >= len(tokens):
                break
            for i in range(1, n):
                token = tokens[start + i]
                if prefix and i == last:
                    if not token.startswith(wanted[i]):
                        break
                elif token != wanted[i]:
                    break
            else:
                return True
        return False


@dataclass
class ArticleContext:
    """What every subscription's query is evaluated on: the shared view plus a token index."""

    article: Article
    view: ArticleView
    columns: dict[str, _Column]
    #: The events search sees (``fields.indexed_events``: not negated, not hypothetical).
    events: list[Event]
    _sets: dict[tuple[str, ...], frozenset[str] | set[str]] = field(default_factory=dict)

    def token_set(self, columns: tuple[str, ...]) -> frozenset[str] | set[str]:
        """Distinct tokens of ``columns`` together (cached per column tuple)."""
        found = self._sets.get(columns)
        if found is None:
            if len(columns) == 1:
                found = self.columns[columns[0]].distinct
            else:
                found = set()
                for column in columns:
                    found.update(self.columns[column].distinct)
            self._sets[columns] = found
        return found

    @classmethod
    def build(cls, article: Article) -> ArticleContext:
        view = view_of(article)
        columns = {c: _Column(t) for c, t in view.tokens.items()}
        return cls(article, view, columns, indexed_events(article))


_CACHE_SIZE = 8
_cache: OrderedDict[int, ArticleContext] = OrderedDict()
_lock = threading.Lock()


def context_of(article: Article) -> ArticleContext:
    """The (cached) context of ``article`` (the cache keeps the article, so ids are not reused)."""
    key = id(article)
    with _lock:
        found = _cache.get(key)
        if found is not None and found.article is article:
            _cache.move_to_end(key)
            return found
    built = ArticleContext.build(article)
    with _lock:
        _cache[key] = built
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return built


Compiled = Callable[["ArticleContext", dt.datetime], bool]


def _compile(node: ast.Node) -> Compiled:
    """The tree as nested closures (no per-article dispatch on node types)."""
    if isinstance(node, ast.Text):
        columns, tokens, prefix = node.columns, node.tokens, node.prefix
        if len(tokens) == 1 and not prefix:
            token = tokens[0]
            return lambda ctx, now: token in ctx.token_set(columns)

        def text(ctx: ArticleContext, now: dt.datetime) -> bool:
            return any(ctx.columns[c].contains(tokens, prefix) for c in columns)

        return text
    if isinstance(node, ast.And):
        parts = [_compile(c) for c in node.children]

        def conjunction(ctx: ArticleContext, now: dt.datetime) -> bool:
            # a plain loop: measurably cheaper than all() over a generator, per subscription
            for part in parts:  # noqa: SIM110
                if not part(ctx, now):
                    return False
            return True

        return conjunction
    if isinstance(node, ast.Or):
        options = [_compile(c) for c in node.children]

        def disjunction(ctx: ArticleContext, now: dt.datetime) -> bool:
            for option in options:  # noqa: SIM110
                if option(ctx, now):
                    return True
            return False

        return disjunction
    if isinstance(node, ast.Not):
        inner = _compile(node.child)
        return lambda ctx, now: not inner(ctx, now)
    return lambda ctx, now: shared_evaluate(node, ctx.view, now)


def compile_fast(query: ast.Query, *, clock: Clock = _utcnow) -> Callable[[ArticleContext], bool]:
    """A predicate over ``ArticleContext`` with the shared matcher's semantics."""
    compiled = _compile(query.root)

    def match(ctx: ArticleContext) -> bool:
        return compiled(ctx, clock())

    return match
