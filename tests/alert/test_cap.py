"""CAP 1.2: every message AnBao writes validates against the official OASIS schema; reading is safe and strict."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import defusedxml.ElementTree as SafeET
import pytest
import xmlschema

from anbao.alert.cap import (
    ATOM_NS,
    CAP_MEDIA_TYPE,
    CAP_NS,
    CapAlert,
    CapArea,
    CapInfo,
    CapResource,
    Category,
    Certainty,
    Level,
    MsgType,
    ResponseType,
    Scope,
    Severity,
    Status,
    Urgency,
    alert_from_element,
    default_certainty,
    entry_id,
    feed_xml,
    format_datetime,
    from_xml,
    is_active,
    level_of,
    parse_datetime,
    reference,
    to_xml,
    warning_to_cap,
)
from anbao.core.errors import Invalid

DATA = Path(__file__).resolve().parent.parent / "data" / "cap"
CST = timezone(timedelta(hours=8))
SENT = datetime(2026, 12, 19, 20, 15, tzinfo=CST)
SENDER = "zhihui@anbao.hz.gov.cn"
# a standing floor near the Hangzhou Olympic Sports Centre, (lon, lat)
FLOOR = [(120.2290, 30.2297), (120.2301, 30.2297), (120.2301, 30.2306), (120.2290, 30.2306), (120.2290, 30.2297)]


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(DATA / "CAP-v1.2.xsd"))


def assert_valid(schema: xmlschema.XMLSchema, xml: bytes) -> None:
    errors = [str(e.reason) for e in schema.iter_errors(xml.decode("utf-8"))]
    assert errors == [], errors


def density_warning(level: Level = Level.orange, **overrides) -> CapAlert:
    fields = {
        "identifier": "AB-20261219-0001",
        "sender": SENDER,
        "sent": SENT,
        "level": level,
        "event_type": "人群密度预警",
        "headline": f"{level.label}预警：内场站席A区人群密度过高",
        "description": "内场站席A区实测密度 4.6 人/平方米，超过橙色阈值 4 人/平方米。",
        "instruction": "A区暂停入场，开启3号、4号疏散口分流；现场民警疏导，禁止逆行。",
        "area_desc": "杭州奥体中心 内场站席A区",
        "polygon": FLOOR,
        "parameters": [("density_p_m2", "4.6"), ("level", level.value)],
        "sender_name": "杭州市公安局 大型活动安保指挥部",
    }
    fields.update(overrides)
    return warning_to_cap(**fields)


def full_alert() -> CapAlert:
    """Every CAP element AnBao models, so the schema checks the whole element order."""
    info = CapInfo(
        language="zh-CN",
        categories=[Category.safety, Category.security],
        event="人群密度预警",
        response_types=[ResponseType.avoid, ResponseType.monitor],
        urgency=Urgency.expected,
        severity=Severity.moderate,
        certainty=Certainty.likely,
        audience="现场执勤民警、志愿者",
        event_codes=[("ANBAO", "crowd_density")],
        effective=SENT,
        onset=SENT + timedelta(minutes=10),
        expires=SENT + timedelta(hours=2),
        sender_name="安保指挥部",
        headline="黄色预警：预测10分钟后北广场密度超过3人/平方米",
        description="预测北广场密度将升至 3.4 人/平方米。",
        instruction="提前开启北广场分流通道。",
        web="https://anbao.example.cn/alerts/AB-2",
        contact="指挥部值班室 0571-12345678",
        parameters=[("density_p_m2", "3.4"), ("horizon_min", "10"), ("level", "yellow")],
        resources=[CapResource("现场照片", "image/jpeg", size=123456, uri="https://anbao.example.cn/r/1.jpg",
                               digest="da39a3ee5e6b4b0d3255bfef95601890afd80709")],
        areas=[
            CapArea("北广场", polygon=FLOOR, circle=(120.2295, 30.2301, 0.25), geocodes=[("GB/T 2260", "330108")],
                    altitude=30.0, ceiling=300.5),
            CapArea("地铁奥体中心站 C 口", circle=(120.2321, 30.2288, 0.1)),
        ],
    )
    english = replace(info, language="en-US", headline="Yellow warning: crowd density forecast at North Plaza")
    return CapAlert(
        identifier="AB-20261219-0002",
        sender=SENDER,
        sent=SENT,
        status=Status.exercise,
        msg_type=MsgType.update,
        scope=Scope.restricted,
        infos=[info, english],
        references=[f"{SENDER},AB-20261219-0001,2026-12-19T20:05:00+08:00"],
        restriction="仅限安保指挥部成员",
        addresses=None,
        note="演练 drill",
        source="crowd-monitor",
        codes=["ANBAO-EXERCISE"],
        incidents="INC-7",
    )


# ----------------------------------------------------------------------------------------------------- levels


def test_levels_map_to_chinese_names_grades_and_cap_values():
    table = {level: (level.label, level.grade, level.rank, level.severity, level.urgency) for level in Level}
    assert table == {
        Level.blue: ("蓝色", "四级", 1, Severity.minor, Urgency.future),
        Level.yellow: ("黄色", "三级", 2, Severity.moderate, Urgency.expected),
        Level.orange: ("橙色", "二级", 3, Severity.severe, Urgency.immediate),
        Level.red: ("红色", "一级", 4, Severity.extreme, Urgency.immediate),
    }
    assert Level.red.warning_title == "红色预警（一级）"
    assert default_certainty(forecast=True) == Certainty.likely
    assert default_certainty(forecast=False) == Certainty.observed
    assert [Level.parse(v) for v in ("orange", "橙色", "二级", "橙色预警")] == [Level.orange] * 4
    assert Level.from_severity(Severity.extreme) == Level.red
    assert Level.from_severity("Unknown") is None
    with pytest.raises(Invalid):
        Level.parse("purple")


# ------------------------------------------------------------------------------------------ schema validity


@pytest.mark.parametrize("level", list(Level))
@pytest.mark.parametrize("exercise", [False, True])
@pytest.mark.parametrize("msg_type", [MsgType.alert, MsgType.update, MsgType.cancel])
def test_warnings_validate_against_the_oasis_schema(schema, level, exercise, msg_type):
    first = density_warning(level, exercise=exercise)
    alert = first if msg_type == MsgType.alert else density_warning(
        level, identifier="AB-20261219-0009", sent=SENT + timedelta(minutes=5), exercise=exercise,
        msg_type=msg_type, references=[first])
    xml = to_xml(alert)
    assert_valid(schema, xml)
    info = alert.infos[0]
    assert alert.status == (Status.exercise if exercise else Status.actual)
    assert (info.severity, info.urgency, info.certainty) == (level.severity, level.urgency, Certainty.observed)
    if msg_type != MsgType.alert:
        assert alert.references == [f"{SENDER},AB-20261219-0001,2026-12-19T20:15:00+08:00"]
        assert b"<references>zhihui@anbao.hz.gov.cn,AB-20261219-0001,2026-12-19T20:15:00+08:00</references>" in xml
    assert from_xml(xml) == alert


def test_every_modelled_element_in_schema_order_validates(schema):
    alert = full_alert()
    xml = to_xml(alert)
    assert_valid(schema, xml)
    assert from_xml(xml) == alert


def test_forecast_warning_is_likely_and_urgency_can_be_overridden(schema):
    alert = density_warning(Level.yellow, forecast=True, urgency=Urgency.immediate, circle=(120.23, 30.23, 0.3))
    info = alert.infos[0]
    assert (info.certainty, info.urgency, info.severity) == (Certainty.likely, Urgency.immediate, Severity.moderate)
    assert_valid(schema, to_xml(alert))


def test_level_parameter_is_added_once_in_chinese_with_a_machine_code():
    """Issue 13 item 16: the level parameter was English ("red"); a Chinese reader gets 红色预警（一级）."""
    alert = density_warning(Level.red, parameters=[("density_p_m2", "5.3")])
    assert alert.infos[0].parameters == [("density_p_m2", "5.3"), ("level", "红色预警（一级）"), ("level_code", "red")]
    # a level the caller gives is kept as given; the machine code is added beside it
    assert density_warning(Level.red).infos[0].parameters == [
        ("density_p_m2", "4.6"), ("level", "red"), ("level_code", "red")]
    assert level_of(alert.infos[0]) == Level.red
    assert level_of(replace(alert.infos[0], parameters=[])) == Level.red  # from severity
    # either parameter alone is read; the code first; an English "level" from older senders still reads
    assert level_of(replace(alert.infos[0], parameters=[("level", "橙色预警（二级）")])) == Level.orange
    assert level_of(replace(alert.infos[0], parameters=[("level", "orange")])) == Level.orange
    assert level_of(replace(alert.infos[0], parameters=[("level", "蓝色"), ("level_code", "yellow")])) == Level.yellow
    assert level_of(replace(alert.infos[0], parameters=[("level_code", "pink"), ("level", "二级")])) == Level.orange


# --------------------------------------------------------------------------------------------- date-times


def test_datetimes_in_cap_form():
    assert format_datetime(SENT) == "2026-12-19T20:15:00+08:00"
    assert format_datetime(datetime(2026, 12, 19, 12, 15, 0, 999_999, tzinfo=UTC)) == "2026-12-19T12:15:00-00:00"
    assert format_datetime(datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-3, minutes=-30)))) \
        == "2026-01-01T00:00:00-03:30"
    assert parse_datetime("2026-12-19T12:15:00-00:00") == datetime(2026, 12, 19, 12, 15, tzinfo=UTC)
    for bad in ("2026-12-19T12:15:00Z", "2026-12-19T12:15:00.5+08:00", "2026-12-19T12:15+08:00",
                "2026-12-19T12:15:00", "2026-13-19T12:15:00+08:00"):
        with pytest.raises(Invalid):
            parse_datetime(bad)


def test_utc_sent_is_written_minus_zero_and_fractions_are_dropped(schema):
    alert = density_warning(sent=datetime(2026, 12, 19, 12, 15, 0, 123_456, tzinfo=UTC))
    xml = to_xml(alert)
    assert b"<sent>2026-12-19T12:15:00-00:00</sent>" in xml
    assert alert.sent == datetime(2026, 12, 19, 12, 15, tzinfo=UTC)
    assert_valid(schema, xml)
    assert from_xml(xml) == alert


def test_naive_datetimes_are_rejected():
    with pytest.raises(Invalid, match="sent: naive"):
        density_warning(sent=datetime(2026, 12, 19, 20, 15))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(Invalid, match="expires: naive"):
        density_warning(expires=datetime(2026, 12, 19, 22, 15))  # noqa: DTZ001
    with pytest.raises(Invalid, match="expires: .* is before effective"):
        density_warning(effective=SENT, expires=SENT - timedelta(minutes=1))


# ------------------------------------------------------------------------------------------- CAP rules


def test_private_scope_needs_addresses(schema):
    with pytest.raises(Invalid, match="addresses: required when scope is Private"):
        density_warning(scope=Scope.private)
    alert = density_warning(scope=Scope.private, addresses='zhihuibu "site command 2"')
    assert_valid(schema, to_xml(alert))
    assert from_xml(to_xml(alert)) == alert


@pytest.mark.parametrize("msg_type", [MsgType.update, MsgType.cancel, MsgType.ack, MsgType.error])
def test_non_alert_messages_need_references(msg_type):
    with pytest.raises(Invalid, match="references"):
        density_warning(msg_type=msg_type)


@pytest.mark.parametrize("bad", ["AB-1", "a,b", "a,b,c", "a b,c,2026-12-19T20:15:00+08:00",
                                 "a,b,2026-12-19T20:15:00Z"])
def test_malformed_references_are_rejected(bad):
    with pytest.raises(Invalid, match="references"):
        density_warning(msg_type=MsgType.update, references=[bad])


def test_reference_string_of_an_alert():
    assert reference(density_warning()) == f"{SENDER},AB-20261219-0001,2026-12-19T20:15:00+08:00"


@pytest.mark.parametrize("identifier", ["", "AB 1", "AB,1", "AB<1", "AB&1"])
def test_identifier_without_spaces_commas_or_markup(identifier):
    with pytest.raises(Invalid, match="identifier"):
        density_warning(identifier=identifier)


def test_open_polygon_ring_is_closed_automatically(schema):
    """Decision: an open ring is closed (first position appended), as CAP requires first == last."""
    open_ring = FLOOR[:-1]
    assert CapArea("A区", polygon=open_ring) == CapArea("A区", polygon=FLOOR)
    alert = density_warning(polygon=open_ring)
    assert alert.infos[0].areas[0].polygon == FLOOR
    xml = to_xml(alert)
    assert b"<polygon>30.2297,120.229 30.2297,120.2301 30.2306,120.2301 30.2306,120.229 30.2297,120.229</polygon>" \
        in xml
    assert_valid(schema, xml)


@pytest.mark.parametrize(
    ("polygon", "fragment"),
    [
        ([(120.0, 30.0), (120.1, 30.0)], "at least 3 distinct"),
        ([(120.0, 30.0), (120.1, 30.0), (120.0, 30.0), (120.0, 30.0)], "at least 3 distinct"),
        ([(30.0, 120.0), (30.1, 120.0), (30.1, 120.1)], "swapped"),
        ([(120.0, 30.0), (float("nan"), 30.0), (120.1, 30.1)], "finite number"),
        ([(120.0, 30.0, 5.0), (120.1, 30.0), (120.1, 30.1)], "(lon, lat)"),
    ],
)
def test_bad_polygons_are_rejected(polygon, fragment):
    with pytest.raises(Invalid) as info:
        CapArea("A区", polygon=polygon)
    assert fragment in info.value.message


def test_area_rules():
    with pytest.raises(Invalid, match="radius_km"):
        CapArea("A区", circle=(120.0, 30.0, -1.0))
    with pytest.raises(Invalid, match="ceiling"):
        CapArea("A区", ceiling=100.0)
    with pytest.raises(Invalid, match="areaDesc"):
        CapArea(" ")


def test_bad_enumerations_and_text_are_rejected():
    info = density_warning().infos[0]
    with pytest.raises(Invalid, match="category"):
        replace(info, categories=[])
    with pytest.raises(Invalid, match="category: 'Crowd'"):
        replace(info, categories=["Crowd"])
    with pytest.raises(Invalid, match="language"):
        replace(info, language="zh_CN")
    with pytest.raises(Invalid, match="status"):
        replace(density_warning(), status="Real")
    with pytest.raises(Invalid, match="cannot be written in XML"):
        to_xml(density_warning(description="bell \x07"))


# -------------------------------------------------------------------------------------------- round trip


def test_chinese_text_survives_the_round_trip_as_utf8():
    alert = density_warning(Level.red)
    xml = to_xml(alert)
    assert xml.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert "人群密度预警".encode() in xml and "禁止逆行".encode() in xml
    assert b"&#" not in xml
    back = from_xml(xml)
    assert back == alert
    assert back.infos[0].event == "人群密度预警"
    assert back.infos[0].areas[0].desc == "杭州奥体中心 内场站席A区"
    assert back.infos[0].instruction == alert.infos[0].instruction


def test_round_trip_keeps_precise_coordinates():
    area = CapArea("点", polygon=[(120.12345678901234, 30.1), (120.2, 1e-7), (-0.5, -30.25)],
                   circle=(179.999999999, -89.5, 0.0005))
    alert = replace(density_warning(), infos=[replace(density_warning().infos[0], areas=[area])])
    xml = to_xml(alert)
    assert b"e-" not in xml  # never exponent form
    assert from_xml(xml) == alert


# -------------------------------------------------------------------------------------- the OASIS example


def test_official_amber_alert_example_is_read(schema):
    raw = (DATA / "cap_amber_alert_example.xml").read_bytes()
    assert_valid(schema, raw)
    alert = from_xml(raw)
    assert alert.identifier == "KAR0-0306112239-SW"
    assert alert.sender == "KARO@CLETS.DOJ.CA.GOV"
    assert alert.sent == datetime(2003, 6, 11, 22, 39, tzinfo=timezone(timedelta(hours=-7)))
    assert format_datetime(alert.sent) == "2003-06-11T22:39:00-07:00"
    assert (alert.status, alert.msg_type, alert.scope, alert.source) == (
        Status.actual, MsgType.alert, Scope.public, "SW")
    assert [i.language for i in alert.infos] == ["en-US", "es-US"]
    english, spanish = alert.infos
    assert english.categories == [Category.rescue]
    assert english.event == "Child Abduction"
    assert (english.urgency, english.severity, english.certainty) == (
        Urgency.immediate, Severity.severe, Certainty.likely)
    assert english.event_codes == [("SAME", "CAE")]
    assert english.sender_name == "Los Angeles Police Dept - LAPD"
    assert english.headline == "Amber Alert in Los Angeles County"
    assert english.description is not None and english.description.startswith("DATE/TIME: 06/11/03, 1915 HRS.")
    assert english.contact == "DET. SMITH, 77TH DIV, LOS ANGELES POLICE DEPT-LAPD AT 213 485-2389"
    assert english.areas == [CapArea("Los Angeles County", geocodes=[("SAME", "006037")])]
    assert spanish.event == "Abducción de Niño"
    assert spanish.areas[0].desc == "condado de Los Ángeles"
    assert level_of(english) == Level.orange

    again = to_xml(alert)
    assert_valid(schema, again)
    assert from_xml(again) == alert


def test_area_with_several_polygons_is_read_as_one_area_per_shape(schema):
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="{CAP_NS}">
  <identifier>X-1</identifier><sender>s@example.org</sender><sent>2026-12-19T20:15:00+08:00</sent>
  <status>Test</status><msgType>Alert</msgType><scope>Public</scope>
  <info><category>Safety</category><event>e</event><urgency>Future</urgency><severity>Minor</severity>
    <certainty>Possible</certainty>
    <area><areaDesc>两块</areaDesc>
      <polygon>30.0,120.0 30.0,120.1 30.1,120.1 30.0,120.0</polygon>
      <polygon>31.0,121.0 31.0,121.1 31.1,121.1</polygon>
      <geocode><valueName>GB/T 2260</valueName><value>330106</value></geocode>
      <altitude>10</altitude>
    </area>
  </info>
</alert>""".encode()
    assert_valid(schema, xml)
    alert = from_xml(xml)
    areas = alert.infos[0].areas
    assert [a.desc for a in areas] == ["两块", "两块"]
    assert areas[0].polygon == [(120.0, 30.0), (120.1, 30.0), (120.1, 30.1), (120.0, 30.0)]
    assert areas[1].polygon == [(121.0, 31.0), (121.1, 31.0), (121.1, 31.1), (121.0, 31.0)]  # closed on reading
    assert (areas[0].geocodes, areas[1].geocodes) == ([("GB/T 2260", "330106")], [])
    assert (areas[0].altitude, areas[1].altitude) == (10.0, 10.0)
    assert alert.infos[0].language == "en-US"  # the schema's default
    assert_valid(schema, to_xml(alert))


