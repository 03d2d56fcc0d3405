"""Field encryption: versioned blobs, bound context, rotation and opaque failures."""

from __future__ import annotations

import struct

import pytest

from keys import DecryptionFailed, FieldCipher, Keystore, KeyVersionError

AAD = b"signal:42:notes"


@pytest.fixture
def cipher(keystore: Keystore) -> FieldCipher:
    return FieldCipher(keystore)


def test_round_trip_and_blob_layout(cipher: FieldCipher) -> None:
    blob = cipher.encrypt(b"firearm at the address", aad=AAD)
    assert blob[0] == 1
    assert struct.unpack(">I", blob[1:5]) == (1,)
    assert len(blob) == 1 + 4 + 12 + len(b"firearm at the address") + 16
    assert cipher.key_version(blob) == 1
    assert cipher.decrypt(blob, aad=AAD) == b"firearm at the address"


def test_nonces_are_fresh(cipher: FieldCipher) -> None:
    assert cipher.encrypt(b"x", aad=AAD) != cipher.encrypt(b"x", aad=AAD)


def test_context_is_bound(cipher: FieldCipher) -> None:
    blob = cipher.encrypt(b"secret", aad=AAD)
    with pytest.raises(DecryptionFailed) as caught:
        cipher.decrypt(blob, aad=b"signal:43:notes")
    assert caught.value.__cause__ is not None


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[:-1] + bytes([b[-1] ^ 1]),  # flipped tag bit
        lambda b: b[:20] + bytes([b[20] ^ 1]) + b[21:],  # flipped ciphertext bit
        lambda b: b"\x02" + b[1:],  # unknown format
        lambda b: b[:1] + struct.pack(">I", 9) + b[5:],  # unknown version
        lambda b: b[:10],  # truncated
        lambda b: b"",
    ],
)
def test_damaged_blobs_fail_opaquely(cipher: FieldCipher, damage) -> None:
    blob = damage(cipher.encrypt(b"secret", aad=AAD))
    with pytest.raises(DecryptionFailed) as caught:
        cipher.decrypt(blob, aad=AAD)
    assert str(caught.value) == "field cannot be decrypted"


def test_rotation_keeps_old_rows_readable_and_reencrypt_moves_them(
    keystore: Keystore, cipher: FieldCipher
) -> None:
    old = cipher.encrypt(b"risk level: high", aad=AAD)
    keystore.rotate()
    assert cipher.decrypt(old, aad=AAD) == b"risk level: high"
    new = cipher.encrypt(b"risk level: low", aad=AAD)
    assert cipher.key_version(new) == 2
    moved = cipher.reencrypt(old, aad=AAD)
    assert cipher.key_version(moved) == 2
    assert cipher.reencrypt(moved, aad=AAD) == moved  # already current: left alone
    keystore.retire(1)
    assert cipher.decrypt(moved, aad=AAD) == b"risk level: high"
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(old, aad=AAD)


def test_reencrypt_refuses_a_tampered_current_blob(cipher: FieldCipher) -> None:
    blob = cipher.encrypt(b"secret", aad=AAD)
    with pytest.raises(DecryptionFailed):
        cipher.reencrypt(blob, aad=b"another row")


def test_json_round_trip(cipher: FieldCipher) -> None:
    payload = {"risk": "high", "plan": ["call VT", "no home visit alone"], "score": 7}
    blob = cipher.seal_json(payload, aad=AAD)
    assert cipher.open_json(blob, aad=AAD) == payload


def test_open_json_refuses_non_objects(cipher: FieldCipher) -> None:
    for plaintext in (b"[1, 2]", b"not json", b"\xff\xfe"):
        with pytest.raises(DecryptionFailed):
            cipher.open_json(cipher.encrypt(plaintext, aad=AAD), aad=AAD)


def test_injected_nonce_source(keystore: Keystore) -> None:
    fixed = FieldCipher(keystore, rng=lambda n: b"\x00" * n)
    assert fixed.encrypt(b"x", aad=AAD) == fixed.encrypt(b"x", aad=AAD)


def test_batch_decrypt_and_encrypt_match_the_single_calls(
    keystore: Keystore, cipher: FieldCipher
) -> None:
    old = [cipher.encrypt(f"row {n}".encode(), aad=b"row:%d" % n) for n in range(3)]
    keystore.rotate()
    mixed = [*old, cipher.encrypt(b"row 3", aad=b"row:3")]  # two versions in one batch
    items = [(blob, b"row:%d" % n) for n, blob in enumerate(mixed)]
    plaintexts = cipher.decrypt_many(items)
    assert plaintexts == [cipher.decrypt(blob, aad=aad) for blob, aad in items]
    fresh = cipher.encrypt_many(
        [(text, aad) for text, (_, aad) in zip(plaintexts, items, strict=True)], version=2
    )
    assert [cipher.key_version(blob) for blob in fresh] == [2, 2, 2, 2]
    assert len({blob[5:17] for blob in fresh}) == 4  # a fresh nonce each
    assert [cipher.decrypt(blob, aad=aad) for blob, (_, aad) in zip(fresh, items)] == plaintexts
    assert cipher.encrypt_many([], version=2) == []


def test_batch_decrypt_fails_opaquely_on_any_bad_blob(cipher: FieldCipher) -> None:
    good = cipher.encrypt(b"secret", aad=AAD)
    for bad in ((good, b"another row"), (good[:10], AAD), (b"\x02" + good[1:], AAD)):
        with pytest.raises(DecryptionFailed) as caught:
            cipher.decrypt_many([(good, AAD), bad])
        assert str(caught.value) == "field cannot be decrypted"


def test_batch_encrypt_refuses_a_version_no_longer_active(
    keystore: Keystore, cipher: FieldCipher
) -> None:
    # A batch planned before another rotation was loaded must not write the older version.
    keystore.rotate()
    with pytest.raises(KeyVersionError):
        cipher.encrypt_many([(b"x", AAD)], version=1)
    with pytest.raises(KeyVersionError):
        cipher.encrypt_many([(b"x", AAD)], version=3)


def test_batch_encrypt_takes_its_nonces_from_the_injected_source(keystore: Keystore) -> None:
    calls: list[int] = []

    def counted(n: int) -> bytes:
        calls.append(n)
        return bytes(range(n))

    blobs = FieldCipher(keystore, rng=counted).encrypt_many([(b"a", AAD), (b"b", AAD)], version=1)
    assert calls == [24]
    assert blobs[0][5:17] == bytes(range(12)) and blobs[1][5:17] == bytes(range(12, 24))
    short = FieldCipher(keystore, rng=lambda n: b"\x00" * (n - 1))
    with pytest.raises(ValueError):
        short.encrypt_many([(b"a", AAD)], version=1)
