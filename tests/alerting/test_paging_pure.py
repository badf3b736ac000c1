"""Paging's pure parts: signatures, messages, links, rosters, escalation steps, channel settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from datetime import UTC, datetime

import pytest

from alerting import ack_links, channels, paging_names, robots, sms
from alerting.escalation import policy_from_dict, step
from alerting.messages import SMS_UNIT, AlarmFacts, limit_text, render, sms_text
from alerting.rosters import on_duty, roster_from_dict
from alerting.rules import RuleError

SECRET = "link-secret-0123456789abcdef"


def facts(**kw: object) -> AlarmFacts:
    base: dict[str, object] = {
        "alert_id": 42,
        "status": "firing",
        "severity": "critical",
        "what": "可燃气体一级报警",
        "park": "滨江化工园区",
        "enterprise": "测试化工有限公司",
        "device": "gd1",
        "zone": "C1",
        "value": 31.5,
        "unit": "%LEL",
        "limit": "≥ 25 %LEL",
        "since_ms": 1_796_500_000_000,  # 2026-12-05T19:46:40Z = 03:46:40 on 6 December in Shanghai
        "ack_url": "https://p.example/a/" + "A" * ack_links.TOKEN_CHARS,
    }
    return AlarmFacts(**{**base, **kw})  # type: ignore[arg-type]


# -- signatures ---------------------------------------------------------------------------------


def test_dingtalk_signature_as_documented() -> None:
    # DingTalk (自定义机器人安全设置, 加签): string_to_sign = timestamp + "\n" + secret, HmacSHA256
    # keyed with the secret, Base64, then URL-encoded. Worked here by hand with hashlib.
    ts, secret = 1_700_000_000_000, "secret"
    mac = hmac.new(b"secret", b"1700000000000\nsecret", hashlib.sha256).digest()
    assert robots.dingtalk_sign(secret, ts) == urllib.parse.quote_plus(base64.b64encode(mac).decode())
    # a published vector of the same algorithm (the dingding crate's test; verify against the platform)
    assert robots.dingtalk_sign(secret, ts) == "OuzzJR5%2BxZ4%2FEYwqtNt6sMYZQMTa%2FHEGvc9miJe7XzY%3D"


def test_feishu_signature_as_documented() -> None:
    # Feishu (自定义机器人, 签名校验): HmacSHA256 keyed with timestamp + "\n" + secret over an empty
    # message, Base64; the timestamp in seconds.
    mac = hmac.new(b"1700000000\nsecret", b"", hashlib.sha256).digest()
    assert robots.feishu_sign("secret", 1_700_000_000) == base64.b64encode(mac).decode()


def test_robot_requests_carry_the_documented_fields() -> None:
    msg = render([facts()])
    ding = robots.dingtalk_request(robots.DINGTALK_URL, {"access_token": "t", "secret": "s"}, msg, 1_700_000_000.0)
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(ding.url).query)
    assert q["access_token"] == ["t"] and q["timestamp"] == ["1700000000000"]
    assert json.loads(ding.body)["msgtype"] == "markdown"
    feishu = robots.feishu_request(robots.FEISHU_URL, {"hook_token": "h", "secret": "s"}, msg, 1_700_000_000.9)
    body = json.loads(feishu.body)
    assert feishu.url == f"{robots.FEISHU_URL}/h" and body["timestamp"] == "1700000000" and body["msg_type"] == "text"
    wecom = robots.wecom_request(robots.WECOM_URL, {"key": "k/1"}, msg)
    assert wecom.url == f"{robots.WECOM_URL}?key=k%2F1"
    assert robots.answer_error("wecom", 200, b'{"errcode":45009,"errmsg":"api freq out of limit"}')
    assert robots.answer_error("feishu", 200, b'{"code":0,"msg":"success"}') is None


def test_tc3_signature_steps() -> None:
    """Signature v3 by its documented steps, computed here independently."""
    payload = b'{"PhoneNumberSet":["+8613800000000"]}'
    ts = 1_551_113_065  # 2019-02-25 (the document's example time)
    auth = sms.tc3_authorization(
        secret_id="AKID", secret_key="KEY", host="sms.tencentcloudapi.com", payload=payload, timestamp=ts
    )
    canonical = (
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:sms.tencentcloudapi.com\n\n"
        "content-type;host\n" + hashlib.sha256(payload).hexdigest()
    )
    to_sign = (
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/sms/tc3_request\n" + hashlib.sha256(canonical.encode()).hexdigest()
    )
    k = hmac.new(b"TC3KEY", b"2019-02-25", hashlib.sha256).digest()
    k = hmac.new(k, b"sms", hashlib.sha256).digest()
    k = hmac.new(k, b"tc3_request", hashlib.sha256).digest()
    want = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    assert auth == (
        f"TC3-HMAC-SHA256 Credential=AKID/2019-02-25/sms/tc3_request, SignedHeaders=content-type;host, Signature={want}"
    )
    assert sms.tencent_error(b'{"Response":{"Error":{"Code":"AuthFailure","Message":"x"}}}', ["1"])
    ok = b'{"Response":{"SendStatusSet":[{"Code":"Ok"}],"RequestId":"r"}}'
    assert sms.tencent_error(ok, ["+8613800000000"]) is None


# -- messages -----------------------------------------------------------------------------------


def test_a_message_says_what_where_value_limit_since_severity_and_the_link() -> None:
    msg = render([facts()])
    for part in ("可燃气体一级报警", "滨江化工园区", "测试化工有限公司", "gd1", "C1", "31.5 %LEL", "≥ 25 %LEL", "紧急"):
        assert part in msg.text and part in msg.markdown
    assert "2026-12-06 03:46:40 CST" in msg.text  # UTC+8
    assert msg.text.endswith("确认处理: https://p.example/a/" + "A" * 20)
    assert "<script" not in render([facts(what="<script>x</script>")]).html


def test_english_when_the_park_speaks_it() -> None:
    msg = render([facts()], "en")
    assert "Severity: CRITICAL" in msg.text and "Acknowledge:" in msg.text


def test_a_summary_lists_ten_and_counts_the_rest() -> None:
    many = [facts(alert_id=i, device=f"d{i}", severity="minor" if i else "critical") for i in range(25)]
    msg = render(many)
    assert msg.subject == "[紧急] 25 条告警"
    assert msg.text.count("[一般]") + msg.text.count("[紧急]") == 10 and "另有 15 条" in msg.text


@pytest.mark.parametrize("sign", ["", "园区", "滨江化工园区"])
@pytest.mark.parametrize("n", [1, 3])
def test_an_sms_fits_one_unit_with_its_signature(sign: str, n: int) -> None:
    text = sms_text([facts(alert_id=i) for i in range(n)], "zh", sign)
    assert len(f"【{sign}】" if sign else "") + len(text) <= SMS_UNIT
    assert "31.5%LEL(≥25)" in text and text.endswith("https://p.example/a/" + "A" * 20)


def test_with_a_twelve_character_signature_the_value_and_the_link_still_fit() -> None:
    sign = "滨江化工园区安全监管平台"  # Tencent Cloud allows signatures of up to 12 characters
    text = sms_text([facts()], "zh", sign)
    assert len(f"【{sign}】") + len(text) <= SMS_UNIT
    assert text.startswith("紧急:31.5%LEL") and text.endswith("https://p.example/a/" + "A" * 20)


def test_limits_as_people_read_them() -> None:
    assert limit_text({"op": ">=", "threshold": 25}, "%LEL", "zh") == "≥ 25 %LEL"
    assert limit_text({"band": [19.5, 23.5]}, "%", "zh") == "19.5–23.5 之外 %"
    assert limit_text({"type": "avg", "window": "30s", "op": ">", "threshold": 10}, "ppm", "en") == "average > 10 ppm"
    assert limit_text({"type": "nodata", "window": "10m"}, "", "zh") == "无数据超过 10m"


# -- links --------------------------------------------------------------------------------------


def test_a_link_names_one_alarm_and_expires() -> None:
    token = ack_links.make_token(SECRET, alert_id=123_456, expires_s=1_800_000_030)
    assert len(token) == ack_links.TOKEN_CHARS
    link = ack_links.read_token(SECRET, token, now_s=1_800_000_000)
    assert link.alert_id == 123_456 and link.expires_s == 1_800_000_060  # rounded up to the minute
    with pytest.raises(ack_links.InvalidLink, match="expired"):
        ack_links.read_token(SECRET, token, now_s=1_800_000_060)
    with pytest.raises(ack_links.InvalidLink, match="signature"):
        ack_links.read_token("another-secret-0123456789", token, now_s=0)
    tampered = ack_links.make_token(SECRET, alert_id=123_457, expires_s=1_800_000_030)
    with pytest.raises(ack_links.InvalidLink, match="signature"):
        ack_links.read_token(SECRET, tampered[:7] + token[7:], now_s=0)
    with pytest.raises(ack_links.InvalidLink, match="malformed"):
        ack_links.read_token(SECRET, "x" * 19 + "!", now_s=0)
    with pytest.raises(ValueError, match="at least 16"):
        ack_links.make_token("short", alert_id=1, expires_s=1_800_000_000)


# -- rosters ------------------------------------------------------------------------------------

ROSTER = {
    "rotation": "daily",
    "handoff": "08:00",
    "start": "2026-12-01",
    "members": ["li", "wang", "zhao"],
    "overrides": [{"start": "2026-12-24T20:00", "end": "2026-12-25T08:00", "member": "chen"}],
    "holidays": {"dates": ["2027-01-01", "2027-01-02"], "members": ["sun", "zhou"]},
}


@pytest.mark.parametrize(
    ("utc", "member", "why"),
    [
        # 2026-12-01T00:30Z is 08:30 on 1 December in Shanghai: the first shift, li
        ("2026-12-01T00:30:00+00:00", "li", "rotation"),
        # 2026-12-02T23:59Z is 07:59 on 3 December, before the hand-off: 2 December's shift, wang
        ("2026-12-02T23:59:00+00:00", "wang", "rotation"),
        # 08:00 on 3 December: zhao; 08:00 on 4 December: li again (4 = 3 days after the start, mod 3)
        ("2026-12-03T00:00:00+00:00", "zhao", "rotation"),
        ("2026-12-04T00:00:00+00:00", "li", "rotation"),
        # 21:00 on 24 December (13:00Z) falls in the override 20:00-08:00
        ("2026-12-24T13:00:00+00:00", "chen", "override"),
        # 1 January 2027 10:00 (02:00Z): the first holiday, sun; 2 January: zhou
        ("2027-01-01T02:00:00+00:00", "sun", "holiday"),
        ("2027-01-02T02:00:00+00:00", "zhou", "holiday"),
    ],
)
def test_who_is_on_duty(utc: str, member: str, why: str) -> None:
    duty = on_duty(roster_from_dict(ROSTER), datetime.fromisoformat(utc), "Asia/Shanghai")
    assert (duty.member, duty.why) == (member, why)


def test_a_weekly_rotation_changes_on_its_weekday() -> None:
    r = roster_from_dict({"rotation": "weekly", "handoff": "09:00", "start": "2026-11-30", "members": ["a", "b"]})
    # Monday 7 December 08:59 in Shanghai is still the first week; 09:00 starts the second
    assert on_duty(r, datetime(2026, 12, 7, 0, 59, tzinfo=UTC), "Asia/Shanghai").member == "a"
    assert on_duty(r, datetime(2026, 12, 7, 1, 0, tzinfo=UTC), "Asia/Shanghai").member == "b"


@pytest.mark.parametrize(
    "bad",
    [
        {"start": "2026-12-01", "members": []},
        {"start": "2026-12-01", "members": ["a"], "rotation": "hourly"},
        {"start": "yesterday", "members": ["a"]},
        {
            "start": "2026-12-01",
            "members": ["a"],
            "overrides": [{"start": "2026-12-02T10:00", "end": "2026-12-02T09:00", "member": "b"}],
        },
        {"start": "2026-12-01", "members": ["a"], "holidays": {"dates": ["2027-01-01"]}},
    ],
)
def test_a_bad_roster_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(RuleError):
        roster_from_dict(bad)


# -- escalation ---------------------------------------------------------------------------------

POLICY = {
    "levels": [
        {"after_min": 0, "receivers": ["mail"], "rosters": ["night"]},
        {"after_min": 10, "receivers": ["sms"], "contacts": ["lead"]},
        {"after_min": 30, "receivers": ["sms"], "contacts": ["manager"]},
    ],
    "repeat_min": 15,
}


def test_levels_then_repeats_of_the_last() -> None:
    p = policy_from_dict(1, "gas", ["category=safety"], POLICY)
    t0 = 1000.0
    s1 = step(p, levels_done=0, repeats=0, started_s=t0, deadline_s=t0)
    assert (s1.number, s1.next_s) == (1, t0 + 600)
    s2 = step(p, levels_done=1, repeats=0, started_s=t0, deadline_s=t0 + 600)
    assert (s2.number, s2.next_s) == (2, t0 + 1800)
    s3 = step(p, levels_done=2, repeats=0, started_s=t0, deadline_s=t0 + 1800)
    assert (s3.number, s3.levels_done, s3.next_s) == (3, 3, t0 + 1800 + 900)
    s4 = step(p, levels_done=3, repeats=0, started_s=t0, deadline_s=t0 + 2700)
    assert (s4.number, s4.repeats, s4.next_s) == (3, 1, t0 + 3600)
    once = policy_from_dict(2, "once", ["category=safety"], {"levels": POLICY["levels"][:1]})
    assert step(once, levels_done=0, repeats=0, started_s=t0, deadline_s=t0).next_s is None


def test_a_parks_policy_starts_only_on_its_parks_alarms_a_platform_wide_one_on_every_parks() -> None:
    """Park 7's policy whose matchers do not name the park starts on park 7's alarm only; a
    platform-wide one on any park's alarm its matchers match."""
    gas_a = {"park": "a", "alertname": "lel-level1", "category": "safety"}
    gas_b = {"park": "b", "alertname": "lel-level1", "category": "safety"}
    parks = policy_from_dict(1, "gas", ["category=safety"], POLICY, park_id=7)
    assert parks.matches(gas_a, park_id=7)
    assert not parks.matches(gas_b, park_id=8)
    # its matchers are not what binds it: naming the other park's code does not reach it either
    naming_b = policy_from_dict(2, "gas-b", ["park=b"], POLICY, park_id=7)
    assert not naming_b.matches(gas_b, park_id=8)
    wide = policy_from_dict(3, "gas-all", ["category=safety"], POLICY)
    assert wide.matches(gas_a, park_id=7) and wide.matches(gas_b, park_id=8)
    assert not wide.matches({**gas_b, "category": "energy"}, park_id=8)
    assert not parks.matches({**gas_a, "category": "energy"}, park_id=7)


