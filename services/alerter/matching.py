"""Which subscriptions does an article match? Pure functions over ``Article`` and ``Subscription``.

``evaluate(compiled, article)`` is the definition: the subscription's query (the shared query
language's in-memory matcher, so an alert fires on exactly what search finds) and its structured
criteria (regions, event types, fatalities, background; see ``subscriptions``).

``SubscriptionIndex`` gives the same answers fast. Each subscription is filed under *one* set of
keys such that every article it matches carries at least one of them:

* the query's candidate keys (``newswatch.query.candidate_keys``: a rare token of each
  alternative, keyword values);
* its event types / sub-types (``ev:type:…``, ``ev:subtype:…``);
* its regions (``cc:LY``, ``a1:EG:north sinai``, 1° cells ``g:31:33`` for boxes and circles);
* its fatality threshold (``f:10``: the article has an event with at least that many killed).

All criteria must hold, so any one of these sets is a sound filter; the cheapest is chosen (the
estimated number of articles carrying the keys). Subscriptions with no usable set (a pure
negation, say) are evaluated on every article. An article computes its own keys once, gathers
the subscriptions filed under them, and runs ``evaluate`` on those candidates only. The unit
tests hold the index to brute force on random subscriptions and articles.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from newswatch.errors import QueryError
from newswatch.models.events import Event
from newswatch.models.messages import Article
from newswatch.query import ast as qast
from newswatch.query import candidate_keys, parse
from newswatch.query.analysis import fold
from newswatch.query.matcher import ArticleView, compile_view_matcher, view_of
from services.alerter.errors import SubscriptionError
from services.alerter.regions import in_regions, location_keys, region_keys
from services.alerter.subscriptions import Subscription

__all__ = [
    "CompiledSubscription",
    "Match",
    "SubscriptionIndex",
    "article_keys",
    "brute_force",
    "check_query",
    "compile_subscription",
    "evaluate",
    "highlight_terms",
]

Clock = Callable[[], dt.datetime]

#: Fatality thresholds used as index keys (``f:<t>``): a subscription wanting N is filed under the
#: largest threshold <= N; an article carries every threshold <= its deadliest event.
FATALITY_STEPS: tuple[int, ...] = (1, 2, 3, 5, 10, 20, 50, 100, 500, 1000)

#: Rough share of articles carrying a key of each kind (lower is rarer); picks the best key set.
_COST: tuple[tuple[str, float], ...] = (
    ("tok:", 1.0),
    ("kw:id:", 0.01),
    ("ev:subtype:", 4.0),
    ("ev:any_type:", 6.0),
    ("ev:type:", 8.0),
    ("kw:country:", 12.0),
    ("ev:country:", 10.0),
    ("cc:", 10.0),
    ("kw:source_country:", 15.0),
    ("kw:lang:", 40.0),
    ("kw:source:", 5.0),
    ("g:", 2.0),
    ("a1:", 2.0),
    ("f:", 6.0),
)
#: Words so common that keying a rule under them buys little.
_COMMON_TOKENS = frozenset(
    {
        "the",
        "a",
        "an",
        "of",
        "in",
        "on",
        "at",
        "to",
        "and",
        "or",
        "for",
        "is",
        "are",
        "was",
        "were",
        "be",
        "by",
        "with",
        "from",
        "that",
        "this",
        "it",
        "as",
        "said",
        "have",
        "has",
        "had",
        "not",
        "but",
    }
)


def _cost(keys: frozenset[str]) -> float:
    total = 0.0
    for key in keys:
        for prefix, cost in _COST:
            if key.startswith(prefix):
                if prefix == "tok:" and key[4:] in _COMMON_TOKENS:
                    cost = 50.0
                total += cost
                break
        else:
            total += 3.0
    return total


def check_query(query: str) -> qast.Query:
    """Parse ``query`` or raise ``SubscriptionError`` saying what is wrong with it."""
    try:
        return parse(query)
    except QueryError as exc:
        raise SubscriptionError(f"query: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Match:
    """One subscription an article matched, with what to show in the alert."""

    subscription: Subscription
    #: The events that satisfied the criteria (or the article's countable events).
    events: tuple[Event, ...]
    #: Query tokens to highlight (analysed form: lower-case, stemmed).
    terms: tuple[str, ...]


@dataclass
class CompiledSubscription:
    sub: Subscription
    matcher: Callable[[ArticleView], bool] | None
    terms: tuple[str, ...]
    prefixes: tuple[str, ...]
    #: The keys it is filed under in the index, or None (evaluated on every article).
    keys: frozenset[str] | None = None
    #: Index keys of its region, for the exact test's fast path (None: not indexable).
    region_keys: frozenset[str] | None = None
    #: Every key set it could be filed under: each is a necessary condition, so an article
    #: lacking all keys of any one of them is skipped before the full test.
    dimensions: tuple[frozenset[str], ...] = ()
    event_criteria: bool = False
    has_regions: bool = False
    type_names: frozenset[str] = frozenset()
    subtype_names: frozenset[str] = frozenset()
    highlight: tuple[str, ...] = ()


def highlight_terms(query: qast.Query) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Positive full-text tokens of ``query`` (not under a NOT): whole tokens and prefixes."""
    tokens: dict[str, None] = {}
    prefixes: dict[str, None] = {}

    def walk(node: qast.Node) -> None:
        if isinstance(node, qast.And | qast.Or):
            for child in node.children:
                walk(child)
        elif isinstance(node, qast.EventMatch):
            walk(node.child)
        elif isinstance(node, qast.Text):
            for i, token in enumerate(node.tokens):
                if node.prefix and i == len(node.tokens) - 1:
                    prefixes.setdefault(token, None)
                else:
                    tokens.setdefault(token, None)

    walk(query.root)
    return tuple(tokens), tuple(prefixes)


