"""The topic contracts: models, schema files and decoding agree with each other."""

from __future__ import annotations

import json

import jsonschema
import pytest

from newswatch.errors import ContractError
from newswatch.models.messages import MESSAGE_KINDS, Message, decode, encode
from scripts.export_schemas import render, schema_path
from tests.factories import SAMPLES

KINDS = {model.KIND: model for model in MESSAGE_KINDS}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_schema_file_is_up_to_date(kind: str) -> None:
    model = KINDS[kind]
    path = schema_path(model)
    assert path.exists(), f"{path} missing: run scripts/export_schemas.py"
    assert path.read_text(encoding="utf-8") == render(model), (
        f"{path.name} is stale: run .venv/bin/python scripts/export_schemas.py"
    )


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_schema_file_is_a_valid_2020_12_schema(kind: str) -> None:
    schema = json.loads(schema_path(KINDS[kind]).read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_model_output_validates_against_schema_file(kind: str) -> None:
    schema = json.loads(schema_path(KINDS[kind]).read_text(encoding="utf-8"))
    payload = json.loads(encode(SAMPLES[kind]()))
    jsonschema.Draft202012Validator(schema).validate(payload)
    assert payload["schema"] == KINDS[kind].schema_id()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_schema_file_rejects_a_message_missing_a_required_field(kind: str) -> None:
    schema = json.loads(schema_path(KINDS[kind]).read_text(encoding="utf-8"))
    payload = json.loads(encode(SAMPLES[kind]()))
    required = [name for name in schema["required"] if name != "schema"]
    del payload[required[0]]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(payload)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_sample_round_trips(kind: str) -> None:
    model: type[Message] = KINDS[kind]
    original = SAMPLES[kind]()
    assert decode(model, encode(original)) == original


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_unknown_major_version_is_rejected_naming_schema(kind: str) -> None:
    model = KINDS[kind]
    payload = json.loads(encode(SAMPLES[kind]()))
    payload["schema"] = f"newswatch.{model.KIND}/{model.VERSION + 1}"
    with pytest.raises(ContractError, match="unsupported version") as info:
        decode(model, json.dumps(payload))
    assert info.value.field == "schema"


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("discovered", "feed_url"),
        ("article", "discovered_at"),
        ("alert", "channel"),
        ("deadletter", "stage"),
    ],
)
def test_missing_field_is_rejected_naming_the_field(kind: str, field: str) -> None:
    payload = json.loads(encode(SAMPLES[kind]()))
    del payload[field]
    with pytest.raises(ContractError, match=field) as info:
        decode(KINDS[kind], json.dumps(payload))
    assert info.value.field == field


def test_nested_field_error_names_the_path() -> None:
    payload = json.loads(encode(SAMPLES["article"]()))
    payload["events"][0]["fatalities"] = -3
    with pytest.raises(ContractError) as info:
        decode(KINDS["article"], json.dumps(payload))
    assert info.value.field == "events.0.fatalities"


def test_message_of_another_kind_is_rejected() -> None:
    with pytest.raises(ContractError, match="is not a"):
        decode(KINDS["article"], encode(SAMPLES["discovered"]()))


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"\xff\xfe", b'{"no": "schema"}'])
def test_garbage_is_a_contract_error(raw: bytes) -> None:
    with pytest.raises(ContractError):
        decode(KINDS["discovered"], raw)


def test_article_id_must_be_32_hex_chars() -> None:
    payload = json.loads(encode(SAMPLES["discovered"]()))
    payload["article_id"] = "XYZ"
    with pytest.raises(ContractError) as info:
        decode(KINDS["discovered"], json.dumps(payload))
    assert info.value.field == "article_id"
