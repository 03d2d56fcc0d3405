"""FileCustody keeps key material encrypted, atomically written, and opaque when locked."""

from __future__ import annotations

import base64
import json
import random
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from keys import (
    FileCustody,
    KeyMaterial,
    Keystore,
    KeystoreExists,
    KeystoreLocked,
    KeystoreNotFound,
    StaticCustody,
)
from keys.material import decode_material, encode_material

PASSPHRASE = "correct horse battery staple"


@dataclass(frozen=True)
class Secret:
    """Stands in for pydantic's SecretStr."""

    value: str

    def get_secret_value(self) -> str:
        return self.value


@pytest.fixture
def material(clock: object, rng: random.Random) -> KeyMaterial:
    custody = StaticCustody()
    Keystore.create(custody, rng=rng.randbytes).rotate()
    return custody.load()


def secret_encodings(material: KeyMaterial) -> list[bytes]:
    secrets = [material.domain_secret] + [v.secret for v in material.versions if v.secret]
    return [form for s in secrets for form in (s, s.hex().encode(), base64.b64encode(s))]


def test_round_trip(tmp_path: Path, material: KeyMaterial) -> None:
    custody = FileCustody(tmp_path / "keys.json", PASSPHRASE)
    custody.store(material)
    assert custody.load() == material
    assert FileCustody(tmp_path / "keys.json", Secret(PASSPHRASE)).load() == material


def test_file_holds_no_plaintext_secrets(tmp_path: Path, material: KeyMaterial) -> None:
    path = tmp_path / "keys.json"
    FileCustody(path, PASSPHRASE).store(material)
    raw = path.read_bytes()
    for encoding in secret_encodings(material):
        assert encoding not in raw
    assert PASSPHRASE.encode() not in raw
    envelope = json.loads(raw)
    assert envelope["kdf"] | {"salt": None} == {
        "name": "scrypt",
        "salt": None,
        "n": 2**15,
        "r": 8,
        "p": 1,
    }
    assert envelope["cipher"]["name"] == "AES-256-GCM"


def test_file_is_private_and_written_atomically(tmp_path: Path, material: KeyMaterial) -> None:
    path = tmp_path / "keys.json"
    custody = FileCustody(path, PASSPHRASE)
    custody.store(material)
    custody.store(material)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]


def test_wrong_passphrase_fails_opaquely(tmp_path: Path, material: KeyMaterial) -> None:
    FileCustody(tmp_path / "keys.json", PASSPHRASE).store(material)
    with pytest.raises(KeystoreLocked) as caught:
        FileCustody(tmp_path / "keys.json", "the wrong passphrase").load()
    assert str(caught.value) == "keystore cannot be unlocked"
    assert caught.value.__cause__ is not None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda e: e["kdf"].update(n=2**14),  # a cheaper cost than we write is refused
        lambda e: e["kdf"].update(r=1),
        lambda e: e["cipher"].update(name="AES-128-GCM"),
        lambda e: e.update(version=2),
        lambda e: e.update(ciphertext=e["ciphertext"][:-8] + "AAAAAAA="),
        lambda e: e.pop("kdf"),
    ],
)
def test_tampered_file_fails_opaquely(tmp_path: Path, material: KeyMaterial, tamper) -> None:
    path = tmp_path / "keys.json"
    FileCustody(path, PASSPHRASE).store(material)
    envelope = json.loads(path.read_bytes())
    tamper(envelope)
    path.write_text(json.dumps(envelope))
    with pytest.raises(KeystoreLocked):
        FileCustody(path, PASSPHRASE).load()


def test_garbage_file_fails_opaquely(tmp_path: Path) -> None:
    (tmp_path / "keys.json").write_bytes(b"\x00not json")
    with pytest.raises(KeystoreLocked):
        FileCustody(tmp_path / "keys.json", PASSPHRASE).load()


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(KeystoreNotFound):
        FileCustody(tmp_path / "absent.json", PASSPHRASE).load()


def test_short_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        FileCustody(tmp_path / "keys.json", "short")


def test_repr_hides_the_passphrase(tmp_path: Path) -> None:
    assert PASSPHRASE not in repr(FileCustody(tmp_path / "keys.json", PASSPHRASE))


def test_keystore_over_file_custody_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    created = Keystore.create(FileCustody(path, PASSPHRASE))
    created.rotate()
    reopened = Keystore.open(FileCustody(path, PASSPHRASE))
    assert reopened.live_versions == (2, 1)
    assert reopened.oprf_key() == created.oprf_key()
    assert reopened.index_key(1) == created.index_key(1)
    with pytest.raises(KeystoreExists):
        Keystore.create(FileCustody(path, PASSPHRASE))
    with pytest.raises(KeystoreExists):
        Keystore.create(FileCustody(path, "someone else's passphrase"))


def test_material_codec_round_trips(material: KeyMaterial) -> None:
    assert decode_material(encode_material(material)) == material


def test_material_repr_hides_secrets(material: KeyMaterial) -> None:
    text = repr(material)
    for encoding in secret_encodings(material):
        assert encoding.decode("latin-1") not in text
        assert repr(encoding) not in text


def test_static_custody_starts_empty() -> None:
    with pytest.raises(KeystoreNotFound):
        StaticCustody().load()