def _type_keys(sub: Subscription) -> frozenset[str] | None:
    if not (sub.event_types or sub.sub_event_types):
        return None
    keys = {f"ev:type:{fold(t)}" for t in sub.event_types}
    keys |= {f"ev:subtype:{fold(s)}" for s in sub.sub_event_types}
    return frozenset(keys)


def _fatality_key(minimum: int) -> frozenset[str] | None:
    steps = [s for s in FATALITY_STEPS if s <= minimum]
    return frozenset({f"f:{steps[-1]}"}) if steps else None


def compile_subscription(sub: Subscription, *, clock: Clock | None = None) -> CompiledSubscription:
    """Parse the query once and choose the subscription's index keys."""
    matcher = None
    terms: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    options: list[frozenset[str]] = []
    if sub.query.strip():
        parsed = check_query(sub.query)
        if not isinstance(parsed.root, qast.MatchAll):
            matcher = (
                compile_view_matcher(parsed)
                if clock is None
                else compile_view_matcher(parsed, clock=clock)
            )
            terms, prefixes = highlight_terms(parsed)
            qkeys = candidate_keys(parsed)
            if qkeys is not None:
                options.append(qkeys)
    types = _type_keys(sub)
    if types is not None:
        options.append(types)
    regions = None if sub.regions.is_empty() else region_keys(sub.regions)
    if regions is not None:
        options.append(regions)
    if sub.min_fatalities > 0:
        fatal = _fatality_key(sub.min_fatalities)
        if fatal is not None:
            options.append(fatal)
    keys = min(options, key=_cost) if options else None
    others = tuple(o for o in options if o is not keys)
    return CompiledSubscription(
        sub,
        matcher,
        terms,
        prefixes,
        keys,
        regions,
        others,
        event_criteria=sub.has_event_criteria,
        has_regions=not sub.regions.is_empty(),
        type_names=frozenset(sub.event_types),
        subtype_names=frozenset(sub.sub_event_types),
        highlight=terms + tuple(p + "*" for p in prefixes),
    )


# -- the exact test -----------------------------------------------------------------------------


