"""The shipped Rotterdam-Rijnmond chain is complete and the loader refuses bad files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from broker.organisations.chain import ChainConfigError, load_chain
from policies import POLICY_DIR


def test_example_chain_has_the_rotterdam_organisations() -> None:
    specs = load_chain(POLICY_DIR / "chain.toml")
    types = Counter(spec.type.value for spec in specs)
    assert types["police"] >= 1 and types["veilig_thuis"] == 1 and types["zvh"] == 1
    assert types["wijkteam"] >= 3 and types["shelter"] >= 1 and types["youth_protection"] >= 1
    for spec in specs:
        assert spec.desks, spec.id
        assert all(desk.phone.startswith("+31") for desk in spec.desks)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    entry = (
        '[[organisation]]\nid = "a"\nname = "A"\ntype = "police"\ndomain = "safety"\n'
        'desks = [{ id = "d", name = "D", phone = "+31", hours = "24/7" }]\n'
    )
    path = tmp_path / "chain.toml"
    path.write_text(entry + entry)
    with pytest.raises(ChainConfigError, match="duplicate"):
        load_chain(path)


def test_unknown_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "chain.toml"
    path.write_text(
        '[[organisation]]\nid = "a"\nname = "A"\ntype = "bakery"\ndomain = "care"\n'
        'desks = [{ id = "d", name = "D", phone = "+31", hours = "24/7" }]\n'
    )
    with pytest.raises(ChainConfigError):
        load_chain(path)


def test_desk_is_required(tmp_path: Path) -> None:
    path = tmp_path / "chain.toml"
    path.write_text('[[organisation]]\nid = "a"\nname = "A"\ntype = "police"\ndomain = "safety"\n')
    with pytest.raises(ChainConfigError, match="desk"):
        load_chain(path)
