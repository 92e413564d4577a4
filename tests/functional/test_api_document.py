"""The OpenAPI document and the request validation cannot drift apart: every API route and
method is documented and every documented operation is served; for each operation, the
colander schemas its view validates the request with (caught in the act, by watching
colander) are exactly the body and query string the document declares, and an operation
that validates nothing declares nothing; real answers fit the documented responses."""

from __future__ import annotations

import re

import colander
import pytest
import schemathesis
from factories import complete_files, metadata, metadata_part
from schemathesis.openapi.checks import JsonSchemaError
from support import PASSWORD
from werkzeug.test import Client

from archive_app.access.permissions import Role
from archive_app.apidoc import json_schema, query_parameters
from archive_app.openapi import API_PREFIX, DOCUMENT
from archive_app.records.vocabulary import DossierState

OPERATIONS = sorted(
    (path, method) for path, operations in DOCUMENT["paths"].items() for method in operations
)
# Who may call each path (by its first matching prefix), so that the request gets past the
# permission to the view's validation.
CALLER = [("/access-log", "privacy"), ("/access-reviews", "admin"), ("/users", "admin"),
          ("/retention", "records"),
          ("/holds", "records"), ("/dossiers/{dossier_id}/holds", "records"),
          ("/dossiers/{dossier_id}/corrections", "records"), ("/", "archivist")]  # fmt: skip


def served_operations(registry) -> set[tuple[str, str]]:
    """(document path, method) of every route under the API with a view, the document's own
    route left out."""
    patterns = {entry["introspectable"]["name"]: entry["introspectable"]["pattern"]
                for entry in registry.introspector.get_category("routes")}  # fmt: skip
    served = set()
    for entry in registry.introspector.get_category("views"):
        view = entry["introspectable"]
        pattern = patterns.get(view["route_name"]) or ""
        if not pattern.startswith(API_PREFIX + "/") or view["route_name"] == "api.openapi":
            continue
        methods = view["request_methods"]
        for method in (methods,) if isinstance(methods, str) else methods or ("ANY",):
            served.add((pattern.removeprefix(API_PREFIX), method.lower()))
    return served


def test_every_api_route_is_documented_and_every_documented_operation_served(wsgi_app):
    served = served_operations(wsgi_app.registry)
    assert served, "no API route found: the walk over the introspector is broken"
    assert sorted(served - set(OPERATIONS)) == [], "served but not in the document"
    assert sorted(set(OPERATIONS) - served) == [], "documented but not served"


@pytest.fixture
def validated_schemas(monkeypatch) -> list[colander.SchemaNode]:
    """The outermost colander schemas deserialized while it is watched, in order."""
    seen: list[colander.SchemaNode] = []
    depth = [0]
    deserialize = colander.SchemaNode.deserialize

    def watched(node, cstruct=colander.null):
        if depth[0] == 0:
            seen.append(node)
        depth[0] += 1
        try:
            return deserialize(node, cstruct)
        finally:
            depth[0] -= 1

    monkeypatch.setattr(colander.SchemaNode, "deserialize", watched)
    return seen


@pytest.fixture(scope="module")
def targets(wsgi_app, tokens) -> dict[str, str]:
    """Real ids for the path parameters, so that each request reaches its view's validation."""
    import webtest

    app = webtest.TestApp(wsgi_app)

    def as_user(user):
        return {"Authorization": f"Bearer {tokens[user]}"}

    dossier = app.post("/api/v1/dossiers", params=[metadata_part(metadata())],
                       upload_files=complete_files(), headers=as_user("archivist"),
                       status=201).json  # fmt: skip
    hold = app.post_json(f"/api/v1/dossiers/{dossier['id']}/holds", {"reason": "文档测试"},
                         headers=as_user("records"), status=201).json  # fmt: skip
    query_hold = app.post_json("/api/v1/holds", {"batch_no": "DOCTEST01", "reason": "文档测试"},
                               headers=as_user("records"), status=201).json  # fmt: skip
    return {"dossier_id": dossier["id"], "document_id": dossier["documents"][0]["id"],
            "hold_id": str(hold["id"]), "proposal_id": "none", "decision": "reject",
            "certificate_id": "none", "username": "auditor",
            "query_hold_id": str(query_hold["id"]), "review_id": "none"}  # fmt: skip


def _url(path: str, targets: dict[str, str]) -> str:
    if path.startswith("/holds/"):  # a hold by query, not the one on the dossier
        path = path.replace("{hold_id}", targets["query_hold_id"])
    return API_PREFIX + re.sub(r"\{(\w+)\}", lambda name: targets[name[1]], path)