# ------------------------------------------------------------------------------------------ hostile input

MINIMAL = ("<identifier>X-1</identifier><sender>s@example.org</sender><sent>2026-12-19T20:15:00+08:00</sent>"
           "<status>Actual</status><msgType>Alert</msgType><scope>Public</scope>")


def cap(body: str, root: str = f'<alert xmlns="{CAP_NS}">') -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{root}{body}</alert>'.encode()


def test_minimal_message_without_info_is_read():
    alert = from_xml(cap(MINIMAL))
    assert (alert.identifier, alert.infos) == ("X-1", [])


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "not well-formed"),
        (b"<alert", "not well-formed"),
        (cap(MINIMAL) + b"<extra/>", "not well-formed"),
        (b"\xff\xfe<alert/>", "not well-formed"),
        (cap(MINIMAL, root="<alert>"), "namespace"),
        (cap(MINIMAL, root='<alert xmlns="urn:oasis:names:tc:emergency:cap:1.1">'), "namespace"),
        (f'<feed xmlns="{CAP_NS}"/>'.encode(), "root element must be <alert>"),
        (cap(MINIMAL.replace("<sender>s@example.org</sender>", "")), "missing required element <sender>"),
        (cap(MINIMAL.replace("<sent>2026-12-19T20:15:00+08:00</sent>", "<sent>2026-12-19T12:15:00Z</sent>")),
         "alert/sent"),
        (cap(MINIMAL.replace("Actual", "Real")), "alert/status: 'Real'"),
        (cap(MINIMAL.replace("Public", "Private")), "addresses"),
        (cap(MINIMAL.replace("<msgType>Alert", "<msgType>Cancel")), "references"),
        (cap(MINIMAL + "<identifier>X-2</identifier>"), "<identifier> appears 2 times"),
        (cap(MINIMAL + "<colour>red</colour>"), "unknown CAP 1.2 element <colour>"),
        (cap(MINIMAL + "<info><category>Safety</category></info>"), "alert/info[0]: missing required element <event>"),
        (cap(MINIMAL + "<info><event>e</event></info>"), "alert/info[0]: missing required element <category>"),
        (cap(MINIMAL + "<info><category>Safety</category><event>e</event><urgency>Now</urgency>"
                       "<severity>Minor</severity><certainty>Likely</certainty></info>"), "alert/info[0]/urgency"),
        (cap(MINIMAL + "<info><category>Safety</category><event>e</event><urgency>Past</urgency>"
                       "<severity>Minor</severity><certainty>Likely</certainty><area><areaDesc>a</areaDesc>"
                       "<polygon>30,120 30;121 31,121</polygon></area></info>"), "alert/info[0]/area[0]/polygon"),
        (cap(MINIMAL + "<info><category>Safety</category><event>e</event><urgency>Past</urgency>"
                       "<severity>Minor</severity><certainty>Likely</certainty><area><areaDesc>a</areaDesc>"
                       "<circle>30,120</circle></area></info>"), "alert/info[0]/area[0]/circle"),
        (cap(MINIMAL + "<info><category>Safety</category><event>e</event><urgency>Past</urgency>"
                       "<severity>Minor</severity><certainty>Likely</certainty><parameter><valueName>x</valueName>"
                       "</parameter></info>"), "alert/info[0]/parameter[0]: missing required element <value>"),
    ],
)
def test_malformed_messages_are_rejected_naming_the_element(data, fragment):
    with pytest.raises(Invalid) as info:
        from_xml(data)
    assert fragment in info.value.message


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE alert [<!ENTITY who "AnBao">]>',
        '<!DOCTYPE alert [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
        '<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE alert SYSTEM "http://example.org/cap.dtd">',
    ],
)
def test_dtds_and_entities_are_refused(doctype):
    data = (f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n<alert xmlns="{CAP_NS}">'
            + MINIMAL.replace("X-1", "X-&who;" if "who" in doctype else "X-1") + "</alert>").encode()
    with pytest.raises(Invalid, match="DTDs and entities are not allowed"):
        from_xml(data)


