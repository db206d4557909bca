"""Parse Lucene-style query text (with luqum) into the typed tree of ``ast.py``.

Grammar, from luqum: words, ``"phrases"``, ``field:value``, ``field:(a OR b)``, ``AND``, ``OR``,
``NOT``/``-``, ``+``, parentheses, ranges ``[a TO b]``/``{a TO b}`` and ``field:>=n``. Juxtaposed
terms are joined with AND (the default operator). luqum binds AND tighter than OR and the
implicit operator loosest: ``a OR b c`` is ``(a OR b) AND c``.

Refused with a ``QueryError`` naming the position: unknown fields, fuzzy (``~``), proximity,
boosts, regular expressions, wildcards other than one trailing ``*``, ranges on text fields,
and values a field cannot hold (``fatalities:many``). Silent acceptance of something a backend
would interpret differently is exactly what this module exists to prevent.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re

import pycountry
from luqum import tree as lq
from luqum.exceptions import IllegalCharacterError, ParseError
from luqum.parser import parser as _luqum

from newswatch.errors import QueryError
from newswatch.models.events import EVENT_TYPES, SUB_EVENT_TYPES
from newswatch.query import ast
from newswatch.query.analysis import fold, tokenize
from newswatch.query.fields import DEFAULT_TEXT_FIELDS, FieldSpec, field_names, lookup

__all__ = ["parse"]

_UNESCAPE = re.compile(r"\\(.)")
_RELATIVE = re.compile(r"^now(?:(?P<sign>[+-])(?P<n>\d+)(?P<unit>[smhdw]))?(?P<round>/d)?$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}

_TYPES = {fold(t): t for t in EVENT_TYPES}
_SUBTYPES = {fold(s): s for subs in SUB_EVENT_TYPES.values() for s in subs}


def parse(text: str) -> ast.Query:
    """Parse ``text`` into a ``Query`` or raise ``QueryError`` saying what and where."""
    source = text.strip()
    if not source or source == "*":
        return ast.Query(text, ast.MatchAll())
    try:
        tree = _luqum.parse(source)
    except IllegalCharacterError as exc:
        raise QueryError(f"query {source!r}: {exc}") from exc
    except ParseError as exc:
        message = str(exc).replace("Syntax error in input : ", "")
        raise QueryError(f"query {source!r}: syntax error: {message}") from exc
    node, event_pure = _Converter(source).convert(tree, None)
    root = ast.EventMatch(node) if event_pure else node
    return ast.Query(text, root)


class _Converter:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, item: lq.Item, problem: str) -> QueryError:
        pos = getattr(item, "pos", None)
        where = f" at position {pos + 1}" if isinstance(pos, int) else ""
        return QueryError(f"query {self.source!r}{where}: {problem}")

    # Each conversion returns (node, event_pure): event-pure subtrees are left unwrapped so a
    # parent AND can evaluate its event conditions on one event together.
    def convert(self, item: lq.Item, spec: FieldSpec | None) -> tuple[ast.Node, bool]:
        if isinstance(item, lq.SearchField):
            if spec is not None:
                raise self.fail(item, f"field {item.name!r} inside field {spec.name!r}")
            found = lookup(item.name)
            if found is None:
                close = difflib.get_close_matches(item.name, field_names(), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.fail(
                    item,
                    f"unknown field {item.name!r}{hint}; known fields: {', '.join(field_names())}",
                )
            return self.convert(item.expr, found)
        if isinstance(item, lq.Group | lq.FieldGroup):
            return self.convert(item.expr, spec)
        if isinstance(item, lq.AndOperation | lq.UnknownOperation):
            return self._and([self.convert(c, spec) for c in item.children])
        if isinstance(item, lq.OrOperation):
            return self._or([self.convert(c, spec) for c in item.children])
        if isinstance(item, lq.Not | lq.Prohibit):
            child, pure = self.convert(item.a, spec)
            return ast.Not(ast.EventMatch(child) if pure else child), False
        if isinstance(item, lq.Plus):
            return self.convert(item.a, spec)
        if isinstance(item, lq.Word | lq.Phrase):
            return self._leaf(item, spec)
        if isinstance(item, lq.Range | lq.From | lq.To):
            return self._range(item, spec)
        if isinstance(item, lq.Fuzzy):
            raise self.fail(item, "fuzzy matching (~) is not supported")
        if isinstance(item, lq.Proximity):
            raise self.fail(item, 'proximity search ("…"~n) is not supported')
        if isinstance(item, lq.Boost):
            raise self.fail(item, "boosts (^) are not supported")
        if isinstance(item, lq.Regex):
            raise self.fail(item, "regular expressions are not supported")
        raise self.fail(item, f"unsupported syntax {str(item)!r}")

    @staticmethod
    def _and(parts: list[tuple[ast.Node, bool]]) -> tuple[ast.Node, bool]:
        if all(pure for _, pure in parts):
            return ast.And(tuple(n for n, _ in parts)), True
        event = [n for n, pure in parts if pure]
        rest = [n for n, pure in parts if not pure]
        if event:
            grouped = event[0] if len(event) == 1 else ast.And(tuple(event))
            rest.insert(0, ast.EventMatch(grouped))
        return ast.And(tuple(rest)), False

    @staticmethod
    def _or(parts: list[tuple[ast.Node, bool]]) -> tuple[ast.Node, bool]:
        if all(pure for _, pure in parts):
            return ast.Or(tuple(n for n, _ in parts)), True
        return ast.Or(tuple(ast.EventMatch(n) if pure else n for n, pure in parts)), False

    # -- leaves ---------------------------------------------------------------------------------

    def _value(self, item: lq.Word | lq.Phrase) -> tuple[str, bool]:
        """The unescaped value and whether it ends with a prefix ``*``."""
        if isinstance(item, lq.Phrase):
            return _UNESCAPE.sub(r"\1", item.value[1:-1]), False
        raw = item.value
        prefix = raw.endswith("*") and not raw.endswith("\\*")
        if prefix:
            raw = raw[:-1]
        unescaped = _UNESCAPE.sub(r"\1", raw)
        bare = re.sub(r"\\.", "", raw)
        if "*" in bare or "?" in bare:
            raise self.fail(item, "wildcards are only supported as one trailing '*'")
        if prefix and not unescaped:
            raise self.fail(item, "a lone '*' is only allowed as the whole query")
        return unescaped, prefix

    def _leaf(self, item: lq.Word | lq.Phrase, spec: FieldSpec | None) -> tuple[ast.Node, bool]:
        value, prefix = self._value(item)
        pos = item.pos or 0
        if spec is None or spec.kind == "text":
            columns = DEFAULT_TEXT_FIELDS if spec is None else spec.columns
            tokens = tuple(tokenize(value))
            if not tokens:
                raise self.fail(item, f"{value!r} has no searchable letters or digits")
            if prefix and len(tokens) > 1:
                raise self.fail(item, "a prefix ('*') must be one word")
            phrase = isinstance(item, lq.Phrase) or len(tokens) > 1
            return ast.Text(columns, value, tokens, phrase, prefix, pos), False
        pure = spec.scope == "event"
        if spec.kind == "keyword":
            normalised = self._keyword(item, spec, value, prefix)
            return ast.Keyword(spec.name, spec.key, normalised, spec.scope, prefix, pos), pure
        if prefix:
            raise self.fail(item, f"'*' does not apply to {spec.kind} field {spec.name!r}")
        if spec.kind == "bool":
            flag = _BOOLS.get(value.lower())
            if flag is None:
                raise self.fail(item, f"{spec.name} takes true or false, not {value!r}")
            return ast.Bool(spec.name, spec.key, flag, spec.scope, pos), pure
        if spec.kind == "number":
            number = self._number(item, spec, value)
            return ast.Range(
                spec.name, spec.key, "number", spec.scope, number, number, pos=pos
            ), pure
        low = self._date(item, spec, value, upper=False)
        high = self._date(item, spec, value, upper=True)
        return ast.Range(
            spec.name, spec.key, "date", spec.scope, low, high, True, _day_only(value) is None, pos
        ), pure

    def _keyword(self, item: lq.Item, spec: FieldSpec, value: str, prefix: bool) -> str:
        folded = fold(value)
        if not folded:
            raise self.fail(item, f"empty value for {spec.name}")
        if prefix:
            return folded
        if spec.key in ("country", "source_country"):
            return self._country(item, value)
        if spec.key in ("type", "subtype", "any_type"):
            known = {"type": _TYPES, "subtype": _SUBTYPES}.get(spec.key) or {**_TYPES, **_SUBTYPES}
            if folded not in known:
                close = difflib.get_close_matches(folded, list(known), n=1)
                hint = f"; did you mean {known[close[0]]!r}?" if close else ""
                raise self.fail(item, f"{value!r} is not an ACLED {spec.name}{hint}")
        return folded

    def _country(self, item: lq.Item, value: str) -> str:
        if len(value) == 2 and value.isalpha():
            return fold(value)
        try:
            found = pycountry.countries.lookup(value)
        except LookupError:
            raise self.fail(item, f"unknown country {value!r} (use an ISO code like LY)") from None
        return fold(found.alpha_2)

    def _number(self, item: lq.Item, spec: FieldSpec, value: str) -> float:
        try:
            return float(value)
        except ValueError:
            raise self.fail(item, f"{spec.name} takes a number, not {value!r}") from None

    def _date(self, item: lq.Item, spec: FieldSpec, value: str, *, upper: bool) -> ast.Bound:
        """A date bound. A bare day as an upper bound stands for the end of that day."""
        match = _RELATIVE.match(value.strip().lower())
        if match:
            n = int(match["n"] or 0) * _UNITS[match["unit"] or "s"]
            offset = -n if match["sign"] == "-" else n
            return ast.RelativeTime(float(offset), bool(match["round"]))
        day = _day_only(value)
        if day is not None:
            start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
            return start + dt.timedelta(days=1) if upper else start
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise self.fail(
                item, f"{spec.name} takes a date like 2024-03-08 or now-7d, not {value!r}"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC)

    def _range(
        self, item: lq.Range | lq.From | lq.To, spec: FieldSpec | None
    ) -> tuple[ast.Node, bool]:
        if spec is None or spec.kind not in ("number", "date"):
            what = "a bare range" if spec is None else f"{spec.kind} field {spec.name!r}"
            raise self.fail(item, f"ranges apply to number and date fields, not {what}")
        if isinstance(item, lq.Range):
            low_item, high_item = item.low, item.high
            inc_low, inc_high = bool(item.include_low), bool(item.include_high)
        elif isinstance(item, lq.From):
            low_item, high_item, inc_low, inc_high = item.a, None, bool(item.include), True
        else:
            low_item, high_item, inc_low, inc_high = None, item.a, True, bool(item.include)
        low = self._bound(low_item, spec, upper=False, inclusive=inc_low)
        high = self._bound(high_item, spec, upper=True, inclusive=inc_high)
        if spec.kind == "date":
            # Day bounds were turned into [start, start) instants above.
            inc_low = True if _is_day(low_item) else inc_low
            inc_high = False if _is_day(high_item) else inc_high
        pure = spec.scope == "event"
        return ast.Range(
            spec.name, spec.key, spec.kind, spec.scope, low, high, inc_low, inc_high, item.pos or 0
        ), pure

    def _bound(
        self, item: lq.Item | None, spec: FieldSpec, *, upper: bool, inclusive: bool
    ) -> ast.Bound:
        if item is None:
            return None
        if not isinstance(item, lq.Word | lq.Phrase):
            raise self.fail(item, "a range bound must be a value")
        value = (
            item.value[1:-1] if isinstance(item, lq.Phrase) else _UNESCAPE.sub(r"\1", item.value)
        )
        if value == "*":
            return None
        if spec.kind == "number":
            return self._number(item, spec, value)
        if _day_only(value) is not None:
            # [d1 TO d2] covers all of d2; {d1 TO …} starts after all of d1.
            day_end = not inclusive if not upper else inclusive
            return self._date(item, spec, value, upper=day_end)
        return self._date(item, spec, value, upper=False)


def _day_only(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip()) if len(value.strip()) == 10 else None
    except ValueError:
        return None


def _is_day(item: lq.Item | None) -> bool:
    if not isinstance(item, lq.Word | lq.Phrase):
        return False
    value = item.value[1:-1] if isinstance(item, lq.Phrase) else item.value
    return _day_only(value) is not None