def _refused_everywhere(schema: dict) -> dict:
    """A body with every documented field present and wrong (a list of lists fits no field
    here), so that the validator runs and refuses: nothing is created, run or changed."""
    return {name: [[]] for name in schema.get("properties", {})}


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_each_operation_documents_exactly_what_its_view_validates(
    path, method, wsgi_app, tokens, targets, validated_schemas
):
    operation = DOCUMENT["paths"][path][method]
    user = next(user for prefix, user in CALLER if path.startswith(prefix))
    token = tokens[user]
    if (path, method) == ("/auth/token", "delete"):
        token = Client(wsgi_app).post(f"{API_PREFIX}/auth/token", json={
            "username": user, "password": PASSWORD}).json["token"]  # fmt: skip
    validated_schemas.clear()  # what the set-up above validated is not this operation's

    content = operation.get("requestBody", {}).get("content", {})
    body_schema = content.get("application/json", {}).get("schema")
    request = {"headers": {"Authorization": f"Bearer {token}"}}
    if body_schema is not None:
        request["json"] = _refused_everywhere(body_schema)
    elif "multipart/form-data" in content:
        # Metadata and no file: refused before anything is stored.
        request |= {"data": {"metadata": "{}"}, "content_type": "multipart/form-data"}
    answer = Client(wsgi_app).open(_url(path, targets), method=method.upper(), **request)
    assert answer.status_code < 500, answer.get_data(as_text=True)

    documented_query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
    documented = {"body": body_schema, "query": documented_query or None}
    if "metadata" in str(content.get("multipart/form-data", {})):
        documented["body"] = DOCUMENT["components"]["schemas"]["DossierMetadata"]
    matched = set()
    for schema in validated_schemas:
        kinds = [kind for kind, declared in (("body", json_schema(schema)),
                                             ("query", query_parameters(schema)))
                 if declared == documented[kind]]  # fmt: skip
        assert kinds, (f"{method.upper()} {path} validates with {type(schema).__name__}, "
                       f"which the document does not declare")  # fmt: skip
        matched.update(kinds)
    missing = {kind for kind, declared in documented.items() if declared} - matched
    assert not missing, (f"{method.upper()} {path}: the document declares a {missing} that "
                         f"no validator of the view reads ({answer.status_code})")  # fmt: skip


def test_the_document_says_what_the_issue_found_missing():
    schemas = DOCUMENT["components"]["schemas"]
    product = schemas["DossierMetadata"]["properties"]["products"]["items"]
    assert product["properties"]["certified_on"] == {
        "type": "string", "format": "date", "nullable": True}  # fmt: skip
    dossier = schemas["Dossier"]["allOf"][1]["properties"]
    assert dossier["state"]["enum"] == list(DossierState) and "destroying" in list(DossierState)
    new_user = DOCUMENT["paths"]["/users"]["post"]["requestBody"]["content"]
    new_user = new_user["application/json"]["schema"]
    assert new_user["required"] == ["username", "role", "password"]
    assert new_user["properties"]["role"]["enum"] == list(Role)
    change = DOCUMENT["paths"]["/users/{username}"]["patch"]["requestBody"]["content"]
    change = change["application/json"]["schema"]
    assert set(change["properties"]) == {"role", "clearance", "active", "full_name"}
    assert change["additionalProperties"] is False


@pytest.fixture(scope="module")
def document(wsgi_app):
    return schemathesis.openapi.from_wsgi(f"{API_PREFIX}/openapi.json", wsgi_app)


def test_real_answers_fit_the_documented_responses(wsgi_app, tokens, targets, document):
    client = Client(wsgi_app)

    def fits(path: str, method: str, user: str, **request):
        answer = client.open(_url(path, targets), method=method.upper(), headers={
            "Authorization": f"Bearer {tokens[user]}"}, **request)  # fmt: skip
        assert answer.status_code < 300, answer.get_data(as_text=True)
        document[path][method.upper()].validate_response(answer)  # raises on a misfit
        return answer.json

    shown = fits("/dossiers/{dossier_id}", "get", "auditor")
    assert shown["state"] == "held" and shown["customer"]["phone"].count("*") == 4  # masked
    fits("/dossiers/{dossier_id}", "get", "archivist")
    assert fits("/search", "get", "auditor", query_string={"batch_no": "DOCTEST01"})["total"] >= 0
    assert fits("/users", "get", "admin")["results"]
    fits("/holds", "get", "records", query_string={"active": "true"})
    fits("/retention/due", "get", "records", query_string={"as_of": "2020-01-01"})
    fits("/access-log", "get", "privacy", query_string={"action": "hold"})
    fits("/dossiers", "get", "auditor", query_string={"complaint_no": shown["complaint_no"]})


def test_a_misfit_answer_is_caught(wsgi_app, tokens, targets, document):
    """The check above can fail: an answer with the state the document does not know."""
    answer = Client(wsgi_app).get(
        _url("/dossiers/{dossier_id}", targets),
        headers={"Authorization": f"Bearer {tokens['auditor']}"},
    )
    body = answer.get_data(as_text=True).replace('"state": "held"', '"state": "frozen"')
    assert '"frozen"' in body
    answer.set_data(body.encode("utf-8"))
    with pytest.raises(JsonSchemaError, match="frozen"):
        document["/dossiers/{dossier_id}"]["GET"].validate_response(answer)
