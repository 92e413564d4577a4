"""The OpenAPI 3 document of the JSON API, served without authentication.

Request bodies and query strings are written from the colander schemas the views validate
with (apidoc.py), so the two cannot drift; answers with no request twin are declared here,
their vocabularies imported from where the code keeps them."""

from __future__ import annotations

from pyramid.events import ContextFound
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from .access.models import AccountSource
from .access.permissions import Level, Role
from .access.schemas import (
    AccessLogFilters,
    AccessLogQuery,
    AccessReviewSignOff,
    PasswordChangeBody,
    PasswordResetBody,
    TokenBody,
    UserBody,
    UserChangeBody,
)  # fmt: skip
from .apidoc import json_schema, query_parameters
from .errors import Invalid
from .records.derived import TextState
from .records.schemas import DossierLookup, DossierMetadata
from .records.vocabulary import DocumentKind, DossierState
from .reports.ledger_schemas import LedgerFilters, LedgerQuery
from .reports.review_schemas import ReviewApprovalBody, ReviewBody
from .retention.models import ProposalDecision
from .retention.schemas import (
    CorrectionBody,
    DecisionBody,
    DueQuery,
    HoldsQuery,
    QueryHoldBody,
    ReasonBody,
    ReleaseBody,
    RunBody,
)  # fmt: skip
from .search.schemas import ExportParameters
from .search.views import SearchParameters

ERROR = {"$ref": "#/components/schemas/Error"}


def _error_responses(*statuses: int) -> dict:
    return {
        str(status): {"description": "error", "content": {"application/json": {"schema": ERROR}}}
        for status in statuses
    }


def _json(schema: dict, description: str = "ok") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema, *, required: bool = True) -> dict:
    """A JSON request body, described by the colander schema that validates it; not
    `required` where an empty body is read as `{}`."""
    return {"required": required, "content": {"application/json": {"schema": json_schema(schema)}}}


DOSSIER_ID = {"name": "dossier_id", "in": "path", "required": True, "schema": {"type": "string"}}
DOCUMENT_ID = {"name": "document_id", "in": "path", "required": True, "schema": {"type": "string"}}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
TEXT = {"type": "string"}
NULLABLE_TEXT = {"type": "string", "nullable": True}

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error", "detail", "field"],
        "properties": {"error": TEXT, "detail": TEXT, "field": NULLABLE_TEXT},
    },
    # What a client files (the multipart part `metadata`), written from its validator.
    "DossierMetadata": json_schema(DossierMetadata()),
    "Document": {
        "type": "object",
        "properties": {
            "id": TEXT,
            "kind": {"type": "string", "enum": list(DocumentKind)},
            "filename": TEXT,
            "media_type": TEXT,
            "size": {"type": "integer"},
            "sha256": TEXT,
            # Of its text: readers', OCR pending or done, or failed (`text_reason` says why).
            "text_state": {"type": "string", "enum": list(TextState), "nullable": True},
            "text_reason": NULLABLE_TEXT,
        },
    },  # fmt: skip
    "Dossier": {
        "allOf": [
            # The same fields as filed, without the rules only a new filing must meet (an
            # answer carries masked values and what was filed before a rule).
            json_schema(DossierMetadata(), constraints=False),
            {
                "type": "object",
                "properties": {
                    "id": TEXT,
                    "state": {"type": "string", "enum": list(DossierState)},
                    "destroy_after": DATE,
                    "retention_rule": TEXT,
                    "filed_by": TEXT,
                    "filed_at": {"type": "string", "format": "date-time"},
                    "documents": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/Document"},
                    },
                },
            },
        ]
    },  # fmt: skip
}

FILE_PARTS = {
    kind: ({"type": "array", "items": {"type": "string", "format": "binary"}}
           if kind == DocumentKind.ATTACHMENT else {"type": "string", "format": "binary"})
    for kind in DocumentKind
}  # fmt: skip