@pytest.mark.parametrize(
    "bad",
    [
        {"levels": []},
        {"levels": [{"after_min": 5, "receivers": ["a"]}]},
        {"levels": [{"after_min": 0, "receivers": []}]},
        {"levels": [{"after_min": 0, "receivers": ["a"]}, {"after_min": 0, "receivers": ["b"]}]},
        {"levels": [{"after_min": 0, "receivers": ["a"]}], "repeat_min": 0},
        {"levels": [{"after_min": 0, "receivers": ["a"]}] * 6},
    ],
)
def test_a_bad_policy_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(RuleError):
        policy_from_dict(1, "p", ["category=safety"], bad)


def test_the_names_a_policy_or_plan_gives_are_checked_where_they_are_named() -> None:
    p = policy_from_dict(1, "gas", ["category=safety"], POLICY)
    named = paging_names.of_levels("definition.levels.{i}.{kind}", p.levels)
    assert ("definition.levels.0.rosters", "rosters", ("night",)) in named
    assert ("definition.levels.1.contacts", "contacts", ("lead",)) in named
    assert len(named) == len(POLICY["levels"]) * len(paging_names.KINDS)
    mine = paging_names.refusal("steps.0.notify.contacts", "contacts", ["li", "wang"], 7)
    assert mine.startswith("steps.0.notify.contacts: contacts 'li', 'wang'") and "park 7's" in mine
    assert "platform-wide ones only" in paging_names.refusal("definition", "contacts", ["li"], None)


# -- channel settings ---------------------------------------------------------------------------


def test_rate_budgets_are_the_platforms_documented_limits() -> None:
    assert channels.PER_MINUTE["dingtalk"] == 20 and channels.PER_MINUTE["wecom"] == 20
    assert channels.PER_MINUTE["feishu"] == 100
    with pytest.raises(RuleError, match="per_minute"):
        channels.check("r", "dingtalk", None, {"per_minute": 21}, {"access_token": "t"})
    channels.check("r", "dingtalk", None, {"per_minute": 5}, {"access_token": "t"})
