"""Packages: canonical bytes, Ed25519 signatures, the park's key file (pure, no services)."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from region.package import (
    Envelope,
    Package,
    PackageError,
    canonical,
    decode,
    generate_key_file,
    key_id,
    load_key_file,
    new_package,
    public_from_text,
    public_raw,
    sign,
    verify,
)

BODY = {"figures": {"output_value": 120000.0, "tax": None}, "park_name": "包头园区"}


def _package(**change: object) -> Package:
    values: dict[str, object] = {
        "park": "bt01",
        "period": "2025",
        "revision": 1,
        "created": datetime(2026, 1, 5, 3, 0, tzinfo=UTC),
        "nonce": "0" * 32,
        "body": BODY,
    }
    values.update(change)
    return Package(**values)  # type: ignore[arg-type]


def test_a_signed_package_verifies_and_any_changed_byte_does_not() -> None:
    key = Ed25519PrivateKey.generate()
    env = sign(_package(), key)
    assert env.key_id == key_id(public_raw(key)) and len(env.key_id) == 32
    assert verify(env, public_raw(key))
    assert decode(env.package) == _package()
    tampered = env.package.replace(b"120000.0", b"130000.0")
    assert not verify(Envelope(tampered, env.key_id, env.signature), public_raw(key))
    other = Ed25519PrivateKey.generate()
    assert not verify(env, public_raw(other))
    assert not verify(Envelope(env.package, env.key_id, b"short"), public_raw(key))


def test_the_canonical_form_is_the_only_one_accepted() -> None:
    raw = _package().encode()
    assert raw == canonical(json.loads(raw))
    assert b" " not in raw.replace("包头园区".encode(), b"")  # no spaces; UTF-8 kept as is
    assert "包头园区".encode() in raw
    spaced = json.dumps(json.loads(raw), indent=1, ensure_ascii=False).encode()
    with pytest.raises(PackageError, match="canonical"):
        decode(spaced)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"park": "bad code!"}, "park"),
        ({"period": "2025-13"}, "period"),
        ({"period": "25"}, "period"),
        ({"period": "0000"}, "period"),  # a year no calendar function takes
        ({"revision": 0}, "revision"),
        ({"created": datetime(2026, 1, 5)}, "created"),  # a naive time is refused
        ({"nonce": "xyz"}, "nonce"),
    ],
)
def test_a_bad_field_is_named(change: dict[str, object], field: str) -> None:
    with pytest.raises(PackageError) as info:
        _package(**change)
    assert info.value.field == field


def test_decode_names_what_is_missing_or_wrong() -> None:
    value = json.loads(_package().encode())
    del value["nonce"]
    with pytest.raises(PackageError, match="nonce"):
        decode(canonical(value))
    value = json.loads(_package().encode())
    value["revision"] = "1"
    with pytest.raises(PackageError) as info:
        decode(canonical(value))
    assert info.value.field == "revision"
    with pytest.raises(PackageError) as info:
        decode(b"\xff")
    assert info.value.field == "package"
    with pytest.raises(PackageError, match="not representable"):
        canonical({"x": float("nan")})


def test_each_new_package_has_its_own_nonce_and_time() -> None:
    a = new_package(park="bt01", period="2025-03", revision=1, body={}, clock=lambda: 1_767_225_600.0)
    b = new_package(park="bt01", period="2025-03", revision=1, body={}, clock=lambda: 1_767_225_600.0)
    assert a.nonce != b.nonce and a.kind == "monthly"
    assert a.created == datetime(2026, 1, 1, tzinfo=UTC)


def test_envelope_round_trip_and_bad_signature_text() -> None:
    env = sign(_package(), Ed25519PrivateKey.generate())
    assert Envelope.from_json(json.loads(env.encode())) == env
    with pytest.raises(PackageError) as info:
        Envelope.from_json({**env.to_json(), "signature": "***"})
    assert info.value.field == "signature"
    with pytest.raises(PackageError) as info:
        Envelope.from_json({"package": "{}", "key_id": "x"})
    assert info.value.field == "signature"
    with pytest.raises(PackageError) as info:
        Envelope.from_json({**env.to_json(), "package": "\ud800"})
    assert info.value.field == "package"


def test_the_key_file_is_private_and_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "park.key"
    public = generate_key_file(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert len(base64.b64decode(public)) == 32 and public_from_text(public) == public_raw(load_key_file(path))
    with pytest.raises(FileExistsError):
        generate_key_file(path)
    path.chmod(0o644)
    with pytest.raises(PermissionError, match="0600"):
        load_key_file(path)
    with pytest.raises(PackageError, match="32"):
        public_from_text(base64.b64encode(b"x" * 31).decode())


def test_keygen_prints_the_public_key_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from smartpark.cli import main

    path = tmp_path / "k.pem"
    assert main(["region", "keygen", "--key", str(path)]) == 0
    out = capsys.readouterr()
    secret = "".join(path.read_text().splitlines()[1:-1])
    assert secret not in out.out + out.err and "PRIVATE" not in out.out + out.err
    public = out.out.strip().splitlines()[-1]
    assert public_from_text(public) == public_raw(load_key_file(path))
    assert main(["region", "keygen", "--key", str(path)]) == 1  # an existing key is kept