DOSSIER = {"$ref": "#/components/schemas/Dossier"}

PATHS = {
    "/auth/token": {
        "post": {
            "summary": "Exchange a username and password for a bearer token",
            "security": [],
            "requestBody": _body(TokenBody()),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "token": TEXT,
                            "expires_at": {"type": "string", "format": "date-time"},
                        },
                    }
                )
            }
            | _error_responses(400, 401, 429, 503),
        },
        "delete": {
            "summary": "Revoke the bearer token used",
            "responses": {"200": _json({"type": "object"})} | _error_responses(401),
        },
    },  # fmt: skip
    "/dossiers": {
        "post": {
            "summary": "File a closed complaint dossier with its documents",
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["metadata"],
                            "properties": {
                                "metadata": {
                                    "type": "string",
                                    "description": "#/components/schemas/DossierMetadata as JSON",
                                }
                            }
                            | FILE_PARTS,
                        }
                    }
                },
            },
            "responses": {"201": _json(DOSSIER, "filed")}
            | _error_responses(400, 401, 403, 409, 413, 415, 422, 507),
        },
        "get": {
            "summary": "Find a dossier by complaint number",
            "parameters": query_parameters(DossierLookup()),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {"results": {"type": "array", "items": DOSSIER}},
                    }
                )
            }
            | _error_responses(401, 403, 422),
        },
    },  # fmt: skip
    "/dossiers/{dossier_id}": {
        "get": {
            "summary": "A dossier (personal data masked unless the role may see it)",
            "parameters": [DOSSIER_ID],
            "responses": {"200": _json(DOSSIER)} | _error_responses(401, 403, 404, 410),
        }
    },
    "/dossiers/{dossier_id}/documents": {
        "post": {
            "summary": "Append documents; nothing is ever replaced or deleted",
            "parameters": [DOSSIER_ID],
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {"schema": {"type": "object", "properties": FILE_PARTS}}
                },
            },
            "responses": {"201": _json(DOSSIER, "appended")}
            | _error_responses(400, 401, 403, 404, 410, 413, 415, 422, 507),
        }
    },  # fmt: skip
    "/dossiers/{dossier_id}/documents/{document_id}": {
        "get": {
            "summary": "The original bytes, as an attachment",
            "parameters": [DOSSIER_ID, DOCUMENT_ID],
            "responses": {
                "200": {
                    "description": "the document",
                    "content": {
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                }
            }
            | _error_responses(401, 403, 404, 410),
        }
    },  # fmt: skip
}

SIGNATURE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "signer": TEXT,
        "full_name": TEXT,
        "signed_at": DATETIME,
        "meaning": TEXT,
        "record_kind": TEXT,
        "record_id": TEXT,
        "content_sha256": TEXT,
        "matches": {"type": "boolean"},
    },
}
APPROVAL = {
    "type": "object",
    "properties": {
        "review_id": TEXT,
        "approved_by": NULLABLE_TEXT,
        "approved_at": {**DATETIME, "nullable": True},
        "signature": SIGNATURE,
        "signatures": {"type": "array", "items": SIGNATURE},
    },
}
REVIEW_ID = {"name": "review_id", "in": "path", "required": True, "schema": {"type": "string"}}
_COUNTS = {
    "type": "object",
    "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}},
}
# A review (contract §8): `previous` holds the four periods before, oldest first.
REVIEW = {"type": "object", "required": [
    "review_id", "period", "from", "to", "issued_at", "author", "scope", "complaint_nos",
    "dataset_sha256", "counts", "previous", "recurrences", "time_to_close", "on_time",
    "capa_coverage", "control_chart", "public_key", "signature"], "properties": {
    "review_id": TEXT, "period": TEXT, "from": DATE, "to": DATE, "issued_at": DATETIME,
    "author": TEXT, "scope": {"type": "string", "enum": list(Level)},
    "total": {"type": "integer"},
    "complaint_nos": {"type": "array", "items": TEXT}, "dataset_sha256": TEXT,
    "counts": _COUNTS,
    "previous": {"type": "array", "items": {"type": "object", "properties": {
        "period": TEXT, "from": DATE, "to": DATE, "total": {"type": "integer"},
        "counts": _COUNTS}}},
    "recurrence_threshold": {"type": "integer"},
    "recurrences": {"type": "array", "items": {"type": "object", "properties": {
        "kind": {"type": "string", "enum": ["product_type", "batch"]}, "product": TEXT,
        "complaint_type": NULLABLE_TEXT, "batch_no": TEXT, "count": {"type": "integer"},
        "complaint_nos": {"type": "array", "items": TEXT}}}},
    "time_to_close": {"type": "object", "properties": {
        "median_days": {"type": "number", "nullable": True},
        "p90_days": {"type": "integer", "nullable": True}}},
    "on_time": {"type": "number", "nullable": True,
                "description": "share of replies within the class's working-day limit"},
    "capa_coverage": {"type": "number", "nullable": True},
    "control_chart": {"type": "object", "additionalProperties": {"type": "object", "properties": {
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "mean": {"type": "number"}, "ucl": {"type": "number"},
        "above": {"type": "array", "items": TEXT}}}},
    "public_key": TEXT, "signature": TEXT}}  # fmt: skip