def _event_ok(compiled: CompiledSubscription, event: Event) -> bool:
    sub = compiled.sub
    if event.background and not sub.include_background:
        return False
    if (compiled.type_names or compiled.subtype_names) and not (
        event.event_type in compiled.type_names or event.sub_event_type in compiled.subtype_names
    ):
        return False
    if event.fatalities < sub.min_fatalities:
        return False
    if not compiled.has_regions:
        return True
    loc = event.location
    return loc is not None and in_regions(
        sub.regions, loc.country_code, loc.admin1, loc.lat, loc.lon
    )


def evaluate(
    compiled: CompiledSubscription, article: Article, view: ArticleView | None = None
) -> Match | None:
    """Whether ``article`` matches the subscription (the definition the index must agree with).
    ``view`` is the article's query view (``view_of``) when the caller already has it."""
    sub = compiled.sub
    if not sub.enabled:
        return None
    view = view or view_of(article)
    # The query first: mostly token-set lookups, and the commonest reason a candidate fails.
    if compiled.matcher is not None and not compiled.matcher(view):
        return None
    events = view.indexed_events
    if compiled.event_criteria:
        chosen = tuple(e for e in events if _event_ok(compiled, e))
        if not chosen:
            return None
    elif compiled.has_regions:
        chosen = tuple(e for e in events if _event_ok(compiled, e))
        if not chosen and not any(
            in_regions(sub.regions, p.country_code, p.admin1, p.lat, p.lon) for p in article.places
        ):
            return None
    else:
        chosen = tuple(e for e in events if sub.include_background or not e.background)
    return Match(sub, chosen, compiled.highlight)


def brute_force(compiled: Iterable[CompiledSubscription], article: Article) -> list[Match]:
    """Every subscription evaluated in turn: the reference the index is tested against."""
    view = view_of(article)
    return [m for c in compiled if (m := evaluate(c, article, view)) is not None]


# -- the index ----------------------------------------------------------------------------------


def article_keys(article: Article, view: ArticleView | None = None) -> set[str]:
    """Every index key ``article`` carries: the query language's candidate keys (what
    ``newswatch.query.article_candidate_keys`` returns, built here from the cached token sets —
    a unit test holds the two equal), region keys and fatality thresholds."""
    view = view or view_of(article)
    keys = {"tok:" + t for t in view.token_set(tuple(view.tokens))}
    for name, values in view.keys.items():
        keys.update(f"kw:{name}:{v}" for v in values)
    for event_view in view.events:
        for name, values in event_view.keys.items():
            keys.update(f"ev:{name}:{v}" for v in values)
    deadliest = 0
    for event in article.events:
        deadliest = max(deadliest, event.fatalities)
        loc = event.location
        if loc is not None:
            keys |= location_keys(loc.country_code, loc.admin1, loc.lat, loc.lon)
    for place in article.places:
        keys |= location_keys(place.country_code, place.admin1, place.lat, place.lon)
    keys.update(f"f:{s}" for s in FATALITY_STEPS if s <= deadliest)
    return keys


@dataclass
class SubscriptionIndex:
    """An inverted index of subscriptions: key → subscriptions filed under it."""

    compiled: list[CompiledSubscription] = field(default_factory=list)
    postings: dict[str, list[int]] = field(default_factory=dict)
    always: list[int] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls, subs: Iterable[Subscription], *, clock: Clock | None = None
    ) -> SubscriptionIndex:
        """Compile and file every enabled subscription. One that fails to compile (a query that
        a newer parser refuses) is left out and reported in ``errors``, never fatal."""
        index = cls()
        for sub in subs:
            if not sub.enabled:
                continue
            try:
                compiled = compile_subscription(sub, clock=clock)
            except SubscriptionError as exc:
                index.errors[sub.id] = str(exc)
                continue
            position = len(index.compiled)
            index.compiled.append(compiled)
            if compiled.keys is None:
                index.always.append(position)
            else:
                for key in compiled.keys:
                    index.postings.setdefault(key, []).append(position)
        return index

    def __len__(self) -> int:
        return len(self.compiled)

    def candidates(
        self, article: Article, keys: set[str] | None = None
    ) -> list[CompiledSubscription]:
        """The subscriptions filed under one of the article's keys (or under none)."""
        seen: set[int] = set(self.always)
        postings = self.postings
        for key in article_keys(article) if keys is None else keys:
            found = postings.get(key)
            if found:
                seen.update(found)
        return [self.compiled[i] for i in sorted(seen)]

    def match(self, article: Article) -> list[Match]:
        """The subscriptions ``article`` matches, in the order they were added."""
        view = view_of(article)
        keys = article_keys(article, view)
        found = []
        for compiled in self.candidates(article, keys):
            skip = False
            for dimension in compiled.dimensions:
                if dimension.isdisjoint(keys):
                    skip = True  # another necessary key set is absent: cannot match
                    break
            if skip:
                continue
            match = evaluate(compiled, article, view)
            if match is not None:
                found.append(match)
        return found


