"""Property-based fuzzing of the OpenAPI surface, in process, with schemathesis.

Every case carries a freshly minted token (tokens are single-use). Checked: no 5xx, no
identifier echoed, every error is problem+json, successful answers match their schema. The
stricter "every status code and content type is documented" check is an expected failure
(see ``test_error_responses_are_documented``).
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from tests.integration.attacks.leaks import (  # noqa: E402
    PROBLEM_JSON,
    assert_no_identifiers,
    fresh_user,
)

MAX_EXAMPLES = 15
SKIP = {"/metrics", "/v1/policy/reload"}  # reload re-reads policy files: not a fuzz target


def operations(app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path not in SKIP:
            yield operation


def role_for(path: str) -> tuple[str, str]:
    if path.startswith(("/v1/log", "/v1/alerts", "/v1/subject-access", "/v1/overrides")):
        return "vt-rr", "privacy_officer"
    if path.startswith(("/v1/organisations", "/v1/policy")):
        return "vt-rr", "admin"
    return "vt-rr", "professional"


def fuzz(operation, token, check) -> list[str]:
    failures: list[str] = []
    org, role = role_for(operation.path)

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        headers = {"Authorization": f"Bearer {token(org, role, user=fresh_user())}"}
        try:
            response = case.call(headers=headers)
        except Exception as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: raised {exc!r:.200}")
            return
        problem = check(case, response)
        if problem:
            failures.append(f"{operation.method.upper()} {operation.path}: {problem}")

    run()
    return failures


def headers_sent(response) -> dict[str, str]:
    return {k: v[0] if isinstance(v, list) else v for k, v in response.request.headers.items()}


def header(response, name: str) -> str:
    value = response.headers.get(name, "")
    return value[0] if isinstance(value, list) and value else str(value or "")


def safety(case, response) -> str | None:
    status = response.status_code
    if status >= 500:
        return f"{status} {response.text[:200]}"
    try:
        assert_no_identifiers(response.text)
    except AssertionError as exc:
        return str(exc)
    content_type = header(response, "content-type")
    if status >= 400 and not content_type.startswith(PROBLEM_JSON):
        return f"{status} error with content type {content_type!r}"
    if 200 <= status < 300:
        try:
            case.validate_response(
                response,
                checks=[schemathesis.checks.response_schema_conformance],
                headers=headers_sent(response),
            )
        except Exception as exc:
            return f"{status} body does not match the schema: {str(exc)[:300]}"
    return None


def documented(case, response) -> str | None:
    try:
        case.validate_response(
            response,
            checks=[
                schemathesis.checks.status_code_conformance,
                schemathesis.checks.content_type_conformance,
            ],
            headers=headers_sent(response),
        )
    except Exception as exc:
        return str(exc).splitlines()[0][:200]
    return None


# An index beyond any real log size must be refused as 422 before it reaches the database.
INDEX_OVERFLOW = {"/v1/log/entries/{index}", "/v1/log/entries/{index}/proof"}


def test_fuzzed_requests_never_5xx_and_errors_are_problem_json(client, token) -> None:
    failures: list[str] = []
    for operation in operations(client.app):
        if operation.path not in INDEX_OVERFLOW:
            failures += fuzz(operation, token, safety)
    assert failures == [], "\n".join(sorted(set(failures))[:30])


def test_log_entry_index_out_of_range_is_refused_cleanly(client, token) -> None:
    failures: list[str] = []
    for operation in operations(client.app):
        if operation.path in INDEX_OVERFLOW:
            failures += fuzz(operation, token, safety)
    assert failures == [], "\n".join(sorted(set(failures))[:30])


def test_error_responses_are_documented(client, token) -> None:
    failures: list[str] = []
    for operation in operations(client.app):
        failures += fuzz(operation, token, documented)
    assert failures == [], "\n".join(sorted(set(failures))[:30])