ENTRY = {
    "type": "object",
    "properties": {name: {"type": "string", "nullable": True} for name in (
        "at", "user", "role", "action", "dossier_id", "complaint_no", "document_id",
        "outcome", "ip", "detail")} | {"seq": {"type": "integer"}},
}  # fmt: skip
HOLD = {"type": "object", "properties": {"id": {"type": "integer"}, "reason": TEXT,
                                         "placed_by": TEXT, "placed_at": TEXT}}  # fmt: skip
QUERY_HOLD = {"type": "object", "properties": {
    "id": {"type": "integer"}, "dossier_id": NULLABLE_TEXT, "product_name": NULLABLE_TEXT,
    "batch_no": NULLABLE_TEXT, "reason": TEXT, "placed_by": TEXT, "placed_at": TEXT,
    "released_by": NULLABLE_TEXT, "released_at": NULLABLE_TEXT,
    "release_reason": NULLABLE_TEXT,
    # The answer to placing one: how many dossiers (the caller may read) it covers, and a
    # warning when that is none.
    "covers": {"type": "integer"}, "warning": TEXT}}  # fmt: skip
REASON_BODY = _body(ReasonBody())
# Signed actions (contract §9): `signature` in the body; without a valid one where
# archive.signatures.required is true, 401 `signature_required` and nothing changes.
RELEASE_BODY = _body(ReleaseBody())
SIGNED = (
    " Signed: `signature` {password, otp, meaning} (401 signature_required without it "
    "where archive.signatures.required is true)."
)
USER = {
    "type": "object",
    "required": ["username", "role", "clearance", "active", "created_at"],
    "properties": {"username": TEXT, "role": {"type": "string", "enum": list(Role)},
                   "clearance": {"type": "string", "enum": list(Level)},
                   "active": {"type": "boolean"}, "created_at": DATETIME,
                   "full_name": {"type": ["string", "null"]},
                   "must_change_password": {"type": "boolean"},
                   "second_factor": {"type": "boolean"},
                   # local: its password is checked here; directory: by LDAP (README)
                   "source": {"type": "string", "enum": list(AccountSource)}},
}  # fmt: skip

