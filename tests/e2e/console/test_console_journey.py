"""The console in a real browser against a real broker process.

A neighbourhood-team professional checks whether a family of two is known elsewhere,
requests a release on the five questions and files a serious-danger override; the police
coordinator approves the release in the inbox; the team's privacy officer reviews the
override, searches the log and verifies an entry's inclusion proof. Throughout, no BSN
may appear in any URL the browser requested or showed, and every console response carries
the strict Content-Security-Policy.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from broker.console.web import CONTENT_SECURITY_POLICY
from tests.e2e.console.conftest import Shots, Traffic
from tests.e2e.console.server import RunningBroker
from tests.identities import BSNS, CHILD_1, MOTHER

pytestmark = pytest.mark.e2e

ANSWERS = {
    "1. Wat is het doel?": "Huisbezoek morgen; weten of het veilig is om alleen te gaan.",
    "2. Is het 'need to know'?": "Alleen of er een wapen of acuut risico bekend is.",
    "3. Kan het een tandje minder?": "Het gezin neemt niet op; vandaag geen lichtere weg.",
    "4. Is het in verhouding?": "Twee velden, geen geschiedenis, voor een bezoek.",
    "5. Is delen effectief?": "Hiermee besluiten we samen met de wijkagent te gaan.",
}
OVERRIDE = {
    "Wie loopt gevaar, en waardoor?": "Moeder en kind lopen vanavond gevaar door de vader.",
    "Waarom nu?": "Vader is vanmiddag vrijgelaten en heeft gedreigd te komen.",
    "Waarom geen toestemming?": "Moeder is niet veilig bereikbaar; vragen alarmeert vader.",
    "Welke informatie is nodig?": "Of een vuurwapen bekend is en het risiconiveau.",
}


def open_context(browser: Browser, traffic: Traffic) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1100, "height": 800}, locale="nl-NL")
    traffic.watch(context)
    return context


def sign_in(context: BrowserContext, broker: RunningBroker, org: str, role: str, user: str) -> Page:
    page = context.new_page()
    page.goto(f"{broker.url}/console")
    expect(page).to_have_url(re.compile(r"/console/sign-in$"))
    page.get_by_label("Token").fill(broker.token(org, role, user=user))
    page.get_by_role("button", name="Inloggen").click()
    expect(page).to_have_url(re.compile(r"/console/home$"))
    return page


def go(page: Page, name: str) -> None:
    menu = page.get_by_role("navigation", name=re.compile(r"^(Hoofdmenu|Main navigation)$"))
    menu.get_by_role("link", name=name, exact=True).click()


def professional_checks_family(page: Page, shots: Shots) -> None:
    go(page, "Elders bekend?")
    expect(page.get_by_role("heading", level=1)).to_have_text("Is dit gezin elders bekend?")
    shots.take(page, "01-hit-check-form")
    page.get_by_label("Doel").select_option("home_visit_risk_check")
    page.get_by_role("group", name="Persoon 1").get_by_label("BSN").fill(MOTHER)
    page.get_by_role("group", name="Persoon 2").get_by_label("BSN").fill(CHILD_1)
    page.get_by_role("button", name="Nagaan").click()
    expect(page.get_by_role("heading", name="Treffer Elders bekend")).to_be_visible()
    expect(page.get_by_text("Een treffer betekent")).to_be_visible()
    expect(
        page.get_by_role("cell", name="Politie Eenheid Rotterdam, team huiselijk geweld")
    ).to_be_visible()
    assert MOTHER not in page.content() and CHILD_1 not in page.content()
    shots.take(page, "02-hit-check-result")


def professional_requests_release(page: Page, shots: Shots) -> None:
    page.get_by_role("button", name="Verstrekking aanvragen (vijf vragen)").click()
    expect(page.get_by_text("2 personen uit uw vorige stap.")).to_be_visible()
    questions = page.get_by_role("group", name="De vijf vragen")
    for label, answer in ANSWERS.items():
        questions.get_by_label(label).fill(answer)
    shots.take(page, "03-release-five-questions")
    page.get_by_role("button", name="Verstrekking aanvragen").click()
    expect(page.get_by_role("heading", name="Uitkomst van uw aanvraag")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("In afwachting")
    shots.take(page, "04-release-result")


def professional_overrides(page: Page, shots: Shots) -> None:
    go(page, "Ernstig gevaar")
    page.get_by_role("group", name="Persoon 1").get_by_label("BSN").fill(MOTHER)
    for label, text in OVERRIDE.items():
        page.get_by_label(label).fill(text)
    page.get_by_role("button", name="Doorbreken en direct verstrekken").click()
    expect(page.get_by_role("heading", name="Doorbraak vastgelegd")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Verstrekt")
    expect(page.get_by_text("Vuurwapen bekend")).to_be_visible()
    assert MOTHER not in page.content()
    shots.take(page, "05-override-result")


def coordinator_approves(page: Page, shots: Shots) -> None:
    go(page, "Postvak")
    expect(page.get_by_role("heading", name="Verzoek van Wijkteam Feijenoord")).to_be_visible()
    shots.take(page, "06-inbox-release-request")
    page.get_by_label("Verstrekken").check()
    page.get_by_label("Reden").fill("Convenant; risico bij huisbezoek is reëel.")
    page.get_by_role("button", name="Besluit vastleggen").click()
    expect(page.get_by_role("status")).to_contain_text("Uw besluit is vastgelegd.")


def officer_reviews_override(page: Page, shots: Shots) -> None:
    page.get_by_role("link", name="English").click()
    go(page, "Overrides")
    expect(page.get_by_role("heading", level=1)).to_have_text("Serious-danger overrides")
    shots.take(page, "07-override-queue")
    page.get_by_role("link", name=re.compile(r"^Review")).first.click()
    expect(page.get_by_text("Moeder en kind lopen vanavond gevaar")).to_be_visible()
    page.get_by_label("Yes, justified").check()
    page.get_by_label("Note").fill("Acute danger was plausible; only the needed fields left.")
    page.get_by_role("button", name="Record review").click()
    expect(page.get_by_role("status")).to_contain_text("The review has been recorded.")
    shots.take(page, "08-override-reviewed")


def officer_verifies_log_entry(page: Page, shots: Shots) -> None:
    go(page, "Disclosure log")
    page.get_by_label("Event").select_option("override")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(r"^[1-9][0-9]* results$"))).to_be_visible()
    shots.take(page, "09-log-search")
    page.get_by_role("link", name=re.compile(r"^Open entry")).first.click()
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#verification")).to_contain_text("Verified")
    shots.take(page, "10-log-entry-verified")
    go(page, "Weekly figures")
    expect(page.locator("svg[role=img]").first).to_be_visible()
    shots.take(page, "11-weekly-figures")


def test_hit_release_override_review_and_verify(
    broker: RunningBroker, browser: Browser, traffic: Traffic, shots: Shots
) -> None:
    professional = open_context(browser, traffic)
    page = sign_in(professional, broker, "wijkteam-feijenoord", "professional", "w.devries")
    shots.take(page, "00-home-professional")
    professional_checks_family(page, shots)
    professional_requests_release(page, shots)
    professional_overrides(page, shots)
    professional.close()

    police = open_context(browser, traffic)
    coordinator_approves(sign_in(police, broker, "politie-rr", "coordinator", "p.bakker"), shots)
    police.close()

    officer = open_context(browser, traffic)
    page = sign_in(officer, broker, "wijkteam-feijenoord", "privacy_officer", "fg.jansen")
    cookie = next(c for c in officer.cookies() if c["name"] == "dvb_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    officer_reviews_override(page, shots)
    officer_verifies_log_entry(page, shots)
    officer.close()

    leaked = [url for url in traffic.urls if any(bsn in url for bsn in BSNS)]
    assert traffic.urls and leaked == []
    assert traffic.console_responses
    for response in traffic.console_responses:
        assert response.headers.get("content-security-policy") == CONTENT_SECURITY_POLICY
    assert not [m for m in traffic.messages if "Content Security Policy" in m]
