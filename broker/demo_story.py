"""The chapters of ``broker demo``; each capability adds one.

The people are fictional: their BSNs are generated to pass the 11-proef and are printed
only as "mother", "father" and so on. The broker itself never shows them back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from broker.demo import Narrator


def fictional_bsns(count: int, *, start: int = 987_000_000) -> list[str]:
    """Numbers that pass the 11-proef, from a range used for nobody we know of."""
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    found: list[str] = []
    number = start
    while len(found) < count:
        digits = f"{number:09d}"
        if sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0:
            found.append(digits)
        number += 1
    return found


MOTHER, FATHER, CHILD, NEIGHBOUR = fictional_bsns(4)
FIVE_ANSWERS = {
    "purpose": "Home visit tomorrow; we must know whether it is safe to go.",
    "need_to_know": "Only whether a weapon or an acute risk is known at the address.",
    "subsidiarity": "The family cannot be reached; asking them would warn the father.",
    "proportionality": "Two fields for one visit, no history: proportionate to the risk.",
    "effectiveness": "We decide on this whether to visit with the community officer.",
}


def persons(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    """Persons of a signal: identifier and role."""
    return [{"person": {"bsn": bsn}, "role": role} for bsn, role in pairs]


def chapter_chain(n: Narrator) -> None:
    """Who is in the chain, and whom to call: desks, not private persons."""
    n.say("The example chain of Rotterdam-Rijnmond, as the broker's administrator sees it")
    orgs = n.call("GET", "/v1/organisations", org="broker", role="admin", user="beheer")
    for org in orgs["items"]:
        desk = org["desks"][0]
        print(f"  {org['id']:<22} {org['type']:<17} {desk['name']} ({desk['phone']})")


def chapter_register(n: Narrator) -> None:
    """Police and Veilig Thuis register the same family; both are told of each other."""
    n.say("Police register a domestic-violence incident: mother (victim), father, child")
    police = n.call(
        "POST",
        "/v1/signals",
        org="politie-rr",
        role="professional",
        user="agent-4411",
        body={
            "category": "police_dv_incident",
            "severity": "high",
            "persons": persons((MOTHER, "victim"), (FATHER, "suspect"), (CHILD, "child")),
            "payload": {"firearm_known": True, "risk_level": "high", "children_present": True},
        },
    )
    print(f"  signal {police['id'][:8]}..., matches notified: {police['matches']}")
    n.say("Veilig Thuis registers its report on mother and child")
    vt = n.call(
        "POST",
        "/v1/signals",
        org="vt-rr",
        role="professional",
        user="vt-medewerker",
        body={
            "category": "vt_report",
            "severity": "high",
            "persons": persons((MOTHER, "victim"), (CHILD, "child")),
            "payload": {"risk_level": "high", "safety_plan": "Veiligheidsplan 3 maart"},
        },
    )
    print(f"  signal {vt['id'][:8]}..., matches notified: {vt['matches']}")
    for org in ("politie-rr", "vt-rr"):
        inbox = n.call("GET", "/v1/notifications", org=org, role="professional", user="inbox")
        latest = inbox["items"][0]["body"] if inbox["items"] else {}
        other = (latest.get("counterpart") or {}).get("organisation") or {}
        print(
            f"  {org} inbox: match with {other.get('name', '-')} "
            f"(person known to them as {latest.get('person', '-')})"
        )


def chapter_ask(n: Narrator) -> None:
    """A wijkteam asks whether the family is known elsewhere: whom to call, never content."""
    n.say("Wijkteam Feijenoord asks before a home visit: is this family known elsewhere?")
    answer = n.call(
        "POST",
        "/v1/hits",
        org="wijkteam-feijenoord",
        role="professional",
        user="wijkcoach-12",
        body={"purpose": "home_visit_risk_check", "persons": [{"bsn": MOTHER}, {"bsn": CHILD}]},
    )
    print(f"  known: {answer['known']}. {answer['notice']}")
    for hit in answer["organisations"]:
        org = hit["organisation"] or {"name": "(not shown)"}
        contact = hit["contact"] or {}
        print(
            f"  - {org['name']}: since {hit['since']}, call {contact.get('name')} "
            f"{contact.get('phone')}; category: {hit['category'] or 'not shown to you'}"
        )
    n.say("A query about someone nobody registered")
    empty = n.call(
        "POST",
        "/v1/hits",
        org="wijkteam-feijenoord",
        role="professional",
        user="wijkcoach-12",
        body={"purpose": "home_visit_risk_check", "persons": [{"bsn": NEIGHBOUR}]},
    )
    print(f"  known: {empty['known']}. {empty['notice']}")


def chapter_shelter(n: Narrator) -> None:
    """A shelter stay is found but never shows the shelter."""
    n.say("The women's shelter registers the mother's stay (shielded)")
    n.call(
        "POST",
        "/v1/signals",
        org="blijf-groep",
        role="professional",
        user="opvang-1",
        body={"category": "shelter_stay", "persons": persons((MOTHER, "victim"))},
    )
    answer = n.call(
        "POST",
        "/v1/hits",
        org="politie-rr",
        role="professional",
        user="agent-4411",
        body={"purpose": "acute_safety", "persons": [{"bsn": MOTHER}]},
    )
    for hit in answer["organisations"]:
        name = (hit["organisation"] or {}).get("name") or hit.get("note")
        print(f"  police see: {name} -> {(hit['contact'] or {}).get('name')}")


def chapter_release(n: Narrator) -> None:
    """The five questions: the police approve, the wijkteam gets two fields only."""
    n.say("No consent possible: the wijkteam answers the five questions")
    result = n.call(
        "POST",
        "/v1/disclosures",
        org="wijkteam-feijenoord",
        role="professional",
        user="wijkcoach-12",
        body={
            "purpose": "home_visit_risk_check",
            "persons": [{"bsn": MOTHER}],
            "legal_basis": {"type": "proportionality", "answers": FIVE_ANSWERS},
        },
    )
    print(f"  status: {result['status']} (the police must approve)")
    requests = n.call(
        "GET", "/v1/release-requests", org="politie-rr", role="coordinator", user="teamchef"
    )
    for request in requests:
        n.call(
            "POST",
            f"/v1/release-requests/{request['item_id']}/decision",
            org="politie-rr",
            role="coordinator",
            user="teamchef",
            body={"decision": "approve", "reason": "Visit is safer with this knowledge"},
        )
    final = n.call(
        "GET",
        f"/v1/disclosures/{result['id']}",
        org="wijkteam-feijenoord",
        role="professional",
        user="wijkcoach-12",
    )
    for item in final["items"]:
        if item["status"] == "released":
            people = ", ".join(f"{p['role']} {p['pseudonym']}" for p in item["persons"])
            print(f"  released by {item['source']['name']}: {item['fields']}")
            print(f"  persons under the wijkteam's own pseudonyms: {people}")


def chapter_override(n: Narrator) -> None:
    """Serious danger: released at once, reviewed by a privacy officer afterwards."""
    n.say("Serious danger tonight: a Veilig Thuis professional files an override")
    result = n.call(
        "POST",
        "/v1/disclosures",
        org="vt-rr",
        role="professional",
        user="vt-dienst",
        body={
            "purpose": "acute_safety",
            "persons": [{"bsn": FATHER}],
            "legal_basis": {
                "type": "serious_danger",
                "override": {
                    "danger": "Mother and child threatened with a weapon tonight.",
                    "why_now": "Father announced he is coming to the house.",
                    "tried": "Consent would warn him; no time for the source.",
                    "needed": "Whether a firearm is known, and the risk level.",
                },
            },
        },
    )
    released = [i["fields"] for i in result["items"] if i["status"] == "released"]
    print(f"  status: {result['status']} at once; released: {released}")
    queue = n.call(
        "GET",
        "/v1/overrides?status=pending",
        org="politie-rr",
        role="privacy_officer",
        user="fg-politie",
    )
    print(f"  police privacy officer sees {len(queue)} override(s) awaiting review")
    review = n.call(
        "POST",
        f"/v1/overrides/{result['override_id']}/review",
        org="vt-rr",
        role="privacy_officer",
        user="fg-vt",
        body={"justified": True, "note": "Acute threat; correct and minimal."},
    )
    print(f"  reviewed by the Veilig Thuis privacy officer: {review['status']}")


def chapter_log(n: Narrator) -> None:
    """The privacy officer reads the log and checks it against a signed checkpoint."""
    n.say("The police privacy officer reviews the disclosure log")
    page = n.call(
        "GET",
        "/v1/log/entries?limit=5",
        org="politie-rr",
        role="privacy_officer",
        user="fg-politie",
    )
    for entry in page["items"]:
        body = entry["body"] or {}
        print(
            f"  #{entry['index']:<4} {entry['event_type']:<16} {entry['outcome']:<22} "
            f"by {body.get('org')} for {body.get('purpose')} on {body.get('legal_basis')}"
        )
    checkpoint = n.call(
        "GET", "/v1/log/checkpoint", org="politie-rr", role="privacy_officer", user="fg-politie"
    )
    print(f"  signed checkpoint: {checkpoint['size']} entries, root {checkpoint['root_hash']}")


CHAPTERS: list[Callable[[Narrator], None]] = [
    chapter_chain,
    chapter_register,
    chapter_ask,
    chapter_shelter,
    chapter_release,
    chapter_override,
    chapter_log,
]