PATHS |= {
    "/search": {"get": {
        "summary": "Search what the caller may read: hits, totals and facets trimmed alike",
        "parameters": query_parameters(SearchParameters()),
        "responses": {"200": _json({"type": "object", "required": ["total", "results", "facets"],
                                    "properties": {
            "total": {"type": "integer"}, "page": {"type": "integer"},
            "per_page": {"type": "integer"}, "results": {"type": "array", "items": {
                "type": "object", "properties": {"id": TEXT, "complaint_no": TEXT}}},
            "facets": {"type": "object"}}})}
        | _error_responses(401, 403, 422),  # 422 also for query_too_costly
    }},
    "/search.csv": {"get": {
        "summary": "The search's results as CSV: every page (up to 10 000 rows), logged",
        "parameters": query_parameters(ExportParameters()),
        "responses": {"200": {"description": "CSV", "content": {"text/csv": {
            "schema": {"type": "string"}}}}} | _error_responses(401, 403, 422),
    }},
    "/search.xlsx": {"get": {
        "summary": "The search's results as an Excel workbook: every page (up to 10 000 rows)",
        "parameters": query_parameters(ExportParameters()),
        "responses": {"200": {"description": "XLSX", "content": {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}}}}}
        | _error_responses(401, 403, 422),
    }},
    "/access-log": {"get": {
        "summary": "Access-log entries, newest first, 100 a page (privacy officers)",
        "parameters": query_parameters(AccessLogQuery()),
        "responses": {"200": _json({"type": "object", "properties": {
            "total": {"type": "integer"}, "page": {"type": "integer"},
            "entries": {"type": "array", "items": ENTRY}}})} | _error_responses(401, 403, 422),
    }},
    "/access-log/verify": {"get": {
        "summary": "Verify the hash chain against the signed checkpoints",
        "responses": {"200": _json({"type": "object", "properties": {
            "ok": {"type": "boolean"}, "entries": {"type": "integer"},
            "first_bad_seq": {"type": "integer", "nullable": True},
            "problems": {"type": "array", "items": {"type": "string"}}}})}
        | _error_responses(401, 403),
    }},
    "/access-log/export.csv": {"get": {
        "summary": "The log as CSV (logged)",
        "parameters": query_parameters(AccessLogFilters()),
        "responses": {"200": {"description": "CSV", "content": {"text/csv": {
            "schema": {"type": "string"}}}}} | _error_responses(401, 403, 422),
    }},
    "/access-log/export.xlsx": {"get": {
        "summary": "The log as an Excel workbook: the CSV's columns and rows (logged)",
        "parameters": query_parameters(AccessLogFilters()),
        "responses": {"200": {"description": "XLSX", "content": {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}}}}}
        | _error_responses(401, 403, 422),
    }},
    "/access-log/anomalies": {"get": {
        "summary": "Flagged patterns of the last days",
        "responses": {"200": _json({"type": "object"})} | _error_responses(401, 403),
    }},
    "/dossiers/{dossier_id}/holds": {"post": {
        "summary": "Place a hold", "parameters": [DOSSIER_ID], "requestBody": REASON_BODY,
        "responses": {"201": _json(HOLD)} | _error_responses(400, 401, 403, 404, 409, 410, 422),
    }},
    "/dossiers/{dossier_id}/holds/{hold_id}": {"delete": {
        "summary": "Release a hold (kept in history)." + SIGNED + " Meaning release_hold.",
        "parameters": [DOSSIER_ID, {"name": "hold_id", "in": "path", "required": True,
                                    "schema": {"type": "string"}}],
        "requestBody": RELEASE_BODY,
        "responses": {"200": _json(HOLD)} | _error_responses(400, 401, 403, 404, 409, 410, 422),
    }},
    "/dossiers/{dossier_id}/corrections": {
        "post": {"summary": "Correct closed_on, or products' expiry / certified_on (by batch_no); "
                            "destroy_after is recomputed and the correction kept." + SIGNED
                            + " Meaning correction.",
                 "parameters": [DOSSIER_ID],
                 "requestBody": _body(CorrectionBody()),
                 "responses": {"201": _json({"type": "object"})}
                 | _error_responses(400, 401, 403, 404, 409, 410, 422)},
        "get": {"summary": "The dossier's corrections, oldest first", "parameters": [DOSSIER_ID],
                "responses": {"200": _json({"type": "object"})}
                | _error_responses(401, 403, 404, 410)},
    },
    "/holds": {
        "post": {"summary": "Hold every dossier of a product (exact name) or a batch, those "
                            "filed later included",
                 "requestBody": _body(QueryHoldBody()),
                 "responses": {"201": _json(QUERY_HOLD)} | _error_responses(400, 401, 403, 422)},
        "get": {"summary": "Holds with their history; active=true for those in force",
                "parameters": query_parameters(HoldsQuery()),
                "responses": {"200": _json({"type": "object"})} | _error_responses(401, 403, 422)},
    },
    "/holds/{hold_id}": {"delete": {
        "summary": "Release a hold by query (kept in history)." + SIGNED
                   + " Meaning release_hold.",
        "parameters": [{"name": "hold_id", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "requestBody": RELEASE_BODY,
        "responses": {"200": _json(QUERY_HOLD)} | _error_responses(400, 401, 403, 404, 409, 422),
    }},
    "/retention/proposals": {"get": {
        "summary": "Approval mode: proposals of runs, newest first",
        "responses": {"200": _json({"type": "object"})} | _error_responses(401, 403),
    }},
    "/retention/proposals/{proposal_id}/{decision}": {"post": {
        "summary": "approve (a records manager other than the proposer; destroys) or reject."
                   + SIGNED + " Meaning approve_destruction (approve only).",
        "parameters": [{"name": "proposal_id", "in": "path", "required": True,
                        "schema": {"type": "string"}},
                       {"name": "decision", "in": "path", "required": True,
                        "schema": {"type": "string", "enum": list(ProposalDecision)}}],
        "requestBody": _body(DecisionBody(), required=False),
        "responses": {"200": _json({"type": "object"})}
        | _error_responses(401, 403, 404, 409, 422),
    }},
    "/retention/due": {"get": {
        "summary": "Dossiers past their destroy-after date",
        "parameters": query_parameters(DueQuery()),
        "responses": {"200": _json({"type": "object"})} | _error_responses(401, 403, 422),
    }},
    "/retention/runs": {"post": {
        "summary": "Run retention (or a dry run)",
        "requestBody": _body(RunBody(), required=False),
        "responses": {"201": _json({"type": "object"}),
                      "202": _json({"type": "object"})}  # approval mode: a proposal
        | _error_responses(400, 401, 403, 409, 422),
    }},
    "/retention/certificates/{certificate_id}": {"get": {
        "summary": "A destruction certificate (JSON); append .pdf for the printable PDF",
        "parameters": [{"name": "certificate_id", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"200": _json({"type": "object"})} | _error_responses(401, 403, 404),
    }},
    "/retention/certificates/{certificate_id}.pdf": {"get": {
        "summary": "The printable PDF of a certificate (Chinese and English)",
        "parameters": [{"name": "certificate_id", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"200": {"description": "PDF", "content": {"application/pdf": {
            "schema": {"type": "string", "format": "binary"}}}}}
        | _error_responses(401, 403, 404),
    }},
    "/reports/reviews": {
        "post": {"summary": "Issue the signed review of an ended quarter (2026Q3) or year (2026)",
                 "requestBody": _body(ReviewBody()),
                 "responses": {"201": _json(REVIEW)} | _error_responses(400, 401, 403, 422)},
        "get": {"summary": "The reviews the caller's clearance reaches, newest first",
                "responses": {"200": _json({"type": "object", "properties": {
                    "total": {"type": "integer"},
                    "results": {"type": "array", "items": {"type": "object"}}}})}
                | _error_responses(401, 403)},
    },
    "/reports/reviews/{review_id}": {"get": {
        "summary": "A review, its signed JSON (404 above the caller's clearance)",
        "parameters": [REVIEW_ID],
        "responses": {"200": _json(REVIEW)} | _error_responses(401, 403, 404),
    }},
    "/reports/reviews/{review_id}/approval": {
        "post": {"summary": "Approve an issued review (an archivist other than its author)."
                            + SIGNED + " Meaning approve_review.",
                 "parameters": [REVIEW_ID],
                 "requestBody": _body(ReviewApprovalBody(), required=False),
                 "responses": {"200": _json(APPROVAL)}
                 | _error_responses(400, 401, 403, 404, 409, 422)},
        "get": {"summary": "The review's approval and its signatures (whether each still "
                           "matches the stored review)",
                "parameters": [REVIEW_ID],
                "responses": {"200": _json(APPROVAL)} | _error_responses(401, 403, 404)},
    },
    "/reports/reviews/{review_id}.pdf": {"get": {
        "summary": "The printable review (Chinese, with its charts)",
        "parameters": [REVIEW_ID],
        "responses": {"200": {"description": "PDF", "content": {"application/pdf": {
            "schema": {"type": "string", "format": "binary"}}}}}
        | _error_responses(401, 403, 404),
    }},
    "/reports/reviews/{review_id}.xlsx": {"get": {
        "summary": "The review as a workbook whose cells are the JSON's values",
        "parameters": [REVIEW_ID],
        "responses": {"200": {"description": "Excel workbook", "content": {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}}}}}
        | _error_responses(401, 403, 404),
    }},
    "/users": {
        "get": {"summary": "Users (admins)",
                "responses": {"200": _json({"type": "object", "properties": {
                    "results": {"type": "array", "items": USER}}})}
                | _error_responses(401, 403)},
        "post": {"summary": "Create a user",
                 "requestBody": _body(UserBody()),
                 "responses": {"201": _json(USER)} | _error_responses(400, 401, 403, 409, 422)},
    },
    "/access-reviews": {
        "get": {"summary": "The access review as of now (admins, privacy officers): every "
                           "account, the dormant ones, account changes since the last review, "
                           "its fingerprint, and the past sign-offs",
                "responses": {"200": _json({"type": "object"})} | _error_responses(401, 403)},
        "post": {"summary": "Sign the review off: always signed (meaning access_review), with "
                            "the fingerprint of the review shown (409 if it changed since)",
                 "requestBody": _body(AccessReviewSignOff()),
                 "responses": {"201": _json({"type": "object"})}
                 | _error_responses(400, 401, 403, 409, 422)},
    },
    "/users/{username}": {"patch": {
        "summary": "Change role, clearance or activity",
        "parameters": [{"name": "username", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "requestBody": _body(UserChangeBody()),
        # 403: one's own role or activity; 409: the last active admin
        "responses": {"200": _json(USER)} | _error_responses(400, 401, 403, 404, 409, 422),
    }},
    "/users/{username}/password": {"post": {
        "summary": "Reset a user's password (admins): every token and session of theirs ends; "
                   "a change is due at their next sign-in unless must_change is false",
        "parameters": [{"name": "username", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "requestBody": _body(PasswordResetBody()),
        "responses": {"200": _json(USER)} | _error_responses(400, 401, 403, 404, 422),
    }},
    "/users/{username}/second-factor": {"delete": {
        "summary": "Remove a user's second factor (admins), for a lost device and lost "
                   "recovery codes",
        "parameters": [{"name": "username", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"200": _json(USER)} | _error_responses(401, 403, 404),
    }},
    "/account/password": {"post": {
        "summary": "Change one's own password: the caller's token goes on, every other token "
                   "and web session of the account ends (422 field `new` for a password the "
                   "policy refuses, field `current` for a wrong current one)",
        "requestBody": _body(PasswordChangeBody()),
        "responses": {"200": _json({"type": "object", "properties": {
            "changed": {"type": "boolean"}}})} | _error_responses(400, 401, 422, 429),
    }},
}  # fmt: skip

# The 台账 ledger (contract §8): a row per dossier; a destroyed one's row is its tombstone.
LEDGER_ROW = {
    "type": "object",
    "required": ["complaint_no", "complaint_class", "complaint_type", "title", "received_on",
                 "closed_on", "outcome", "measures", "capa_ref", "products", "customer",
                 "timeline", "state"],
    "properties": {
        "id": TEXT, "complaint_no": TEXT, "complaint_class": TEXT, "complaint_type": TEXT,
        "title": NULLABLE_TEXT, "received_on": DATE, "closed_on": DATE,
        "outcome": NULLABLE_TEXT, "measures": {"type": "array", "items": TEXT},
        "capa_ref": NULLABLE_TEXT,
        "products": {"type": "array", "items": {"type": "object", "properties": {
            "name": TEXT, "batch_no": TEXT}}},
        "customer": {"type": "object", "description": "masked unless the role may see it",
                     "properties": {name: NULLABLE_TEXT for name in (
                         "name", "organization", "phone", "address")}},
        "timeline": {"type": "object"},
        "state": {"type": "string", "enum": list(DossierState)},
    },
}  # fmt: skip
PATHS |= {
    "/reports/ledger": {"get": {
        "summary": "The complaint ledger (台账): a page of rows the caller may read, received "
                   "on from..to, oldest first",
        "parameters": query_parameters(LedgerQuery()),
        "responses": {"200": _json({"type": "object", "required": ["total", "results"],
                                    "properties": {
            "total": {"type": "integer"}, "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "results": {"type": "array", "items": LEDGER_ROW}}})}
        | _error_responses(401, 403, 422),
    }},
    "/reports/ledger.xlsx": {"get": {
        "summary": "Every row of the ledger the filters select, as an Excel workbook (logged)",
        "parameters": query_parameters(LedgerFilters()),
        "responses": {"200": {"description": "the workbook", "content": {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}}}}}
        | _error_responses(401, 403, 422),
    }},
}  # fmt: skip


def _json_bodies_answer_415(paths: dict) -> None:
    """A JSON body sent under any other media type answers 415 (payloads.json_object)."""
    for operations in paths.values():
        for operation in operations.values():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                operation["responses"] |= _error_responses(415)


_json_bodies_answer_415(PATHS)

DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "Complaint-dossier archive API", "version": "1"},
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": SCHEMAS,
    },
    "paths": PATHS,
}


API_PREFIX = "/api/v1"


def declared_query_parameters() -> dict[tuple[str, str], frozenset[str]]:
    """(route pattern, METHOD) -> the query parameters the document declares for it."""
    declared = {}
    for path, operations in PATHS.items():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            declared[(API_PREFIX + path, method.upper())] = frozenset(names)
    return declared


def refuse_undeclared_query_parameters(event) -> None:
    """An API request naming a query parameter its operation does not declare is refused
    (422 naming it), so that a misspelt filter never silently widens a result."""
    request = event.request
    route = request.matched_route
    if route is None or not route.pattern.startswith(API_PREFIX):
        return
    if request.authenticated_userid is None:
        return  # the caller first learns that it must sign in (401), nothing else
    declared = DECLARED_QUERY_PARAMETERS.get((route.pattern, request.method))
    if declared is None:
        return  # not an operation of the document (the document itself)
    for name in request.GET:
        if name not in declared and name != "_LOCALE_":  # the language switch goes anywhere
            raise Invalid(f"unknown query parameter {name[:64]!r}", field=name[:64])


# Read from the document once: the document is a constant, so is what it declares.
DECLARED_QUERY_PARAMETERS = declared_query_parameters()


def includeme(config):
    config.add_subscriber(refuse_undeclared_query_parameters, ContextFound)
    config.add_route("api.openapi", API_PREFIX + "/openapi.json")
    config.scan(".openapi")


@view_config(route_name="api.openapi", renderer="json", permission=NO_PERMISSION_REQUIRED)
def openapi_document(request):
    return DOCUMENT
