"""The error registry: one class per code, and a stored error rebuilt as its class."""

import pytest

from roost.errors import (
    ApiError,
    InternalError,
    MaxIterationsReached,
    NotFound,
    SessionNotFound,
    UpstreamError,
    UserNotFound,
    by_code,
    codes,
    envelope,
    restored,
)


def test_every_code_names_the_class_that_raises_it() -> None:
    known = codes()
    assert len(known) > 50
    for code, kind in known.items():
        assert kind.code == code
        assert by_code(code) is kind
    assert by_code("SESSION_NOT_FOUND") is SessionNotFound
    assert issubclass(SessionNotFound, NotFound) and SessionNotFound.status == 404
    with pytest.raises(KeyError):
        by_code("NO_SUCH_CODE")


def test_a_class_carries_its_ids_in_the_message_and_details() -> None:
    error = SessionNotFound("ses_01")
    body = envelope(error, "req_01")
    assert body == {
        "error": {
            "code": "SESSION_NOT_FOUND",
            "message": "Session ses_01 not found",
            "details": {"session_id": "ses_01"},
        },
        "request_id": "req_01",
    }
    by_email = UserNotFound.by_email("a@example.com")
    assert (by_email.code, by_email.details) == ("USER_NOT_FOUND", {"email": "a@example.com"})


def test_the_upstream_status_stays_in_details_and_the_answer_is_502() -> None:
    error = UpstreamError("openai: server error (HTTP 500)", provider="openai", status=500)
    assert error.status == 502
    assert error.details == {"provider": "openai", "status": 500}


def test_a_stored_error_is_rebuilt_as_its_class() -> None:
    stored = MaxIterationsReached(25).body()
    again = restored(stored)
    assert type(again) is MaxIterationsReached
    assert (
        again.body()
        == stored
        == {
            "code": "MAX_ITERATIONS_REACHED",
            "message": "The turn stopped after 25 model calls",
            "details": {},
        }
    )
    upstream = restored({"code": "UPSTREAM_ERROR", "message": "down", "details": {"status": 503}})
    assert isinstance(upstream, UpstreamError) and upstream.details == {"status": 503}


def test_an_unknown_stored_code_is_an_internal_error_keeping_its_message() -> None:
    again = restored({"code": "RETIRED_CODE", "message": "It failed"})
    assert type(again) is InternalError
    assert (again.code, again.message, again.details) == ("INTERNAL_ERROR", "It failed", {})


def test_a_code_belongs_to_one_class() -> None:
    with pytest.raises(TypeError, match="reuses SESSION_NOT_FOUND"):

        class _Again(NotFound):
            code = "SESSION_NOT_FOUND"

    with pytest.raises(TypeError, match="must name its own code"):

        class _Unnamed(NotFound):
            pass

    assert by_code("SESSION_NOT_FOUND") is SessionNotFound


def test_a_family_groups_without_a_code() -> None:
    class _Family(ApiError, family=True):
        status = 418

    assert _Family not in codes().values()
