"""One text column of one article, indexed for the matcher's fast path.

Why: the plain path (``matcher._contains``) scans the token list once per term, which is right
and simple but costs a pass over the text per term per rule; an alerter running thousands of
rules over one article spent three quarters of its time there. A column keeps its distinct tokens
(a single-token term is a set lookup) and, built on first need, each token's positions (a phrase
checks only the places its first token occurs).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["TokenColumn"]


class TokenColumn:
    """A column's tokens, their distinct set, and token positions (phrases and prefixes only)."""

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
        """Whether ``wanted`` occurs as consecutive tokens (the last one as a prefix when
        ``prefix``): the same answer as ``matcher._contains(tokens, wanted, prefix)``."""
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
        tokens = self.tokens
        last = n - 1
        for start in self.positions[wanted[0]]:
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
