"""What drf-spectacular cannot guess about the API: our bearer tokens, the problem+json answers every operation
can give, and the exact rules of our own serializer fields (so the schema promises what the code checks)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_basic_type, force_instance, is_serializer
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers

from opsportal.core.problems import PROBLEM_CONTENT_TYPE, TITLES
from opsportal.core.time_zones import iana_time_zones, validate_time_zone

# What a caller can meet on any operation: no or a bad token, a scope or role it lacks, an id (or a page) that
# is not there, its rate limit.
ALWAYS = (401, 403, 404, 429)
# Operations that take input can also be refused for it, whether it breaks the schema or means something we
# refuse (an unknown reference, an end before its start).
WITH_INPUT = (400,)
# A request body can be too large for us or not JSON at all.
WITH_BODY = (413, 415)
# A write can find the thing in a state that does not allow it.
WRITES = (409,)

DESCRIPTIONS = {
    400: "The input is refused: it breaks the schema (a field's type, length, characters or range), or it is well "
    "formed but refused for what it means (an unknown reference, an end before its start); `errors` names each "
    "field.",
    401: "No token, or a token that is unknown, revoked, expired or belongs to a disabled account.",
    403: "The token lacks the scope, or its holder the role, this operation needs.",
    404: "Nothing here with that identifier, or no such page of results.",
    409: "The thing is in a state that does not allow this (a transition that is not allowed from here).",
    413: "The request body is larger than the server accepts.",
    415: "The request body is not JSON.",
    429: "Too many requests for this token; retry after `Retry-After` seconds.",
}


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details. Clients switch on `type`; more members may be added."""

    type = serializers.CharField(
        help_text="A URN naming the kind of problem, e.g. urn:opsportal:problem:conflict"
    )
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(required=False, help_text="The path that was requested")
    errors = serializers.DictField(required=False, help_text="Field name to what is wrong with it (400)")
    retry_after = serializers.IntegerField(required=False, help_text="Seconds to wait (429)")

    class Meta:
        ref_name = "Problem"


class ProblemAutoSchema(AutoSchema):
    """Every operation documents its problem+json answers, and every error response is a problem."""

    def _get_request_for_media_type(self, serializer, direction="request"):
        # Our PATCH views read their input whole unless they pass partial=True (valid_input), so the schema's
        # PATCH body is partial only when the view names a partial serializer: request=Input(partial=True).
        serializer = force_instance(serializer)
        if self.method == "PATCH" and is_serializer(serializer) and not serializer.partial:
            self.method = "PUT"
            try:
                return super()._get_request_for_media_type(serializer, direction)
            finally:
                self.method = "PATCH"
        return super()._get_request_for_media_type(serializer, direction)

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            # DRF reads an optional query parameter sent empty ("?team=") as absent.
            if parameter.get("in") == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        statuses = set(ALWAYS)
        has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
        if has_query or "requestBody" in operation:
            statuses.update(WITH_INPUT)
        if "requestBody" in operation:
            statuses.update(WITH_BODY)
        if self.method not in ("GET", "HEAD", "OPTIONS"):
            statuses.update(WRITES)
        responses = operation["responses"]
        statuses.update(int(code) for code in responses if code.isdigit() and int(code) >= 400)
        problem_ref = self.resolve_serializer(ProblemSerializer, "response").ref
        for code in sorted(statuses):
            declared = responses.get(str(code), {}).get("description")
            responses[str(code)] = {
                "description": DESCRIPTIONS.get(code) or declared or TITLES.get(code, "Error"),
                "content": {PROBLEM_CONTENT_TYPE: {"schema": problem_ref}},
            }
        return operation


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "opsportal.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from the portal or `manage.py create_api_token`, with scopes "
            "<area>:read / <area>:write.",
        }


class TimeOfDayField(OpenApiSerializerFieldExtension):
    """A time of day as DRF reads and writes it ("09:00" or "09:00:00"). Not the `time` format: RFC 3339 wants an
    offset there, which we neither need nor send."""

    target_class = "rest_framework.fields.TimeField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = build_basic_type(OpenApiTypes.STR)
        schema["pattern"] = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"
        return schema


def _text_pattern(*, multi_line: bool, blank: bool) -> str:
    """opsportal.core.text's rules as a regular expression: no control characters (a body keeps tab and line
    breaks) and, unless blank is allowed, at least one character that is not white space (DRF trims)."""
    if multi_line:
        forbidden = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff"
        spaces = r"\t\n\r \xa0\u1680\u2000-\u200a\u202f\u205f\u3000"
    else:
        forbidden = r"\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff"
        spaces = r" \xa0\u1680\u2000-\u200a\u202f\u205f\u3000"
    if blank:
        return rf"^[^{forbidden}]*$"
    return rf"^[{spaces}]*[^\s{forbidden}][^{forbidden}]*$"


class _TypedTextField(OpenApiSerializerFieldExtension):
    multi_line = False

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request" and validate_time_zone in self.target.validators:
            # A time zone is a name from the IANA list (opsportal.core.time_zones), nothing else.
            schema["enum"] = sorted(iana_time_zones())
        elif direction == "request":
            schema["pattern"] = _text_pattern(multi_line=self.multi_line, blank=self.target.allow_blank)
        return schema


class LineText(_TypedTextField):
    target_class = "opsportal.core.serializer_fields.LineSerializerField"


class BodyText(_TypedTextField):
    target_class = "opsportal.core.serializer_fields.BodySerializerField"
    multi_line = True


# Dates and instants: opsportal.core.bounds takes years 2000 to 2099. The instant pattern also pins the
# shape Python parses (seconds 00-59, at most microseconds), narrower than RFC 3339's leap seconds.
DATE_PATTERN = r"^20[0-9]{2}-[0-9]{2}-[0-9]{2}$"
INSTANT_PATTERN = (
    r"^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})$"
)


class _PatternedField(OpenApiSerializerFieldExtension):
    match_subclasses = True
    pattern = ""

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["pattern"] = self.pattern
        return schema


class DateInRange(_PatternedField):
    target_class = "opsportal.core.serializer_fields.DateInRangeField"
    pattern = DATE_PATTERN


class InstantInRange(_PatternedField):
    target_class = "opsportal.core.serializer_fields.InstantInRangeField"
    pattern = INSTANT_PATTERN


class NullableReference(OpenApiSerializerFieldExtension):
    """DRF reads "" as null for a related field that allows null: say so, or the schema refuses what we take."""

    target_class = "rest_framework.relations.RelatedField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request" and self.target.allow_null:
            return {"oneOf": [schema, {"type": "string", "maxLength": 0}]}
        return schema
