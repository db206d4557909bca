"""What a query needs to be present: for an alerter's candidate index and for highlighting.

``candidate_keys(query)`` returns a set of keys such that *every* article matching the query has
at least one of them among ``article_candidate_keys(article)`` — or None when no such set exists
(pure negations, ranges, prefixes), in which case the rule must be evaluated on every article.
An alerter with thousands of rules indexes each rule under its keys, looks up the keys of each
article, and runs the full matcher only on those candidates (plus the rules keyed None).
"""

from __future__ import annotations

from newswatch.models.messages import Article
from newswatch.query import ast
from newswatch.query.matcher import view_of
from newswatch.query.parser import parse

__all__ = ["article_candidate_keys", "candidate_keys", "terms_of"]


def terms_of(query: ast.Query | str) -> list[tuple[str, str]]:
    """The query's positive leaves as ``(field, value)`` pairs, in order, without duplicates.

    Full-text leaves give ``(column or "text", analysed token)`` per token; keyword and bool
    leaves give ``(field, folded value)``; ranges give ``(field, "low..high")``. Leaves under a
    NOT are left out.
    """
    parsed = parse(query) if isinstance(query, str) else query
    out: dict[tuple[str, str], None] = {}

    def walk(node: ast.Node) -> None:
        if isinstance(node, ast.And | ast.Or):
            for child in node.children:
                walk(child)
        elif isinstance(node, ast.EventMatch):
            walk(node.child)
        elif isinstance(node, ast.Text):
            name = node.columns[0] if len(node.columns) == 1 else "text"
            for i, token in enumerate(node.tokens):
                last = node.prefix and i == len(node.tokens) - 1
                out.setdefault((name, token + ("*" if last else "")), None)
        elif isinstance(node, ast.Keyword):
            out.setdefault((node.field, node.value + ("*" if node.prefix else "")), None)
        elif isinstance(node, ast.Bool):
            out.setdefault((node.field, "true" if node.value else "false"), None)
        elif isinstance(node, ast.Range):
            low = "*" if node.low is None else str(node.low)
            high = "*" if node.high is None else str(node.high)
            out.setdefault((node.field, f"{low}..{high}"), None)

    walk(parsed.root)
    return list(out)


def _keys(node: ast.Node, event: bool) -> frozenset[str] | None:
    if isinstance(node, ast.And):
        options = [k for k in (_keys(c, event) for c in node.children) if k is not None]
        return min(options, key=len) if options else None
    if isinstance(node, ast.Or):
        union: set[str] = set()
        for child in node.children:
            keys = _keys(child, event)
            if keys is None:
                return None
            union |= keys
        return frozenset(union)
    if isinstance(node, ast.EventMatch):
        return _keys(node.child, True)
    if isinstance(node, ast.Text):
        if node.prefix:
            return None
        return frozenset({"tok:" + max(node.tokens, key=len)})
    if isinstance(node, ast.Keyword):
        if node.prefix:
            return None
        return frozenset({("ev:" if event else "kw:") + f"{node.key}:{node.value}"})
    return None  # Not, Range, Bool, MatchAll: cannot be keyed


def candidate_keys(query: ast.Query | str) -> frozenset[str] | None:
    """Keys one of which every matching article has, or None (evaluate on every article)."""
    parsed = parse(query) if isinstance(query, str) else query
    return _keys(parsed.root, False)


def article_candidate_keys(article: Article) -> set[str]:
    """All keys ``article`` has, in the vocabulary of ``candidate_keys``."""
    view = view_of(article)
    keys = {"tok:" + t for tokens in view.tokens.values() for t in tokens}
    for name, values in view.keys.items():
        keys.update(f"kw:{name}:{v}" for v in values)
    for event in view.events:
        for name, values in event.keys.items():
            keys.update(f"ev:{name}:{v}" for v in values)
    return keys
