"""How an alarm's notification log shows whom it paged (api/target_mask.py): numbers and
addresses masked, URLs cut to scheme, host and port, the same masks inside errors. Pure."""

from __future__ import annotations

import pytest

from api.target_mask import mask_error, mask_one, mask_targets


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("13800000002", "138****0002"),  # 11 digits: the boundary of the 3 + 4 + 4 frame
        ("+8613800000001", "+86138****0001"),
        ("1380000000", "********00"),  # 10 digits: only the last two
        ("12345", "***45"),  # the shortest number a receiver takes (PHONE in alerting.channels)
        ("duty@park.example", "d***@park.example"),
        ("a@b.c", "a***@b.c"),
        ("https://oapi.dingtalk.com/robot/send", "https://oapi.dingtalk.com/…"),
        ("http://10.20.0.5:8080/sms?key=abc", "http://10.20.0.5:8080/…"),
        ("https://user:pw@gw.example", "https://gw.example"),  # credentials in a URL never shown
        ("http://[fd00::5]:81/x", "http://[fd00::5]:81/…"),
        ("wecom", "wecom"),  # no target of its own: the channel's name
    ],
)
def test_each_kind_of_target_is_masked(target: str, shown: str) -> None:
    assert mask_one(target) == shown


def test_several_targets_of_one_message_and_the_errors_naming_them() -> None:
    target = "+8613800000001, 13800000002"
    assert mask_targets(target) == "+86138****0001, 138****0002"
    error = 'tencent refused 1 of 2 numbers: [{"PhoneNumber": "+8613800000001", "Code": "LimitExceeded"}]'
    assert mask_error(error, target) == (
        'tencent refused 1 of 2 numbers: [{"PhoneNumber": "+86138****0001", "Code": "LimitExceeded"}]'
    )
    assert mask_error(None, target) is None
    assert mask_error("HTTP 503", "wecom") == "HTTP 503"