def test_signature_from_another_namespace_is_ignored_and_text_input_is_accepted():
    body = MINIMAL + '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature>'
    assert from_xml(cap(body).decode()).identifier == "X-1"


# ---------------------------------------------------------------------------------------------- Atom feed


def test_atom_feed_embeds_each_alert(schema):
    old = density_warning(Level.yellow, identifier="AB-1", sent=SENT - timedelta(minutes=30))
    new = density_warning(Level.red, identifier="AB-2", exercise=True)
    now = SENT + timedelta(minutes=1)
    data = feed_xml([old, new], "杭州奥体中心 预警", now, feed_id="https://anbao.example.cn/cap/feed",
                    self_link="https://anbao.example.cn/cap/feed.atom",
                    alert_link=lambda a: f"https://anbao.example.cn/cap/{a.identifier}.xml")
    root = SafeET.fromstring(data, forbid_dtd=True)
    a = f"{{{ATOM_NS}}}"
    assert root.tag == f"{a}feed"
    assert root.findtext(f"{a}title") == "杭州奥体中心 预警"
    assert root.findtext(f"{a}updated") == "2026-12-19T20:16:00+08:00"
    assert root.findtext(f"{a}id") == "https://anbao.example.cn/cap/feed"
    assert root.find(f"{a}author/{a}name") is not None
    assert root.find(f"{a}link").attrib == {"rel": "self", "type": "application/atom+xml",
                                             "href": "https://anbao.example.cn/cap/feed.atom"}
    entries = root.findall(f"{a}entry")
    assert [e.findtext(f"{a}id") for e in entries] == [entry_id(new), entry_id(old)]  # newest first
    assert entry_id(new) == "urn:anbao:cap:zhihui@anbao.hz.gov.cn:AB-2"
    first = entries[0]
    assert first.findtext(f"{a}title") == "红色预警：内场站席A区人群密度过高"
    assert first.findtext(f"{a}updated") == "2026-12-19T20:15:00+08:00"
    assert first.findtext(f"{a}author/{a}name") == "杭州市公安局 大型活动安保指挥部"
    assert first.find(f"{a}link").attrib == {"rel": "alternate", "type": CAP_MEDIA_TYPE,
                                              "href": "https://anbao.example.cn/cap/AB-2.xml"}
    content = first.find(f"{a}content")
    assert content.attrib == {"type": CAP_MEDIA_TYPE}
    assert len(content) == 1
    for entry, alert in zip(entries, [new, old], strict=True):
        embedded = entry.find(f"{a}content")[0]
        assert schema.is_valid(embedded)
        assert alert_from_element(embedded) == alert


def test_empty_feed_and_naive_updated():
    root = SafeET.fromstring(feed_xml([], "空", SENT))
    assert root.findall(f"{{{ATOM_NS}}}entry") == []
    with pytest.raises(Invalid, match="updated"):
        feed_xml([], "空", datetime(2026, 12, 19))  # noqa: DTZ001


def test_is_active():
    alert = density_warning(expires=SENT + timedelta(hours=1))
    assert is_active(alert, SENT + timedelta(minutes=59))
    assert not is_active(alert, SENT + timedelta(hours=1))
    assert is_active(density_warning(), SENT + timedelta(days=9))  # no expiry
    assert not is_active(density_warning(msg_type=MsgType.cancel, references=[alert]), SENT)
    assert not is_active(replace(alert, status=Status.draft), SENT)
