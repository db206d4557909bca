"""The query language: parsing into the typed tree, and the errors it refuses with."""

from __future__ import annotations

import datetime as dt

import pytest

from newswatch.errors import QueryError
from newswatch.query import ast, candidate_keys, parse, terms_of


def test_default_operator_is_and_and_negation_is_not() -> None:
    root = parse('Derna AND (airstrike OR "air strike") -football').root
    assert isinstance(root, ast.And)
    flat = repr(root)
    assert "Not(child=Text" in flat and "'football'" in flat
    assert "Or(children=(Text" in flat


def test_phrase_keeps_analysed_tokens() -> None:
    node = parse('"Air Strikes"').root
    assert isinstance(node, ast.Text)
    assert node.phrase and node.tokens == ("air", "strike")


def test_hyphenated_word_becomes_a_phrase() -> None:
    node = parse("al-Qaeda").root
    assert isinstance(node, ast.Text) and node.phrase and node.tokens == ("al", "qaeda")


def test_event_conditions_joined_by_and_share_one_event() -> None:
    root = parse('event.type:"Battles" AND fatalities:>=10 AND Derna').root
    assert isinstance(root, ast.And)
    event = root.children[0]
    assert isinstance(event, ast.EventMatch)
    assert isinstance(event.child, ast.And) and len(event.child.children) == 2


def test_negated_event_condition_is_outside_the_event() -> None:
    root = parse("-fatalities:>=10").root
    assert isinstance(root, ast.Not) and isinstance(root.child, ast.EventMatch)


def test_numeric_comparisons() -> None:
    node = parse("fatalities:>10").root
    assert isinstance(node, ast.EventMatch)
    rng = node.child
    assert isinstance(rng, ast.Range)
    assert (rng.low, rng.high, rng.include_low) == (10.0, None, False)


def test_day_range_covers_the_whole_last_day() -> None:
    node = parse("published_at:[2024-01-01 TO 2024-02-01]").root
    assert isinstance(node, ast.Range)
    assert node.low == dt.datetime(2024, 1, 1, tzinfo=dt.UTC) and node.include_low
    assert node.high == dt.datetime(2024, 2, 2, tzinfo=dt.UTC) and not node.include_high


def test_relative_dates_stay_relative() -> None:
    node = parse("published_at:>=now-7d").root
    assert isinstance(node, ast.Range) and isinstance(node.low, ast.RelativeTime)
    assert node.low.offset_s == -7 * 86400


def test_keyword_values_are_folded_and_countries_resolved() -> None:
    assert parse("place:BENGHAZÍ").root == ast.Keyword(
        "place", "place", "benghazi", "article", pos=6
    )
    node = parse("country:Libya").root
    assert isinstance(node, ast.Keyword) and node.value == "ly"


def test_event_type_is_checked_against_the_taxonomy() -> None:
    node = parse('event.subtype:"air/drone STRIKE"').root
    assert isinstance(node, ast.EventMatch)
    with pytest.raises(QueryError, match="did you mean 'Air/drone strike'"):
        parse("event.subtype:airstrike")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("foo:bar", "unknown field 'foo'"),
        ("a AND (b", "syntax error"),
        ("a~2", "fuzzy"),
        ('"a b"~2', "proximity"),
        ("a^2", "boosts"),
        ("a*b", "trailing"),
        ("fatalities:lots", "takes a number"),
        ("published_at:yesterday", "takes a date"),
        ("title:[a TO b]", "ranges apply"),
        ("terrorism:maybe", "true or false"),
        ("country:Atlantis", "unknown country"),
        ('"!!"', "no searchable"),
    ],
)
def test_errors_name_the_problem(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse(query)


def test_error_names_the_position() -> None:
    with pytest.raises(QueryError, match="position 21"):
        parse("Derna OR fatalities:many")


def test_terms_and_candidate_keys() -> None:
    query = parse('Derna AND (country:LY OR country:EG) -"football match"')
    assert terms_of(query) == [("text", "derna"), ("country", "ly"), ("country", "eg")]
    assert candidate_keys(query) == frozenset({"tok:derna"})
    assert candidate_keys("country:LY OR tag:smuggling") == {"kw:country:ly", "kw:tag:smuggling"}
    assert candidate_keys("-football") is None
    assert candidate_keys("fatalities:>3 OR Derna") is None


def test_event_type_takes_either_level_of_the_taxonomy() -> None:
    """The design writes ``event.type:"Air/drone strike"``: a sub-type under event.type."""
    from newswatch.query import compile_matcher
    from tests.factories import article

    strike = article()  # an Air/drone strike, type Explosions/Remote violence
    assert compile_matcher('event.type:"Air/drone strike"')(strike)
    assert compile_matcher('event.type:"Explosions/Remote violence"')(strike)
    assert not compile_matcher('event.type:"Armed clash"')(strike)
    assert not compile_matcher("event.type:Battles")(strike)
    with pytest.raises(QueryError, match="did you mean"):
        compile_matcher('event.type:"Air strike"')
