"""Every label the templates use exists in Dutch and in English."""

from __future__ import annotations

import re
from pathlib import Path

from broker.console.i18n import MESSAGES
from broker.console.web import TEMPLATE_DIR

STATIC_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_]+)["']\s*[,)]""")


def test_every_template_label_exists_in_both_languages() -> None:
    used = {
        key
        for path in Path(TEMPLATE_DIR, "console").glob("*.html")
        for key in STATIC_KEY.findall(path.read_text(encoding="utf-8"))
    }
    assert used, "no labels found"
    missing = sorted(used - set(MESSAGES))
    assert missing == []


def test_every_label_has_two_non_empty_texts() -> None:
    for key, (dutch, english) in MESSAGES.items():
        assert dutch.strip() and english.strip(), key
        assert set(re.findall(r"{(\w+)}", dutch)) == set(re.findall(r"{(\w+)}", english)), key


def test_every_label_built_from_a_value_exists() -> None:
    from typing import get_args

    from broker.console.officer import OVERRIDE_STATUSES, STATEMENT_FIELDS
    from broker.console.officer_log import BASES
    from broker.console.proofs import Step
    from broker.disclosures.schemas import FIVE_QUESTIONS, ItemStatus
    from broker.signals.schemas import PersonRole
    from broker.subject_access.schemas import VerificationMethod

    keys = [
        *(f"basis_{b}" for b in BASES),
        *(f"item_{s.value}" for s in ItemStatus),
        *(f"role_{r.value}" for r in PersonRole),
        *(f"method_{m.value}" for m in VerificationMethod),
        *(f"override_status_{s}" for s in OVERRIDE_STATUSES),
        *(f"o_{f}" for f in STATEMENT_FIELDS),
        *(f"o_{f}_hint" for f in STATEMENT_FIELDS),
        *(f"q_{q}" for q in FIVE_QUESTIONS),
        *(f"q_{q}_hint" for q in FIVE_QUESTIONS),
        *(f"verify_{step}" for step in get_args(Step)),
        *(f"status_{s}" for s in ("released", "pending", "nothing_to_release", "refused")),
        *(f"status_{s}_meaning" for s in ("released", "pending", "nothing_to_release", "refused")),
        *(f"kind_{k}" for k in ("match", "release_request", "release_decision", "override")),
        *(f"sa_status_{s}" for s in ("active", "ended")),
        *(f"sa_outcome_{s}" for s in ("known", "not_known")),
        *(f"scope_{s}" for s in ("chain", "organisation")),
        *(f"result_title_{k}" for k in ("release", "override")),
    ]
    assert sorted(set(keys) - set(MESSAGES)) == []
