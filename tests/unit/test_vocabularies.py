"""Each closed vocabulary pinned to the text the contract, the database and the API use: a
renamed or reordered member fails here, before a stored row or a client stops matching."""

from __future__ import annotations

import json

import colander
import pytest

from archive_app.access.models import AccessOutcome
from archive_app.access.permissions import ROLE_PERMISSIONS, Level, Role, levels_up_to
from archive_app.openapi import PATHS, SCHEMAS
from archive_app.records.derived import TextState
from archive_app.records.importer import ImportStatus
from archive_app.records.schemas import DossierMetadata
from archive_app.records.vocabulary import (
    Channel,
    Closure,
    ComplaintClass,
    ComplaintType,
    DocumentKind,
    DossierState,
    Measure,
    Outcome,
    ProductRole,
)
from archive_app.retention.models import ProposalDecision, ProposalState
from archive_app.retention.rules import RuleSet

# The values as CONTRACT.md writes them (§3 roles and levels, §4 metadata and state), or as
# they are stored or printed (proposal states, access-log outcomes, the rule-set setting,
# document-text states, import reports).
PINNED = [
    (DossierState, ["archived", "held", "destroying", "destroyed"]),
    (ComplaintClass, ["I", "II", "III"]),
    (ComplaintType, ["adverse_reaction", "intrinsic_quality", "inner_packaging",
                     "outer_packaging", "packaging_design", "service", "other"]),
    (Channel, ["phone", "letter", "fax", "email", "wechat", "sms", "visit", "other"]),
    (Outcome, ["justified", "unjustified", "not_established"]),
    (Closure, ["customer_satisfied", "no_feedback", "not_established"]),  # §8 timeline
    (ProductRole, ["complained", "related"]),
    (Measure, ["compensation", "return", "recall"]),
    (DocumentKind, ["registration_form", "handling_sheet", "investigation_report",
                    "reply_report", "customer_acceptance", "attachment"]),
    (Level, ["internal", "confidential", "restricted"]),  # low to high
    (Role, ["archivist", "auditor", "privacy_officer", "records_manager", "admin"]),
    (AccessOutcome, ["ok", "denied", "refused", "failed"]),
    (ProposalState, ["proposed", "approved", "rejected"]),
    (ProposalDecision, ["approve", "reject"]),
    (RuleSet, ["procedure", "eu-gmp", "gsp"]),
    (TextState, ["extracted", "failed", "ocr_pending", "ocr_done"]),
    (ImportStatus, ["filed", "skipped", "failed"]),  # `archive import`'s report lines
]  # fmt: skip


@pytest.mark.parametrize(("vocabulary", "values"), PINNED, ids=lambda v: getattr(v, "__name__", ""))
def test_each_vocabulary_keeps_its_values_in_order(vocabulary, values):
    assert [member.value for member in vocabulary] == values


@pytest.mark.parametrize(("vocabulary", "values"), PINNED, ids=lambda v: getattr(v, "__name__", ""))
def test_members_are_their_text_in_json_and_strings(vocabulary, values):
    for member, value in zip(vocabulary, values, strict=True):
        assert member == value and hash(member) == hash(value)
        assert str(member) == f"{member}" == value
        assert json.dumps({"v": member}) == json.dumps({"v": value})


def test_levels_rank_low_to_high():
    assert levels_up_to(Level.INTERNAL) == (Level.INTERNAL,)
    assert levels_up_to("confidential") == (Level.INTERNAL, Level.CONFIDENTIAL)
    assert levels_up_to(Level.RESTRICTED) == tuple(Level)


def test_every_role_has_its_permissions_and_stored_names_find_them():
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert ROLE_PERMISSIONS["records_manager"] is ROLE_PERMISSIONS[Role.RECORDS_MANAGER]


@pytest.mark.parametrize(
    ("field", "vocabulary"),
    [("complaint_class", ComplaintClass), ("complaint_type", ComplaintType),
     ("channel", Channel), ("outcome", Outcome), ("confidentiality", Level)],
)  # fmt: skip
def test_metadata_validation_and_the_openapi_document_take_the_same_values(field, vocabulary):
    properties = SCHEMAS["DossierMetadata"]["properties"]
    assert properties[field]["enum"] == list(vocabulary)
    node = DossierMetadata()[field]
    for value in vocabulary:
        assert node.deserialize(value.value) == value
    with pytest.raises(colander.Invalid):
        node.deserialize(f"{list(vocabulary)[0]}x")


def test_the_openapi_document_lists_every_state_kind_measure_and_decision():
    assert SCHEMAS["Dossier"]["allOf"][1]["properties"]["state"]["enum"] == list(DossierState)
    assert SCHEMAS["Document"]["properties"]["kind"]["enum"] == list(DocumentKind)
    measures = SCHEMAS["DossierMetadata"]["properties"]["measures"]["items"]["enum"]
    assert measures == list(Measure)
    decision = PATHS["/retention/proposals/{proposal_id}/{decision}"]["post"]["parameters"][1]
    assert decision["schema"]["enum"] == ["approve", "reject"]
