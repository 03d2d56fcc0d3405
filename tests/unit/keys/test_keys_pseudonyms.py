"""Matching pseudonyms, index tokens across rotation, release and log pseudonyms."""

from __future__ import annotations

import base64
import datetime
import re

import pytest

from keys import (
    InvalidElement,
    Keystore,
    MatchingPseudonym,
    NameIdentifier,
    Pseudonymiser,
    StaticCustody,
    canonical_bytes,
    oprf,
    parse_bsn,
)

BSN = parse_bsn("123456782")
RENDERED = re.compile(r"[a-z2-7]{26}")


@pytest.fixture
def pseudonymiser(keystore: Keystore) -> Pseudonymiser:
    return Pseudonymiser(keystore)


def test_matching_pseudonym_is_stable_and_32_bytes(pseudonymiser: Pseudonymiser) -> None:
    y = pseudonymiser.matching_pseudonym(BSN)
    assert len(y) == 32
    assert y == pseudonymiser.matching_pseudonym(parse_bsn("1234.56.782"))
    assert y != pseudonymiser.matching_pseudonym(parse_bsn("111222333"))


def test_name_variants_share_a_matching_pseudonym(pseudonymiser: Pseudonymiser) -> None:
    born = datetime.date(1988, 6, 12)
    assert pseudonymiser.matching_pseudonym(
        NameIdentifier("'t Hart", "Ayşe", born)
    ) == pseudonymiser.matching_pseudonym(NameIdentifier("Hart, 't", "Ayse", born))


def test_blind_path_gives_the_server_side_pseudonym(pseudonymiser: Pseudonymiser) -> None:
    data = canonical_bytes(BSN)
    blinded = oprf.blind(data)
    evaluated = pseudonymiser.evaluate_blinded(blinded.element)
    y = oprf.finalize(data, oprf.unblind(blinded.blind, evaluated))
    assert y == pseudonymiser.matching_pseudonym(BSN)


def test_evaluate_blinded_refuses_the_identity(pseudonymiser: Pseudonymiser) -> None:
    with pytest.raises(InvalidElement):
        pseudonymiser.evaluate_blinded(b"\x01" + bytes(31))


def test_different_domains_give_different_pseudonyms(pseudonymiser: Pseudonymiser) -> None:
    other = Pseudonymiser(Keystore.create(StaticCustody()))
    assert pseudonymiser.matching_pseudonym(BSN) != other.matching_pseudonym(BSN)


def test_lookup_during_rotation_finds_rows_of_either_version(
    keystore: Keystore, pseudonymiser: Pseudonymiser
) -> None:
    y = pseudonymiser.matching_pseudonym(BSN)
    stored_before = pseudonymiser.index_token(y)
    keystore.rotate()
    stored_after = pseudonymiser.index_token(y)
    assert stored_before != stored_after
    tokens = pseudonymiser.lookup_tokens(y)
    assert tokens == {1: stored_before, 2: stored_after}
    assert pseudonymiser.index_token(y, version=1) == stored_before
    keystore.retire(1)
    assert pseudonymiser.lookup_tokens(y) == {2: stored_after}


def test_batch_index_tokens_match_the_single_call(
    keystore: Keystore, pseudonymiser: Pseudonymiser
) -> None:
    ys = [pseudonymiser.matching_pseudonym(BSN), MatchingPseudonym(bytes(32))]
    keystore.rotate()
    for version in (1, 2):
        assert pseudonymiser.index_tokens(ys, version=version) == [
            pseudonymiser.index_token(y, version=version) for y in ys
        ]
    with pytest.raises(ValueError):
        pseudonymiser.index_tokens([MatchingPseudonym(b"short")], version=2)


def test_release_pseudonyms_are_stable_per_recipient_and_differ_across(
    keystore: Keystore, pseudonymiser: Pseudonymiser
) -> None:
    y = pseudonymiser.matching_pseudonym(BSN)
    police = pseudonymiser.release_pseudonym(y, recipient="police-rotterdam")
    vt = pseudonymiser.release_pseudonym(y, recipient="veilig-thuis-rrn")
    assert police == pseudonymiser.release_pseudonym(y, recipient="police-rotterdam")
    assert police != vt
    assert police.startswith("rp_") and RENDERED.fullmatch(police[3:])
    keystore.rotate()  # release pseudonyms hang off the domain secret, not a version
    assert police == pseudonymiser.release_pseudonym(y, recipient="police-rotterdam")


def test_release_pseudonyms_of_two_people_differ(pseudonymiser: Pseudonymiser) -> None:
    first = pseudonymiser.matching_pseudonym(BSN)
    second = pseudonymiser.matching_pseudonym(parse_bsn("111222333"))
    assert pseudonymiser.release_pseudonym(
        first, recipient="org-a"
    ) != pseudonymiser.release_pseudonym(second, recipient="org-a")


def test_log_pseudonym_is_stable_and_differs_from_release(
    keystore: Keystore, pseudonymiser: Pseudonymiser
) -> None:
    y = pseudonymiser.matching_pseudonym(BSN)
    logged = pseudonymiser.log_pseudonym(y)
    assert logged.startswith("lp_") and RENDERED.fullmatch(logged[3:])
    keystore.rotate()
    assert logged == pseudonymiser.log_pseudonym(y)
    assert logged[3:] != pseudonymiser.release_pseudonym(y, recipient="org-a")[3:]


def test_derived_pseudonyms_need_a_32_byte_y(pseudonymiser: Pseudonymiser) -> None:
    short = MatchingPseudonym(b"\x00" * 31)
    for derive in (pseudonymiser.index_token, pseudonymiser.log_pseudonym):
        with pytest.raises(ValueError):
            derive(short)


def test_rendering_is_standard_base32(pseudonymiser: Pseudonymiser) -> None:
    from keys.pseudonyms import _render

    for mac in (bytes(32), b"\xff" * 32, bytes(range(32)), bytes(range(100, 132))):
        expected = base64.b32encode(mac[:16]).decode().rstrip("=").lower()
        assert _render(mac) == expected
