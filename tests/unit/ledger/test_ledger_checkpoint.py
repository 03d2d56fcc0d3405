"""C2SP signed-note checkpoints: format, rotation, and strict rejection."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.ledger import (
    Checkpoint,
    CheckpointInvalid,
    cosign_checkpoint,
    key_id,
    parse_signed_checkpoint,
    parse_vkey,
    sign_checkpoint,
    verify_checkpoint,
    vkey,
)
from broker.ledger.note import sign_text

ORIGIN = "broker.example.nl/disclosure-log"
OLD_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
NEW_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
CP = Checkpoint(ORIGIN, 20852163, hashlib.sha256(b"root").digest())

# The published example of golang.org/x/mod/sumdb/note: Ed25519 is deterministic, so
# matching it byte for byte shows Go verifiers and witnesses will accept our notes.
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SEED = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"  # noqa: E501
GO_LINE = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"  # noqa: E501


def _vkey(private_key: Ed25519PrivateKey, name: str = ORIGIN) -> str:
    return vkey(name, private_key.public_key())


def test_go_sumdb_note_known_answer() -> None:
    go_key = Ed25519PrivateKey.from_private_bytes(GO_SEED)
    assert vkey("PeterNeumann", go_key.public_key()) == GO_VKEY
    assert sign_text(GO_TEXT, key_name="PeterNeumann", private_key=go_key).render() == GO_LINE
    assert parse_vkey(GO_VKEY).key_id.hex() == "c74f20a3"


def test_round_trip_and_exact_format() -> None:
    note = sign_checkpoint(CP, key_name=ORIGIN, private_key=NEW_KEY)
    root_b64 = base64.b64encode(CP.root_hash).decode()
    assert note.startswith(f"{ORIGIN}\n20852163\n{root_b64}\n\n\u2014 {ORIGIN} ")
    blob = base64.b64decode(note.splitlines()[-1].split(" ")[-1])
    assert blob[:4] == key_id(ORIGIN, NEW_KEY.public_key()) and len(blob) == 68
    assert verify_checkpoint(note, verifiers=[_vkey(NEW_KEY)]) == CP
    mapping = {key_id(ORIGIN, NEW_KEY.public_key()): (ORIGIN, NEW_KEY.public_key())}
    assert verify_checkpoint(note, verifiers=mapping, origin=ORIGIN) == CP
    parsed, lines = parse_signed_checkpoint(note)
    assert parsed == CP and [line.key_name for line in lines] == [ORIGIN]


def test_empty_tree_checkpoint() -> None:
    empty = Checkpoint(ORIGIN, 0, hashlib.sha256(b"").digest())
    note = sign_checkpoint(empty, key_name=ORIGIN, private_key=NEW_KEY)
    assert verify_checkpoint(note, verifiers=[_vkey(NEW_KEY)]) == empty


def test_rotation_cosigned_note_satisfies_old_and_new_verifiers() -> None:
    note = sign_checkpoint(CP, key_name=ORIGIN, private_key=NEW_KEY)
    both = cosign_checkpoint(note, key_name=ORIGIN, private_key=OLD_KEY)
    assert verify_checkpoint(both, verifiers=[_vkey(OLD_KEY)]) == CP
    assert verify_checkpoint(both, verifiers=[_vkey(NEW_KEY)]) == CP
    assert verify_checkpoint(both, verifiers=[_vkey(OLD_KEY), _vkey(NEW_KEY)]) == CP
    with pytest.raises(ValueError, match="already"):
        cosign_checkpoint(both, key_name=ORIGIN, private_key=OLD_KEY)


def test_unknown_keys_are_ignored_but_never_sufficient() -> None:
    witness = Ed25519PrivateKey.from_private_bytes(b"w" * 32)
    note = sign_checkpoint(CP, key_name=ORIGIN, private_key=NEW_KEY)
    with_witness = cosign_checkpoint(note, key_name="witness.example", private_key=witness)
    assert verify_checkpoint(with_witness, verifiers=[_vkey(NEW_KEY)]) == CP
    with pytest.raises(CheckpointInvalid):
        verify_checkpoint(note, verifiers=[_vkey(OLD_KEY)])
    # Same key under another name is another key: signed-note matches name AND key ID.
    with pytest.raises(CheckpointInvalid):
        verify_checkpoint(note, verifiers=[_vkey(NEW_KEY, "other.example")])


def test_a_bad_signature_from_a_known_key_voids_the_note() -> None:
    note = sign_checkpoint(CP, key_name=ORIGIN, private_key=NEW_KEY)
    both = cosign_checkpoint(note, key_name=ORIGIN, private_key=OLD_KEY)
    last = both.splitlines()[-1]
    blob = bytearray(base64.b64decode(last.split(" ")[-1]))
    blob[10] ^= 1
    forged = both.replace(last, f"{last.rsplit(' ', 1)[0]} {base64.b64encode(blob).decode()}")
    with pytest.raises(CheckpointInvalid):
        verify_checkpoint(forged, verifiers=[_vkey(OLD_KEY), _vkey(NEW_KEY)])


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("\n20852163\n", "\n20852164\n"),
        (ORIGIN + "\n", "broker.example.nl/other-log\n"),
        (base64.b64encode(CP.root_hash).decode(),
         base64.b64encode(hashlib.sha256(b"other").digest()).decode()),
    ],
)  # fmt: skip
def test_tampered_body_is_rejected(old: str, new: str) -> None:
    note = sign_checkpoint(CP, key_name=ORIGIN, private_key=NEW_KEY)
    tampered = note.replace(old, new, 1)
    assert tampered != note
    with pytest.raises(CheckpointInvalid):
        verify_checkpoint(tampered, verifiers=[_vkey(NEW_KEY)])


def test_wrong_origin_is_rejected_even_when_signed() -> None:
    other = Checkpoint("broker.example.nl/test-log", 1, CP.root_hash)
    note = sign_checkpoint(other, key_name=ORIGIN, private_key=NEW_KEY)
    with pytest.raises(CheckpointInvalid):
        verify_checkpoint(note, verifiers=[_vkey(NEW_KEY)], origin=ORIGIN)


def _malformed_variants() -> list[str]:
    note = sign_checkpoint(CP, key_name=ORIGIN, private_key=NEW_KEY)
    body, sig = note.split("\n\n")
    origin, size, root_b64 = body.split("\n")
    sig_blob = sig.rstrip("\n").split(" ")[-1]
    return [
        note.rstrip("\n"),  # no final newline
        body + "\n" + sig,  # no blank separator line
        body + "\n\n",  # no signature lines
        f"{origin}\n0{size}\n{root_b64}\n\n{sig}",  # leading zero
        f"{origin}\n+{size}\n{root_b64}\n\n{sig}",  # sign
        f"{origin}\n{size}\n{root_b64}\nextension\n\n{sig}",  # extension line
        f"{origin}\n{size}\n{root_b64[:-4]}\n\n{sig}",  # short root hash
        f"{origin}\n{size}\n{root_b64.rstrip('=')}\n\n{sig}",  # unpadded base64
        f"\n{size}\n{root_b64}\n\n{sig}",  # empty origin
        f"{origin}\r\n{size}\n{root_b64}\n\n{sig}",  # control character
        note.replace("\u2014 ", "- "),  # hyphen instead of em dash
        note.replace("\u2014 ", "\u2014  "),  # double space
        note.replace(sig_blob, sig_blob[:8] + "!" + sig_blob[9:]),  # not base64
        note.replace(sig_blob, base64.b64encode(b"abcd").decode()),  # key ID only
        note.replace(f"\u2014 {ORIGIN} ", f"\u2014 {ORIGIN}+x "),  # plus in key name
        note + "\n",  # trailing blank line
        note + note.split("\n\n")[1] * 100,  # too many signatures
    ]


@pytest.mark.parametrize("note", _malformed_variants())
def test_malformed_notes_are_rejected(note: str) -> None:
    with pytest.raises(CheckpointInvalid):
        parse_signed_checkpoint(note)
    with pytest.raises(CheckpointInvalid) as excinfo:
        verify_checkpoint(note, verifiers=[_vkey(NEW_KEY)])
    # One opaque message; the reason stays in the chained cause for the operator's log.
    assert str(excinfo.value) == "invalid checkpoint"
    assert excinfo.value.__cause__ is not None


@pytest.mark.parametrize(
    "text",
    [
        "",
        GO_VKEY.replace("c74f20a3", "c74f20a4"),  # key ID does not match the key
        GO_VKEY.replace("+ARpc", "+AhpC"),  # not type 0x01
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        GO_VKEY + "+extra",
    ],
)
def test_malformed_vkeys_are_configuration_errors(text: str) -> None:
    with pytest.raises(ValueError):
        parse_vkey(text)


def test_verifier_configuration_mistakes_are_loud() -> None:
    note = sign_checkpoint(CP, key_name=ORIGIN, private_key=NEW_KEY)
    with pytest.raises(ValueError):
        verify_checkpoint(note, verifiers=[])
    with pytest.raises(TypeError):
        verify_checkpoint(note, verifiers=_vkey(NEW_KEY))
    wrong_id = {b"\0\0\0\0": (ORIGIN, NEW_KEY.public_key())}
    with pytest.raises(ValueError):
        verify_checkpoint(note, verifiers=wrong_id)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"origin": "", "size": 1, "root_hash": b"\0" * 32},
        {"origin": "a\nb", "size": 1, "root_hash": b"\0" * 32},
        {"origin": "a", "size": -1, "root_hash": b"\0" * 32},
        {"origin": "a", "size": True, "root_hash": b"\0" * 32},
        {"origin": "a", "size": 1, "root_hash": b"\0" * 31},
    ],
)
def test_checkpoint_refuses_invalid_fields(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Checkpoint(**kwargs)  # type: ignore[arg-type]


def test_signing_refuses_invalid_key_names() -> None:
    for name in ["", "with space", "with+plus", "tab\there"]:
        with pytest.raises(ValueError):
            sign_checkpoint(CP, key_name=name, private_key=NEW_KEY)