# -- snippets -----------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")


@dataclass
class _Words:
    """An article's body as words with their analysed tokens (one FTS5 call per article)."""

    text: str
    starts: list[int]
    ends: list[int]
    tokens: list[str]
    first: dict[str, int]

    @classmethod
    def build(cls, article: Article) -> _Words:
        from newswatch.query.analysis import tokenize

        text = " ".join((article.text or article.summary or article.title or "").split())
        found = list(_WORD.finditer(text))
        words = [m.group(0) for m in found]
        tokens = tokenize("\n".join(words)) if words else []
        if len(tokens) != len(words):  # a word the index splits or drops: one at a time
            tokens = [(tokenize(w) or [""])[0] for w in words]
        first: dict[str, int] = {}
        for i, token in enumerate(tokens):
            first.setdefault(token, i)
        return cls(text, [m.start() for m in found], [m.end() for m in found], tokens, first)


_words_cache: OrderedDict[int, tuple[Article, _Words]] = OrderedDict()
_words_lock = threading.Lock()


def _words_of(article: Article) -> _Words:
    key = id(article)
    with _words_lock:
        cached = _words_cache.get(key)
        if cached is not None and cached[0] is article:
            return cached[1]
    built = _Words.build(article)
    with _words_lock:
        _words_cache[key] = (article, built)
        while len(_words_cache) > 8:
            _words_cache.popitem(last=False)
    return built


def snippet(
    article: Article, terms: Sequence[str], *, width: int = 320
) -> tuple[str, list[tuple[int, int]]]:
    """A short passage of the article around the first matched term, and the spans of matched
    words in it (for highlighting). Terms are analysed tokens (``air*`` for a prefix); a word
    matches when its own analysed token equals a term (or starts with a prefix term)."""
    words = _words_of(article)
    text = words.text
    if not text:
        return "", []
    exact = {t for t in terms if not t.endswith("*")}
    prefixes = tuple(t[:-1] for t in terms if t.endswith("*"))

    def hit(token: str) -> bool:
        return token in exact or (bool(prefixes) and token.startswith(prefixes))

    firsts = [words.first[t] for t in exact if t in words.first]
    if prefixes:
        firsts += [i for t, i in words.first.items() if t.startswith(prefixes)]
    start = 0
    if firsts and len(text) > width:
        start = max(0, words.starts[min(firsts)] - width // 4)
        if start > 0:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < start + 30 else start
    end = min(len(text), start + width)
    if end < len(text):
        cut = text.rfind(" ", start, end)
        if cut > start + width * 0.6:
            end = cut
    lead = "… " if start > 0 else ""
    tail = " …" if end < len(text) else ""
    spans = []
    if exact or prefixes:
        for i in range(bisect.bisect_left(words.starts, start), len(words.starts)):
            if words.ends[i] > end:
                break
            if hit(words.tokens[i]):
                spans.append(
                    (words.starts[i] - start + len(lead), words.ends[i] - start + len(lead))
                )
    return lead + text[start:end] + tail, spans
