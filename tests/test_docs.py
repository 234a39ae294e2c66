"""docs/protocol.md documents every message type, error code and close code of the live link.

The code is the source of truth: the messages come from ``protocol.CLIENT_TYPES`` and
``protocol.SERVER_TYPES``, the error codes and close codes are read from the source of the
consumer, the protocol module and the live services. Adding one without documenting it
fails here.
"""

from __future__ import annotations

import ast
import re
import types
import typing
from pathlib import Path

from pydantic import BaseModel

from cartable.live import protocol

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "protocol.md"
LIVE = ROOT / "cartable" / "live"
# Where error codes are born: the consumer answers with them, the protocol parser and the
# services raise them (``LiveError.code`` is a protocol error code by contract).
ERROR_SOURCES = [LIVE / "consumers.py", LIVE / "protocol.py", LIVE / "services.py"]
ERROR_CALLS = {"_refuse", "_fail", "ProtocolError", "LiveError"}

MESSAGE_HEADING = re.compile(r"^### `([a-z_]+)`\s*$", re.MULTILINE)


def sections(text: str, level: int) -> dict[str, str]:
    """The doc's sections of one heading level, by title, each up to the next such heading.

    Headings inside fenced code blocks are not headings.
    """
    found: dict[str, list[str]] = {}
    current = None
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        heading = None if fenced else re.match(r"(#{1,6}) (.*)", line)
        if heading and len(heading.group(1)) == level:
            current = heading.group(2).strip()
            found[current] = []
        elif heading and len(heading.group(1)) < level:
            current = None
        elif current is not None:
            found[current].append(line)
    return {title: "\n".join(lines) for title, lines in found.items()}


def doc_sections() -> dict[str, str]:
    return sections(DOC.read_text(encoding="utf-8"), 2)


def table_first_column(section: str) -> set[str]:
    """Backticked values in the first column of the Markdown tables of a section."""
    values = set()
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and cells:
            values.update(re.findall(r"`([^`]+)`", cells[0]))
    return values


def called_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def error_codes_in_source() -> dict[str, str]:
    """Every literal error code passed to an error helper, with where it was found."""
    codes = {}
    for path in ERROR_SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and called_name(node) in ERROR_CALLS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                codes.setdefault(node.args[0].value, f"{path.name}:{node.lineno}")
    return codes


def close_codes_in_source() -> dict[str, int]:
    """The CLOSE_* constants of the consumer, and literal codes given to ``close(code=…)``."""
    tree = ast.parse((LIVE / "consumers.py").read_text(encoding="utf-8"))
    codes = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.startswith("CLOSE_"):
                    codes[target.id] = node.value.value
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and called_name(node) == "close":
            for keyword in node.keywords:
                if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                    codes[f"close(code={keyword.value.value})"] = keyword.value.value
    return codes


def message_models() -> dict[str, type[BaseModel]]:
    """Client message type -> its pydantic model, read from the models' ``type`` literal."""
    models = {}
    for value in vars(protocol).values():
        if not (isinstance(value, type) and issubclass(value, BaseModel)):
            continue
        if "type" in value.model_fields:
            for literal in typing.get_args(value.model_fields["type"].annotation):
                if literal in protocol.CLIENT_TYPES:
                    models[literal] = value
    return models


def nested_models(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return [m for arg in typing.get_args(annotation) for m in nested_models(arg)]
    return []


def field_names(model: type[BaseModel], prefix: str = "") -> set[str]:
    """The model's fields, nested ones as dotted paths (``description.sdp``)."""
    names = set()
    for name, field in model.model_fields.items():
        names.add(prefix + name)
        for inner in nested_models(field.annotation):
            names |= field_names(inner, f"{prefix}{name}.")
    return names


def test_every_client_message_has_a_section():
    documented = set(MESSAGE_HEADING.findall(doc_sections()["Client messages"]))
    missing = set(protocol.CLIENT_TYPES) - documented
    assert not missing, f"client messages not documented in docs/protocol.md: {sorted(missing)}"
    stale = documented - set(protocol.CLIENT_TYPES)
    assert not stale, f"docs/protocol.md documents unknown client messages: {sorted(stale)}"


def test_every_server_message_has_a_section():
    documented = set(MESSAGE_HEADING.findall(doc_sections()["Server messages"]))
    missing = set(protocol.SERVER_TYPES) - documented
    assert not missing, f"server messages not documented in docs/protocol.md: {sorted(missing)}"
    stale = documented - set(protocol.SERVER_TYPES)
    assert not stale, f"docs/protocol.md documents unknown server messages: {sorted(stale)}"


def test_every_client_message_field_is_documented():
    client = sections(doc_sections()["Client messages"], 3)
    models = message_models()
    assert set(models) == set(protocol.CLIENT_TYPES)
    for message_type, model in models.items():
        text = client.get(f"`{message_type}`", "")
        missing = {name for name in field_names(model) if f"`{name}`" not in text}
        assert not missing, f"fields of {message_type} not documented: {sorted(missing)}"


def test_every_error_code_is_in_the_error_table():
    table = table_first_column(doc_sections()["Error codes"])
    codes = error_codes_in_source()
    assert {"bad_json", "hello_required", "not_allowed", "replaced"} <= set(codes)
    missing = {code: where for code, where in codes.items() if code not in table}
    assert not missing, f"error codes missing from the table in docs/protocol.md: {missing}"


def test_every_close_code_is_in_the_close_table():
    table = table_first_column(doc_sections()["Closing"])
    codes = close_codes_in_source()
    assert codes.get("CLOSE_FORBIDDEN") == 4403
    missing = {name: code for name, code in codes.items() if str(code) not in table}
    assert not missing, f"close codes missing from the table in docs/protocol.md: {missing}"


def test_the_documented_version_is_the_servers():
    handshake = doc_sections()["Handshake"]
    assert f"Current version: **{protocol.PROTOCOL_VERSION}**" in handshake
