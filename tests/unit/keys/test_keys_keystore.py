"""Keystore lifecycle: create, rotate, retire, derived keys, persistence and threads."""

from __future__ import annotations

import dataclasses
import random
import threading
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from keys import (
    KeyMaterial,
    KeyState,
    Keystore,
    KeystoreExists,
    KeystoreLocked,
    KeyVersionError,
    StaticCustody,
)


def raw_public(keystore: Keystore, version: int) -> bytes:
    return (
        keystore.log_signing_key(version)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def test_create_starts_with_one_active_version(keystore: Keystore, clock) -> None:
    assert keystore.active_version == 1
    assert keystore.live_versions == (1,)
    (info,) = keystore.all_versions
    assert (info.version, info.state, info.created_at) == (1, KeyState.ACTIVE, clock.now())


def test_create_refuses_existing_material(keystore: Keystore, custody: StaticCustody) -> None:
    with pytest.raises(KeystoreExists):
        Keystore.create(custody)


def test_rotate_makes_a_new_active_version_and_persists_it(
    keystore: Keystore, custody: StaticCustody, clock
) -> None:
    clock.advance(days=90)
    assert keystore.rotate() == 2
    assert keystore.active_version == 2
    assert keystore.live_versions == (2, 1)
    assert [v.state for v in keystore.all_versions] == [KeyState.READING, KeyState.ACTIVE]
    assert keystore.all_versions[1].created_at == clock.now()
    assert Keystore.open(custody).live_versions == (2, 1)


def test_derived_keys_differ_per_purpose_and_version(keystore: Keystore) -> None:
    keystore.rotate()
    keys = [
        keystore.index_key(1),
        keystore.index_key(2),
        keystore.field_key(1),
        keystore.field_key(2),
        keystore.release_key("police-rotterdam"),
        keystore.release_key("veilig-thuis-rrn"),
        keystore.log_pseudonym_key(),
        keystore.oprf_key(),
        raw_public(keystore, 1),
        raw_public(keystore, 2),
    ]
    assert all(len(key) == 32 for key in keys)
    assert len(set(keys)) == len(keys)


def test_domain_keys_survive_rotation(keystore: Keystore) -> None:
    before = (keystore.oprf_key(), keystore.release_key("org-a"), keystore.log_pseudonym_key())
    keystore.rotate()
    keystore.retire(1)
    assert before == (
        keystore.oprf_key(),
        keystore.release_key("org-a"),
        keystore.log_pseudonym_key(),
    )


def test_retire_wipes_secrets_but_keeps_log_public_keys(
    keystore: Keystore, custody: StaticCustody
) -> None:
    public_v1 = raw_public(keystore, 1)
    keystore.rotate()
    keystore.index_key(1)  # warm the cache, so retiring must evict it
    keystore.retire(1)
    for derive in (keystore.index_key, keystore.field_key, keystore.log_signing_key):
        with pytest.raises(KeyVersionError):
            derive(1)
    assert keystore.live_versions == (2,)
    assert keystore.log_verification_keys() == {1: public_v1, 2: raw_public(keystore, 2)}
    stored = custody.load().find(1)
    assert stored.secret is None
    assert stored.state is KeyState.RETIRED
    assert stored.log_public_key == public_v1


def test_log_verification_key_checks_a_signature(keystore: Keystore) -> None:
    signature = keystore.log_signing_key(1).sign(b"entry")
    Ed25519PublicKey.from_public_bytes(keystore.log_verification_keys()[1]).verify(
        signature, b"entry"
    )


def test_retire_refuses_the_active_and_unknown_versions(keystore: Keystore) -> None:
    with pytest.raises(KeyVersionError):
        keystore.retire(1)
    with pytest.raises(KeyVersionError):
        keystore.retire(7)
    with pytest.raises(KeyVersionError):
        keystore.index_key(7)


def test_retire_twice_is_harmless(keystore: Keystore) -> None:
    keystore.rotate()
    keystore.retire(1)
    keystore.retire(1)
    assert [v.state for v in keystore.all_versions] == [KeyState.RETIRED, KeyState.ACTIVE]


def test_release_key_needs_a_recipient(keystore: Keystore) -> None:
    for recipient in ("", " org-a", "org-a "):
        with pytest.raises(ValueError):
            keystore.release_key(recipient)


def test_webhook_secret_is_per_organisation_stable_and_apart_from_other_keys(
    keystore: Keystore, custody: StaticCustody
) -> None:
    secret = keystore.webhook_secret("vt-rr")
    assert len(secret) == 32
    assert secret != keystore.webhook_secret("politie-rr")
    # The same organisation name under another purpose yields an unrelated key.
    assert secret != keystore.release_key("vt-rr")
    keystore.rotate()
    keystore.retire(1)
    assert Keystore.open(custody).webhook_secret("vt-rr") == secret
    for org_id in ("", " vt-rr", "vt-rr "):
        with pytest.raises(ValueError):
            keystore.webhook_secret(org_id)


def test_a_failed_store_leaves_the_keystore_unchanged(
    keystore: Keystore, custody: StaticCustody
) -> None:
    class BrokenCustody(StaticCustody):
        def store(self, material: KeyMaterial) -> None:
            raise OSError("disk full")

    broken = Keystore.open(BrokenCustody(custody.load()))
    with pytest.raises(OSError):
        broken.rotate()
    assert broken.live_versions == (1,)


def test_reload_picks_up_another_process_rotating(custody: StaticCustody) -> None:
    Keystore.create(custody)
    worker, admin = Keystore.open(custody), Keystore.open(custody)
    admin.rotate()
    admin.retire(1)
    worker.index_key(1)
    worker.reload()
    assert worker.live_versions == (2,)
    with pytest.raises(KeyVersionError):
        worker.index_key(1)


def test_reload_refuses_a_different_domain_secret(custody: StaticCustody) -> None:
    keystore = Keystore.create(custody)
    Keystore.create(other := StaticCustody())
    custody.store(other.load())
    with pytest.raises(KeystoreLocked):
        keystore.reload()


def test_open_refuses_inconsistent_material(custody: StaticCustody) -> None:
    Keystore.create(custody)
    material = custody.load()
    wrong = dataclasses.replace(material.versions[0], log_public_key=bytes(32))
    custody.store(dataclasses.replace(material, versions=(wrong,)))
    with pytest.raises(KeystoreLocked):
        Keystore.open(custody)


def test_injected_randomness_makes_creation_reproducible(clock) -> None:
    first = Keystore.create(StaticCustody(), clock=clock, rng=random.Random(1).randbytes)
    second = Keystore.create(StaticCustody(), clock=clock, rng=random.Random(1).randbytes)
    assert first.oprf_key() == second.oprf_key()
    assert first.all_versions == second.all_versions


def test_concurrent_rotation_and_derivation(keystore: Keystore, clock) -> None:
    errors: list[BaseException] = []

    def derive() -> None:
        try:
            for _ in range(200):
                version = keystore.active_version
                keystore.field_key(version)
                keystore.release_key(f"org-{version % 3}")
        except KeyVersionError:
            pass  # the version was retired between reading and deriving: allowed
        except BaseException as err:
            errors.append(err)

    def rotate() -> None:
        for _ in range(5):
            clock.advance(seconds=1)
            keystore.rotate()
            keystore.retire(keystore.live_versions[-1])

    threads = [threading.Thread(target=derive) for _ in range(4)]
    threads.append(threading.Thread(target=rotate))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert keystore.active_version == 6
    assert keystore.live_versions == (6,)
    assert clock.now() - keystore.all_versions[0].created_at == timedelta(seconds=5)
