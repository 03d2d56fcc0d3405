"""The 2HashDH OPRF: blind and direct paths agree, keys separate, bad elements are refused."""

from __future__ import annotations

import os

import pytest
from nacl import bindings

from keys import InvalidElement, oprf

KEY = oprf.generate_key(bytes(range(64)))
OTHER_KEY = oprf.generate_key(bytes(range(1, 65)))
DATA = b"bsn:123456782"

# Points of small order on edwards25519 (libsodium's blocklist): the identity, the point of
# order 2, and points of order 4 and 8.
SMALL_ORDER = [
    bytes.fromhex("0100000000000000000000000000000000000000000000000000000000000000"),
    bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    bytes.fromhex("0000000000000000000000000000000000000000000000000000000000000000"),
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
]


def blind_evaluate(key: bytes, data: bytes) -> bytes:
    blinded = oprf.blind(data)
    return oprf.finalize(data, oprf.unblind(blinded.blind, oprf.evaluate(key, blinded.element)))


def test_blind_path_equals_direct_path() -> None:
    assert blind_evaluate(KEY, DATA) == oprf.evaluate_direct(KEY, DATA)


def test_output_is_32_bytes_and_deterministic() -> None:
    first = oprf.evaluate_direct(KEY, DATA)
    assert len(first) == 32
    assert first == oprf.evaluate_direct(KEY, DATA)


def test_different_keys_and_inputs_give_different_outputs() -> None:
    assert oprf.evaluate_direct(KEY, DATA) != oprf.evaluate_direct(OTHER_KEY, DATA)
    assert oprf.evaluate_direct(KEY, DATA) != oprf.evaluate_direct(KEY, b"bsn:111222333")


def test_two_blindings_of_one_input_look_unrelated() -> None:
    first, second = oprf.blind(DATA), oprf.blind(DATA)
    assert first.element != second.element
    assert first.element != oprf.hash_to_group(DATA)
    assert first.blind not in repr(first).encode()


def test_blind_uses_the_injected_random_source() -> None:
    fixed = oprf.blind(DATA, rng=lambda n: b"\x07" * n)
    assert fixed == oprf.blind(DATA, rng=lambda n: b"\x07" * n)


def test_hash_to_group_lands_in_the_prime_order_subgroup() -> None:
    for i in range(32):
        assert bindings.crypto_core_ed25519_is_valid_point(oprf.hash_to_group(b"%d" % i))


def test_length_prefix_separates_inputs_from_the_element() -> None:
    assert oprf.hash_to_group(b"ab") != oprf.hash_to_group(b"a")
    unblinded = oprf.hash_to_group(DATA)
    assert oprf.finalize(b"ab", unblinded) != oprf.finalize(b"a", unblinded)


@pytest.mark.parametrize("element", SMALL_ORDER)
def test_small_order_elements_are_refused(element: bytes) -> None:
    with pytest.raises(InvalidElement):
        oprf.evaluate(KEY, element)


def test_element_with_a_torsion_component_is_refused() -> None:
    # P + T (T of order 8) is on the curve but outside the prime-order subgroup; evaluating it
    # would leak the key modulo 8. This also pins that libsodium checks the subgroup for us.
    mixed = bindings.crypto_core_ed25519_add(oprf.hash_to_group(DATA), SMALL_ORDER[3])
    with pytest.raises(InvalidElement):
        oprf.evaluate(KEY, mixed)


@pytest.mark.parametrize(
    "element",
    [
        b"",
        b"\x01" * 31,
        b"\x01" * 33,
        (2**255 - 19 + 2).to_bytes(32, "little"),  # non-canonical field element
    ],
)
def test_malformed_elements_are_refused(element: bytes) -> None:
    with pytest.raises(InvalidElement):
        oprf.evaluate(KEY, element)


def test_random_bytes_are_almost_never_valid_elements() -> None:
    refused = 0
    for _ in range(16):
        try:
            oprf.evaluate(KEY, os.urandom(32))
        except InvalidElement:
            refused += 1
    assert refused >= 12  # only one in eight curve points is in the subgroup


def test_unblind_refuses_a_bad_server_answer() -> None:
    blinded = oprf.blind(DATA)
    with pytest.raises(InvalidElement):
        oprf.unblind(blinded.blind, SMALL_ORDER[0])


def test_unblind_many_equals_unblind_one_by_one() -> None:
    inputs = [DATA, b"bsn:111222333", b"name:x\x1fy\x1f2000-01-01"] * 3
    blinded = [oprf.blind(data) for data in inputs]
    evaluated = [oprf.evaluate(KEY, b.element) for b in blinded]
    together = oprf.unblind_many([b.blind for b in blinded], evaluated)
    assert together == [oprf.unblind(b.blind, e) for b, e in zip(blinded, evaluated, strict=True)]
    assert [oprf.finalize(d, u) for d, u in zip(inputs, together, strict=True)] == [
        oprf.evaluate_direct(KEY, d) for d in inputs
    ]
    assert oprf.unblind_many([], []) == []


def test_invert_many_equals_one_inversion_each() -> None:
    scalars = [oprf.blind(bytes([n])).blind for n in range(20)]
    assert oprf.invert_many(scalars) == [
        bindings.crypto_core_ed25519_scalar_invert(s) for s in scalars
    ]


def test_unblind_many_refuses_bad_input() -> None:
    blinded = oprf.blind(DATA)
    good = oprf.evaluate(KEY, blinded.element)
    with pytest.raises(InvalidElement):
        oprf.unblind_many([blinded.blind, blinded.blind], [good, SMALL_ORDER[3]])
    with pytest.raises(ValueError):
        oprf.unblind_many([blinded.blind], [good, good])
    with pytest.raises(ValueError):
        oprf.invert_many([blinded.blind, bytes(32)])
    order = bytes.fromhex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
    with pytest.raises(ValueError):  # L itself: zero mod L although not zero bytes
        oprf.invert_many([blinded.blind, order])


def test_generate_key_needs_64_bytes_and_a_non_zero_scalar() -> None:
    with pytest.raises(ValueError):
        oprf.generate_key(bytes(32))
    with pytest.raises(ValueError):
        oprf.generate_key(bytes(64))


def test_zero_key_is_refused() -> None:
    with pytest.raises(ValueError):
        oprf.evaluate(bytes(32), oprf.hash_to_group(DATA))
