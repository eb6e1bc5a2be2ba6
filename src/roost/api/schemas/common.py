"""Building blocks shared by every request and response model.

Requests accept snake_case and camelCase keys (Floyd's clients send ``customTitle``);
responses are snake_case only. Text never carries NUL characters, which PostgreSQL
cannot store.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Generic, Self, TypeVar

import httpx
import orjson
from pydantic import (
    AfterValidator,
    AliasChoices,
    AliasGenerator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    StringConstraints,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from roost.clock import isoformat
from roost.store.paging import Page

T = TypeVar("T")

MAX_METADATA_BYTES = 16 * 1024
MAX_METADATA_DEPTH = 8


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    def walk(node: Any, depth: int) -> None:
        if depth > MAX_METADATA_DEPTH:
            raise ValueError(f"must not nest deeper than {MAX_METADATA_DEPTH} levels")
        if isinstance(node, dict):
            for key, item in node.items():
                _no_nul(key)
                walk(item, depth + 1)
        elif isinstance(node, list):
            for item in node:
                walk(item, depth + 1)
        elif isinstance(node, str):
            _no_nul(node)

    walk(value, 0)
    if len(orjson.dumps(value)) > MAX_METADATA_BYTES:
        raise ValueError(f"must be at most {MAX_METADATA_BYTES} bytes as JSON")
    return value


def _short_bytes(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        if len(value.encode()) > limit:
            raise ValueError(f"must be at most {limit} bytes as UTF-8")
        return value

    return AfterValidator(check)


def _not_null(value: T) -> T:
    # Only a value sent is checked (pydantic leaves defaults alone): null, not absence.
    if value is None:
        raise ValueError("must not be null")
    return value


def _date_time_text(value: Any) -> Any:
    # The document says a string in date-time format: a number (which pydantic would
    # read as seconds since 1970) is refused as the document says it is.
    if not isinstance(value, str | datetime):
        raise ValueError("must be an ISO 8601 date-time string")
    return value


def _web_url(value: str) -> str:
    """An http(s) URL a client can really call: httpx (which every provider SDK uses)
    parses it, its port is a port, and its host survives the IDNA encoding the resolver
    applies (labels of 1 to 63 characters: no ``a..b``, no ``xn--`` without Punycode)."""
    try:
        url = httpx.URL(value)
        url.host.encode("idna")
    except (httpx.InvalidURL, UnicodeError) as error:
        raise ValueError(f"is not a usable URL: {error}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("must be an http:// or https:// URL with a host")
    if url.port is not None and not 0 < url.port < 65536:
        raise ValueError("must have a port between 1 and 65535")
    return value


class _NoNulText:
    """Refuses NUL characters, and says so in the JSON schema (a pattern), so that the
    served document holds the rule the server checks."""

    PATTERN = r"^[^\x00]*$"

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(_no_nul, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", self.PATTERN)  # a stricter one already says it
        return json_schema


NoNul = _NoNulText()

# The characters Python's str.strip() and re's \s take for white space, spelled out: \s
# differs between Python, the Rust regex pydantic checks with and JSON Schema's (ECMA)
# patterns (\x85 and \x1c-\x1f are white space only to Python), and a pattern in the
# document must mean there what it means here. A character class body.
SPACE = r"\t-\r\x1c- \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def _integral(value: Any) -> Any:
    # JSON Schema counts 1.0 as an integer, so the document's "integer" allows it too.
    return int(value) if isinstance(value, float) and value.is_integer() else value


# A whole number: an int, or a float without a fraction (1.0); never a string or bool.
# Last in its Annotated, after any bounds, so that the document shows them as such:
# ``Annotated[StrictInt, Field(ge=1), Whole]``.
Whole = BeforeValidator(_integral)


class Documented:
    """A pattern for the JSON schema only, where the rule the server checks in code (a
    URL httpx and IDNA accept) has no exact regular expression: the pattern is a subset
    of what is accepted, so whatever matches it passes."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = self.pattern
        return json_schema


_HEX4 = "[0-9A-Fa-f]{1,4}"
_IPV6 = "|".join(
    [
        f"(?:{_HEX4}:){{7}}{_HEX4}",
        f"(?:{_HEX4}:){{1,7}}:",
        *(f"(?:{_HEX4}:){{1,{6 - n}}}(?::{_HEX4}){{1,{n + 1}}}" for n in range(6)),
        f":(?:(?::{_HEX4}){{1,7}}|:)",
    ]
)
_PORT = "[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]"
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
# A name's last label starts with a letter or hyphen: all digits, it reads as IPv4.
_NAME = r"(?:[A-Za-z0-9-]{1,63}\.)*[A-Za-z-][A-Za-z0-9-]{0,62}\.?"
# http(s), a host (a name of 1-63 character labels, IPv4 or IPv6), a port of 1-65535,
# then anything but spaces and control characters.
WEB_URL_PATTERN = (
    rf"^https?://(?:{_NAME}|(?:{_OCTET}\.){{3}}{_OCTET}|\[(?:{_IPV6})\])"
    r"(?::(?:" + _PORT + r"))?(?:[/?#][^" + SPACE + r"\x00-\x1f\x7f]*)?$"
)
NotNull = AfterValidator(_not_null)

# Strict strings: no coercion from numbers, no NUL, bounded length.
Title = Annotated[str, StringConstraints(strict=True, max_length=500, strip_whitespace=True), NoNul]
Name = Annotated[str, StringConstraints(strict=True, max_length=200, strip_whitespace=True), NoNul]
ShortName = Annotated[
    str, StringConstraints(strict=True, max_length=100, strip_whitespace=True), NoNul
]
Path = Annotated[
    str,
    StringConstraints(strict=True, max_length=1024, strip_whitespace=True),
    NoNul,
    _short_bytes(1024),
]
Body = Annotated[str, StringConstraints(strict=True, max_length=1_000_000), NoNul]
WebUrl = Annotated[
    str,
    StringConstraints(strict=True, max_length=4096),
    NoNul,
    AfterValidator(_web_url),
    Documented(WEB_URL_PATTERN),
]
Metadata = Annotated[dict[str, Any], AfterValidator(_bounded_json)]
Timestamp = Annotated[datetime, PlainSerializer(isoformat, return_type=str)]
DateTimeIn = Annotated[datetime, BeforeValidator(_date_time_text)]


def either(*names: str, required: bool = False, **constraints: Any) -> Any:
    """Accept any of ``names`` (and their camelCase forms) for one field; the document
    names it by the first."""
    spelled = [spelling for name in names for spelling in dict.fromkeys((name, to_camel(name)))]
    default = ... if required else None
    return Field(default, validation_alias=AliasChoices(*spelled), **constraints)


class ClientModel(BaseModel):
    """A request body: snake_case or camelCase keys, unknown keys ignored."""

    model_config = ConfigDict(
        alias_generator=AliasGenerator(
            validation_alias=lambda name: AliasChoices(name, to_camel(name))
        ),
        strict=False,
        extra="ignore",
    )


class ListOut(BaseModel, Generic[T]):
    data: list[T]
    has_more: bool
    next_cursor: str | None

    @classmethod
    def of(cls, page: Page[Any], shape: Callable[[Any], T]) -> Self:
        """A page of rows, each shown as ``shape`` shows it."""
        return cls(
            data=[shape(item) for item in page.items],
            has_more=page.has_more,
            next_cursor=page.next_cursor,
        )


class SuccessOut(BaseModel):
    success: bool = True
