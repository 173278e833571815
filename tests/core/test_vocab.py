import pytest
from pydantic import TypeAdapter, ValidationError

from anbao.core import vocab


@pytest.mark.parametrize(
    ("enum", "labels"),
    [(vocab.EventKind, vocab.EVENT_KINDS), (vocab.EventStatus, vocab.EVENT_STATUSES),
     (vocab.ZoneKind, vocab.ZONE_KINDS), (vocab.GateKind, vocab.GATE_KINDS),
     (vocab.DeviceKind, vocab.DEVICE_KINDS), (vocab.PoliceType, vocab.POLICE_TYPES),
     (vocab.UnitStatus, vocab.UNIT_STATUSES), (vocab.CommandLevel, vocab.COMMAND_LEVELS),
     (vocab.IncidentStatus, vocab.INCIDENT_STATUSES), (vocab.AssignmentStatus, vocab.ASSIGNMENT_STATUSES),
     (vocab.RiskCategory, vocab.RISK_CATEGORIES), (vocab.RiskSource, vocab.RISK_SOURCES),
     (vocab.RiskLevel, vocab.RISK_LEVELS), (vocab.ApprovalAuthority, vocab.APPROVAL_AUTHORITIES)],
)
def test_every_code_has_labels_and_every_label_a_code(enum, labels):
    assert [e.value for e in enum] == list(labels)
    assert all(zh and en for zh, en in labels.values())
    assert len({zh for zh, _ in labels.values()}) == len(labels)  # Chinese labels are unambiguous aliases


def test_chinese_label_is_an_alias_for_the_code():
    ta = TypeAdapter(vocab.ZoneKindIn)
    assert ta.validate_python("核心区") is vocab.ZoneKind.core
    assert ta.validate_python("core") is vocab.ZoneKind.core
    with pytest.raises(ValidationError):
        ta.validate_python("核心")


def test_vocab_route_serves_labels(client, login):
    data = client.get("/api/v1/meta/vocab", headers=login("officer")).json()
    assert {"code": "public_order", "zh": "治安", "en": "Public order"} in data["police_type"]
    assert len(data["zone_kind"]) == len(vocab.ZONE_KINDS)
    assert {r["code"] for r in data["role"]} == {"commander", "planner", "dispatcher", "officer", "analyst", "gateway",
                                                  "partner", "auditor", "admin"}
