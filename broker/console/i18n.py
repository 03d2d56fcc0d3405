"""Every console label in Dutch (the default) and English, and the ``t()`` helper of templates.

``MESSAGES`` maps a key to its (Dutch, English) text; ``{name}`` placeholders are filled
with ``str.format``. Purpose and category names come from the policy catalogue, which
carries both languages itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo
from typing import Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request

from broker.policy import Catalogue

logger = logging.getLogger("broker.console")

Language = Literal["nl", "en"]
LANGUAGES: tuple[Language, ...] = ("nl", "en")
DEFAULT_LANGUAGE: Language = "nl"
LANG_COOKIE = "dvb_lang"
DASH = "\N{EN DASH}"


def choose_language(request: Request) -> Language:
    """``?lang=`` when given and known, else the language cookie, else Dutch."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        for lang in LANGUAGES:
            if candidate == lang:
                return lang
    return DEFAULT_LANGUAGE


class Bilingual(Protocol):
    """A phrase the services give in both languages (subject-access reports)."""

    nl: str
    en: str


MESSAGES: dict[str, tuple[str, str]] = {
    # Frame
    "app_name": ("Informatiemakelaar huiselijk geweld", "Domestic-violence information broker"),
    "skip_to_content": ("Naar de inhoud", "Skip to content"),
    "language": ("Taal", "Language"),
    "main_navigation": ("Hoofdmenu", "Main navigation"),
    "signed_in_as": ("Ingelogd als {user} ({org})", "Signed in as {user} ({org})"),
    "sign_out": ("Uitloggen", "Sign out"),
    "signed_out": ("U bent uitgelogd.", "You have signed out."),
    "footer": (
        "Deze console deelt alleen wat een wettelijke grondslag toestaat. Elke vraag, "
        "verstrekking en doorbraak staat in het logboek.",
        "This console shares only what a legal basis allows. Every query, release and "
        "override is written to the disclosure log.",
    ),
    "nav_home": ("Start", "Home"),
    "nav_check": ("Elders bekend?", "Known elsewhere?"),
    "nav_release": ("Verstrekking aanvragen", "Request release"),
    "nav_override": ("Ernstig gevaar", "Serious danger"),
    "nav_inbox": ("Postvak", "Inbox"),
    "nav_log": ("Logboek", "Disclosure log"),
    "nav_overrides": ("Doorbraken", "Overrides"),
    "nav_alerts": ("Signaleringen", "Alerts"),
    "nav_consents": ("Toestemmingen", "Consents"),
    "nav_statistics": ("Weekcijfers", "Weekly figures"),
    "nav_subject_access": ("Inzageverzoek", "Subject access"),
    # Sign-in and errors
    "sign_in_title": ("Inloggen", "Sign in"),
    "sign_in_dev_intro": (
        "Ontwikkelomgeving: plak een token van `broker token`. Het token wordt één keer "
        "gecontroleerd; daarna houdt de console een sessie bij (8 uur, 30 minuten inactief).",
        "Development environment: paste a token from `broker token`. The token is checked "
        "once; after that the console keeps a session (8 hours, 30 minutes idle).",
    ),
    "sign_in_oidc_intro": (
        "Log in via de inlogdienst van uw organisatie.",
        "Sign in through your organisation's identity provider.",
    ),
    "sign_in_unavailable": (
        "Inloggen met een ontwikkeltoken kan niet in productie en er is geen inlogdienst "
        "van uw organisatie ingesteld. Neem contact op met uw beheerder.",
        "Signing in with a development token is not possible in production and no identity "
        "provider of your organisation is configured. Contact your administrator.",
    ),
    "token_label": ("Token", "Token"),
    "token_hint": (
        "Een JWT van uw organisatie, hooguit 15 minuten geldig en maar één keer bruikbaar.",
        "A JWT of your organisation, valid for at most 15 minutes and usable only once.",
    ),
    "sign_in_button": ("Inloggen", "Sign in"),
    "signed_in": ("U bent ingelogd", "You are signed in"),
    "continue": ("Verder", "Continue"),
    "problem_heading": ("Er is een probleem", "There is a problem"),
    "error_prefix": ("Fout:", "Error:"),
    "error_status": ("Statuscode {status}", "Status code {status}"),
    "error_400": ("Ongeldig verzoek", "Bad request"),
    "error_401": ("Inloggen nodig", "Sign-in required"),
    "error_403": ("Niet toegestaan", "Not allowed"),
    "error_404": ("Niet gevonden", "Not found"),
    "error_409": ("Al gebeurd", "Already done"),
    "error_422": ("Controleer het formulier", "Check the form"),
    "error_429": ("Te veel verzoeken", "Too many requests"),
    "error_503": ("Tijdelijk niet beschikbaar", "Temporarily unavailable"),
    "error_500": ("Er ging iets mis", "Something went wrong"),
    "back_home": ("Terug naar de start", "Back to home"),
    "sign_in_required": (
        "Log in om de console te gebruiken. Wat u in het formulier had ingevuld is niet bewaard.",
        "Sign in to use the console. What you had entered in the form was not kept.",
    ),
    "csrf_origin": (
        "Dit formulier kwam niet van de console zelf en is geweigerd.",
        "This form did not come from the console itself and was refused.",
    ),
    "csrf_token": (
        "Het formulier is verlopen of kwam niet van de console. Probeer het opnieuw.",
        "The form has expired or did not come from the console. Try again.",
    ),
    "csrf_sign_in": (
        "Het inlogformulier is verlopen; open het opnieuw.",
        "The sign-in form has expired; open it again.",
    ),
    "member_only": (
        "Deze pagina is voor professionals en coördinatoren.",
        "This page is for professionals and coordinators.",
    ),
    "officer_only": (
        "Deze pagina is voor privacyfunctionarissen.",
        "This page is for privacy officers.",
    ),
    "page_not_found": ("Deze pagina bestaat niet.", "This page does not exist."),
    "unknown": ("onbekend", "unknown"),
    # Home
    "home_title": ("Start", "Home"),
    "home_intro": ("Organisatie: {org}.", "Organisation: {org}."),
    "home_member_heading": ("Voor professionals", "For professionals"),
    "home_officer_heading": ("Voor de privacyfunctionaris", "For the privacy officer"),
    "home_check": (
        "Is dit gezin elders bekend, en wie belt u? Nooit de inhoud.",
        "Is this family known elsewhere, and whom do you call? Never the content.",
    ),
    "home_release": (
        "Meer dan een treffer nodig? Beantwoord de vijf vragen.",
        "Need more than a hit? Answer the five questions.",
    ),
    "home_override": (
        "Nu ernstig gevaar: direct verstrekken, achteraf getoetst.",
        "Serious danger now: release at once, reviewed afterwards.",
    ),
    "home_inbox": (
        "Matches en verzoeken om verstrekking ({count} te beslissen).",
        "Matches and release requests ({count} to decide).",
    ),
    "home_log": (
        "Wie vroeg wat, waarvoor, op welke grondslag.",
        "Who asked what, why, on which basis.",
    ),
    "home_overrides": ("{count} wachten op toetsing.", "{count} awaiting review."),
    "home_alerts": ("{count} open.", "{count} open."),
    "home_consents": (
        "Toestemmingen van een persoon en hun geschiedenis.",
        "A person's consents and their history.",
    ),
    "home_statistics": (
        "Vragen, treffers, verstrekkingen per week.",
        "Queries, hits, releases per week.",
    ),
    "home_subject_access": (
        "Een leesbaar overzicht voor de betrokkene.",
        "A readable overview for the person.",
    ),
    "home_no_pages": (
        "Uw rol heeft geen pagina's in deze console.",
        "Your role has no pages in this console.",
    ),
    # Persons
    "persons_legend": ("Personen", "Persons"),
    "persons_hint": (
        "Vul per persoon het BSN in, of naam en geboortedatum. Laat lege rijen leeg. "
        "De gegevens worden direct gepseudonimiseerd en nergens bewaard.",
        "For each person enter the citizen service number (BSN), or name and date of birth. "
        "Leave empty rows empty. Identifiers are pseudonymised at once and never stored.",
    ),
    "persons_carried": (
        "{count} personen uit uw vorige stap.",
        "{count} persons from your previous step.",
    ),
    "persons_carried_hint": (
        "Ze worden versleuteld meegestuurd en niet opnieuw getoond.",
        "They are carried along encrypted and not shown again.",
    ),
    "person_n": ("Persoon {n}", "Person {n}"),
    "bsn": ("BSN", "Citizen service number (BSN)"),
    "bsn_hint": ("9 cijfers", "9 digits"),
    "by_name_instead": ("Geen BSN? Naam en geboortedatum", "No BSN? Name and date of birth"),
    "family_name": ("Achternaam", "Family name"),
    "given_names": ("Voornamen", "Given names"),
    "birth_date": ("Geboortedatum", "Date of birth"),
    "no_persons": ("Vul ten minste één persoon in.", "Enter at least one person."),
    "person_invalid": (
        "Persoon {n}: vul een geldig BSN in, of achternaam, voornamen en geboortedatum.",
        "Person {n}: enter a valid BSN, or family name, given names and date of birth.",
    ),
    "persons_expired": (
        "De personen uit de vorige stap zijn verlopen; vul ze opnieuw in.",
        "The persons from the previous step have expired; enter them again.",
    ),
    "purpose": ("Doel", "Purpose"),
    "purposes": ("Doelen", "Purposes"),
    # Hit check
    "check_title": ("Is dit gezin elders bekend?", "Is this family known elsewhere?"),
    "check_intro": (
        "U hoort alleen of andere organisaties betrokken zijn en wie u kunt bellen. "
        "Nooit wat zij weten. Elke vraag wordt gelogd met uw doel.",
        "You learn only whether other organisations are involved and whom to call, never "
        "what they know. Every query is logged with your purpose.",
    ),
    "check_purpose_hint": (
        "Waarom vraagt u dit? Alleen doelen die uw rol mag gebruiken staan hier.",
        "Why are you asking? Only purposes your role may use are listed.",
    ),
    "check_button": ("Nagaan", "Check"),
    "check_result_title": ("Uitkomst: elders bekend?", "Result: known elsewhere?"),
    "check_result_for": (
        "Doel: {purpose}. {count} personen.",
        "Purpose: {purpose}. {count} persons.",
    ),
    "hit_badge": ("Treffer", "Hit"),
    "hit_heading": ("Elders bekend", "Known elsewhere"),
    "hit_meaning": (
        "Een treffer betekent: een of meer andere organisaties hebben geregistreerd dat zij "
        "betrokken zijn bij (een van) deze personen. Het zegt niets over wat zij weten of "
        "hoe ernstig het is.",
        "A hit means: one or more other organisations have registered that they are "
        "involved with (one of) these persons. It says nothing about what they know or how "
        "serious it is.",
    ),
    "hit_next": (
        "Bel de desk hieronder om af te stemmen wat nodig is. Meer gegevens alleen via een "
        "verstrekking op grondslag.",
        "Call the desk below to agree what is needed. More information only through a "
        "release on a legal basis.",
    ),
    "no_hit_badge": ("Geen treffer", "No hit"),
    "no_hit_heading": ("Niets geregistreerd", "Nothing registered"),
    "no_hit_not_safe": (
        "Geen treffer betekent niet dat het gezin veilig is.",
        "No hit does not mean the family is safe.",
    ),
    "no_hit_meaning": (
        "Het betekent alleen dat geen aangesloten organisatie een signaal over deze "
        "personen heeft geregistreerd. Vertrouw op uw eigen inschatting; bij twijfel: "
        "overleg met Veilig Thuis.",
        "It only means that no participating organisation has registered a signal about "
        "these persons. Rely on your own assessment; when in doubt, consult Veilig Thuis.",
    ),
    "per_person": ("Per persoon", "Per person"),
    "known_elsewhere": ("elders bekend", "known elsewhere"),
    "nothing_registered": ("niets geregistreerd", "nothing registered"),
    "whom_to_call": ("Wie kunt u bellen", "Whom to call"),
    "organisation": ("Organisatie", "Organisation"),
    "contact_desk": ("Desk", "Desk"),
    "since": ("Sinds", "Since"),
    "category": ("Soort", "Category"),
    "categories": ("Soorten", "Categories"),
    "concerns": ("Betreft", "Concerns"),
    "shielded_org": (
        "Bekend; neem contact op via Veilig Thuis",
        "Known; contact via Veilig Thuis",
    ),
    "category_not_shown": ("niet getoond", "not shown"),
    "via_family": ("via een gezinslid", "through a family member"),
    "next_steps": ("Vervolg", "Next steps"),
    "to_release": ("Verstrekking aanvragen (vijf vragen)", "Request release (five questions)"),
    "to_override": ("Ernstig gevaar: doorbreken", "Serious danger: override"),
    "new_check": ("Nieuwe vraag", "New check"),
    # Release (five questions)
    "release_title": ("Verstrekking aanvragen", "Request a release"),
    "release_intro": (
        "Zonder toestemming beantwoordt u de vijf vragen. Kort en concreet is genoeg; uw "
        "afweging wordt vastgelegd zodat die later te bespreken is.",
        "Without consent you answer the five questions. Short and concrete is enough; your "
        "weighing is recorded so it can be discussed later.",
    ),
    "release_purpose_hint": (
        "Alleen de velden die dit doel nodig heeft worden verstrekt.",
        "Only the fields this purpose needs are released.",
    ),
    "five_questions_legend": ("De vijf vragen", "The five questions"),
    "five_questions_hint": (
        "Elke vraag een eigen antwoord van ten minste 10 tekens.",
        "Each question its own answer of at least 10 characters.",
    ),
    "q_purpose": ("1. Wat is het doel?", "1. What is the purpose?"),
    "q_purpose_hint": (
        "Wat gaat u met de informatie doen? Bijvoorbeeld: huisbezoek morgen veilig voorbereiden.",
        "What will you do with the information? For example: prepare tomorrow's home visit safely.",
    ),
    "q_need_to_know": ("2. Is het 'need to know'?", "2. Is it 'need to know'?"),
    "q_need_to_know_hint": (
        "Welke informatie heeft u echt nodig, en wat niet?",
        "Which information do you really need, and what not?",
    ),
    "q_subsidiarity": (
        "3. Kan het een tandje minder?",
        "3. Can it be done a notch less intrusively?",
    ),
    "q_subsidiarity_hint": (
        "Kan het minder ingrijpend, of helemaal niet? Waarom niet?",
        "Could it be less intrusive, or not at all? Why not?",
    ),
    "q_proportionality": ("4. Is het in verhouding?", "4. Is it proportionate?"),
    "q_proportionality_hint": (
        "Staat de informatie over de cliënt in verhouding tot het doel?",
        "Is the information about the client proportionate to the purpose?",
    ),
    "q_effectiveness": ("5. Is delen effectief?", "5. Is sharing effective?"),
    "q_effectiveness_hint": (
        "Helpt het om dit met deze collega's te delen? Wat doet u ermee?",
        "Does sharing with these colleagues help? What will you do with it?",
    ),
    "answer_required": (
        "Schrijf een antwoord van ten minste {n} tekens.",
        "Write an answer of at least {n} characters.",
    ),
    "release_button": ("Verstrekking aanvragen", "Request release"),
    "form_incomplete": (
        "Het formulier is niet volledig of een antwoord is te lang.",
        "The form is incomplete or an answer is too long.",
    ),
    "form_already_sent": (
        "Dit formulier is al verstuurd. Open het opnieuw voor een nieuwe aanvraag.",
        "This form was already sent. Open it again for a new request.",
    ),
    # Override
    "override_title": ("Ernstig gevaar: doorbreken", "Serious danger: override"),
    "override_when": (
        "Alleen bij ernstig gevaar, nu.",
        "Only in serious danger, now.",
    ),
    "override_intro": (
        "De gegevens die nodig zijn voor acute veiligheid worden direct verstrekt. Beide "
        "organisaties en hun privacyfunctionarissen worden meteen geïnformeerd; de "
        "privacyfunctionaris toetst achteraf of de doorbraak terecht was.",
        "The information needed for acute safety is released at once. Both organisations "
        "and their privacy officers are told immediately; the privacy officer reviews "
        "afterwards whether the override was justified.",
    ),
    "override_legend": ("Uw onderbouwing", "Your justification"),
    "o_danger": ("Wie loopt gevaar, en waardoor?", "Who is at risk, and from what?"),
    "o_danger_hint": ("Beschrijf het gevaar concreet.", "Describe the danger concretely."),
    "o_why_now": ("Waarom nu?", "Why now?"),
    "o_why_now_hint": ("Wat maakt dat dit niet kan wachten?", "What makes this unable to wait?"),
    "o_tried": ("Waarom geen toestemming?", "Why no consent?"),
    "o_tried_hint": (
        "Waarom kan toestemming niet worden gevraagd of gekregen?",
        "Why can consent not be asked or obtained?",
    ),
    "o_needed": ("Welke informatie is nodig?", "Which information is needed?"),
    "o_needed_hint": (
        "Alleen wat nodig is om het gevaar af te wenden.",
        "Only what is needed to avert the danger.",
    ),
    "override_button": ("Doorbreken en direct verstrekken", "Override and release now"),
    # Results
    "result_title_release": ("Uitkomst van uw aanvraag", "Result of your request"),
    "result_title_override": ("Doorbraak vastgelegd", "Override recorded"),
    "status_released": ("Verstrekt", "Released"),
    "status_released_meaning": (
        "De toegestane velden staan hieronder, met pseudoniemen die alleen voor uw "
        "organisatie gelden.",
        "The allowed fields are below, with pseudonyms that hold only for your organisation.",
    ),
    "status_pending": ("In afwachting", "Pending"),
    "status_pending_meaning": (
        "De bron moet eerst beslissen. U krijgt bericht in uw postvak.",
        "The source must decide first. You will be told in your inbox.",
    ),
    "status_nothing_to_release": ("Niets te verstrekken", "Nothing to release"),
    "status_nothing_to_release_meaning": (
        "Er is geen signaal van een andere organisatie dat op deze grondslag kan worden verstrekt.",
        "There is no signal of another organisation that can be released on this basis.",
    ),
    "status_refused": ("Geweigerd", "Refused"),
    "status_refused_meaning": ("De bron heeft geweigerd.", "The source refused."),
    "legal_basis": ("Grondslag", "Legal basis"),
    "basis_consent": ("Toestemming", "Consent"),
    "basis_proportionality": (
        "Vijf vragen (proportionaliteit)",
        "Five questions (proportionality)",
    ),
    "basis_serious_danger": ("Ernstig gevaar", "Serious danger"),
    "basis_gdpr_art_15": ("AVG art. 15 (inzage)", "GDPR art. 15 (access)"),
    "basis_gdpr_art_17": ("AVG art. 17 (wissen)", "GDPR art. 17 (erasure)"),
    "reference": ("Kenmerk", "Reference"),
    "review_deadline": ("Uiterste toetsing", "Review deadline"),
    "override_reported": (
        "De privacyfunctionarissen van uw organisatie en van de bron zijn geïnformeerd.",
        "The privacy officers of your organisation and of the source have been told.",
    ),
    "per_source": ("Per bron", "Per source"),
    "item_released": ("verstrekt", "released"),
    "item_pending": ("wacht op bron", "awaiting source"),
    "item_refused": ("geweigerd", "refused"),
    "item_withheld": ("niet verstrekt", "withheld"),
    "source_not_named": ("Bron niet genoemd", "Source not named"),
    "released_pseudonyms": ("Personen (uw pseudoniemen)", "Persons (your pseudonyms)"),
    "role_victim": ("slachtoffer", "victim"),
    "role_suspect": ("verdachte", "suspect"),
    "role_child": ("kind", "child"),
    "role_other": ("anders", "other"),
    "reason": ("Reden", "Reason"),
    "nothing_found_to_release": (
        "Er is niets gevonden om te verstrekken.",
        "Nothing was found to release.",
    ),
    # Inbox
    "inbox_title": ("Postvak", "Inbox"),
    "to_decide_heading": ("Verzoeken om verstrekking", "Release requests"),
    "to_decide_hint": (
        "Uw organisatie is de bron. Beslis met een korte reden; de aanvrager ziet uw besluit.",
        "Your organisation is the source. Decide with a short reason; the requester sees "
        "your decision.",
    ),
    "to_decide_coordinator_only": (
        "Een coördinator van uw organisatie beslist over deze verzoeken.",
        "A coordinator of your organisation decides on these requests.",
    ),
    "request_from": ("Verzoek van {org}", "Request from {org}"),
    "requested_at": ("Aangevraagd", "Requested"),
    "decision": ("Besluit", "Decision"),
    "approve": ("Verstrekken", "Approve"),
    "refuse": ("Weigeren", "Refuse"),
    "decision_reason_hint": (
        "Bijvoorbeeld: convenant, risico bekend.",
        "For example: covenant, risk known.",
    ),
    "record_decision": ("Besluit vastleggen", "Record decision"),
    "decision_recorded": ("Uw besluit is vastgelegd.", "Your decision has been recorded."),
    "nothing_to_decide": ("Er wacht niets op een besluit.", "Nothing awaits a decision."),
    "notifications_heading": ("Berichten", "Notifications"),
    "no_notifications": ("Geen berichten.", "No notifications."),
    "when": ("Wanneer", "When"),
    "kind": ("Soort", "Kind"),
    "what": ("Wat", "What"),
    "kind_match": ("Match", "Match"),
    "kind_release_request": ("Verzoek om verstrekking", "Release request"),
    "kind_release_decision": ("Besluit over verstrekking", "Release decision"),
    "kind_override": ("Doorbraak", "Override"),
    "kind_override_overdue": ("Toetsing te laat", "Review overdue"),
    "kind_coordinator": ("Regisseur", "Coordinator"),
    "match_summary": (
        "Ook betrokken: {org}. Bel: {desk}.",
        "Also involved: {org}. Call: {desk}.",
    ),
    "release_request_summary": (
        "{org} vraagt verstrekking voor {purpose}.",
        "{org} asks for a release for {purpose}.",
    ),
    "release_decision_summary": (
        "Uw aanvraag {reference}: {status}.",
        "Your request {reference}: {status}.",
    ),
    "override_summary": (
        "Doorbraak door {org}; toetsing door de privacyfunctionaris vóór {deadline}.",
        "Override by {org}; privacy officer review due by {deadline}.",
    ),
    "coordinator_summary": ("Regisseur vastgelegd: {org}.", "Coordinator recorded: {org}."),
    "other_summary": ("Zie de API voor details.", "See the API for details."),
    # Log
    "log_title": ("Logboek van verstrekkingen", "Disclosure log"),
    "log_intro": (
        "Alle vragen, treffers, verstrekkingen, weigeringen en doorbraken waarbij uw "
        "organisatie partij is. Elke zoekactie wordt zelf ook gelogd.",
        "Every query, hit, release, refusal and override your organisation is party to. "
        "Every search is itself logged.",
    ),
    "filters": ("Filters", "Filters"),
    "since_date": ("Vanaf", "From"),
    "until_date": ("Tot en met", "Up to and including"),
    "event_type": ("Gebeurtenis", "Event"),
    "outcome": ("Uitkomst", "Outcome"),
    "user": ("Gebruiker", "User"),
    "any": ("(alle)", "(any)"),
    "search": ("Zoeken", "Search"),
    "clear_filters": ("Filters wissen", "Clear filters"),
    "search_by_person": ("Zoeken op persoon", "Search by person"),
    "search_by_person_hint": (
        "Het BSN gaat alleen in het formulier, nooit in een adres, en wordt direct "
        "gepseudonimiseerd.",
        "The BSN goes only in the form, never in an address, and is pseudonymised at once.",
    ),
    "search_person_button": ("Zoek op persoon", "Search by person"),
    "results_heading": ("{total} resultaten", "{total} results"),
    "results_by_person": (
        "Resultaten voor de opgegeven persoon (eerste pagina).",
        "Results for the given person (first page).",
    ),
    "open_entry": ("Regel {n} openen", "Open entry {n}"),
    "paging": ("Pagina's", "Pages"),
    "previous_page": ("Vorige", "Previous"),
    "next_page": ("Volgende", "Next"),
    "page_of": ("Pagina {page} van {pages}", "Page {page} of {pages}"),
    "export_csv": ("Deze selectie als CSV", "This selection as CSV"),
    "no_results": ("Geen resultaten.", "No results."),
    "bad_date": ("Een datum is ongeldig.", "A date is not valid."),
    "entry_title": ("Logregel {n}", "Log entry {n}"),
    "back_to_log": ("Terug naar het logboek", "Back to the log"),
    "leaf_hash": ("Bladhash", "Leaf hash"),
    "entry_body": ("Inhoud van de regel", "Entry contents"),
    "entry_redacted": (
        "De inhoud is na de bewaartermijn verwijderd; de hash blijft.",
        "The contents were removed after the retention period; the hash remains.",
    ),
    "verify_button": ("Verifiëren", "Verify"),
    "verify_hint": (
        "Controleert het inclusiebewijs van deze regel tegen het laatste ondertekende "
        "controlepunt.",
        "Checks this entry's inclusion proof against the latest signed checkpoint.",
    ),
    "verified": ("Geverifieerd", "Verified"),
    "not_verified": ("Niet geverifieerd", "Not verified"),
    "verify_ok": (
        "Deze regel zit ongewijzigd in het logboek van {size} regels dat het "
        "controlepunt ondertekent.",
        "This entry is unchanged in the log of {size} entries that the checkpoint signs.",
    ),
    "verify_signature": (
        "De handtekening van het controlepunt klopt niet.",
        "The checkpoint's signature does not verify.",
    ),
    "verify_leaf": (
        "De inhoud van de regel past niet bij de hash.",
        "The entry's contents do not match its hash.",
    ),
    "verify_inclusion": (
        "Het inclusiebewijs past niet bij het ondertekende controlepunt.",
        "The inclusion proof does not match the signed checkpoint.",
    ),
    "tree_size": ("Omvang logboek", "Log size"),
    "root_hash": ("Wortelhash", "Root hash"),
    "proof_length": ("Lengte bewijs", "Proof length"),
    "signed_checkpoint": ("Ondertekend controlepunt", "Signed checkpoint"),
    # Overrides review
    "overrides_title": ("Doorbraken bij ernstig gevaar", "Serious-danger overrides"),
    "overrides_intro": (
        "Toets elke doorbraak vóór de deadline: was het ernstig gevaar, en was delen nodig?",
        "Review every override before its deadline: was it serious danger, and was sharing needed?",
    ),
    "override_status_pending": ("Te toetsen", "To review"),
    "override_status_justified": ("Terecht", "Justified"),
    "override_status_unjustified": ("Onterecht", "Unjustified"),
    "deadline": ("Deadline", "Deadline"),
    "overdue": ("te laat", "overdue"),
    "requested_by": ("Door", "By"),
    "sources": ("Bronnen", "Sources"),
    "status": ("Status", "Status"),
    "actions": ("Acties", "Actions"),
    "review": ("Toetsen", "Review"),
    "view": ("Bekijken", "View"),
    "override_of": ("doorbraak van {user}", "override by {user}"),
    "no_overrides": ("Geen doorbraken.", "No overrides."),
    "overrides_per_professional": ("Doorbraken per professional", "Overrides per professional"),
    "total": ("Totaal", "Total"),
    "override_detail_title": ("Doorbraak toetsen", "Review override"),
    "back_to_overrides": ("Terug naar de doorbraken", "Back to the overrides"),
    "filed_at": ("Ingediend", "Filed"),
    "justification": ("Onderbouwing", "Justification"),
    "review_heading": ("Toetsing", "Review"),
    "reviewed_by": ("Getoetst door", "Reviewed by"),
    "note": ("Toelichting", "Note"),
    "review_question": ("Was de doorbraak terecht?", "Was the override justified?"),
    "justified_yes": ("Ja, terecht", "Yes, justified"),
    "justified_no": ("Nee, onterecht", "No, not justified"),
    "review_note_hint": (
        "Uw afweging; de professional en de bron kunnen die later lezen.",
        "Your weighing; the professional and the source can read it later.",
    ),
    "record_review": ("Toetsing vastleggen", "Record review"),
    "review_recorded": ("De toetsing is vastgelegd.", "The review has been recorded."),
    # Alerts
    "alerts_title": ("Signaleringen", "Alerts"),
    "alerts_intro": (
        "Ongebruikelijke patronen: veel vragen achter elkaar, reeksen BSN's, veel doorbraken, "
        "vragen zonder vervolg, te late toetsing.",
        "Unusual patterns: bursts of queries, runs of BSNs, many overrides, queries without "
        "follow-up, late reviews.",
    ),
    "alerts_open": ("Open", "Open"),
    "alerts_all": ("Alle", "All"),
    "open": ("open", "open"),
    "resolved": ("afgehandeld", "resolved"),
    "period": ("Periode", "Period"),
    "resolution": ("Afhandeling", "Resolution"),
    "resolve": ("Afhandelen", "Resolve"),
    "alert_resolved": ("De signalering is afgehandeld.", "The alert has been resolved."),
    "alert_entries": ("Bekijk de logregels", "See the log entries"),
    "no_alerts": ("Geen signaleringen.", "No alerts."),
    "alert_kind_burst": ("Veel vragen in korte tijd", "Burst of queries"),
    "alert_kind_random_identifiers": ("Veel vragen zonder treffer", "Many queries without a hit"),
    "alert_kind_sequential_identifiers": ("Opeenvolgende BSN's", "Sequential BSNs"),
    "alert_kind_off_hours_burst": ("Veel vragen buiten kantoortijd", "Queries out of hours"),
    "alert_kind_override_threshold": ("Veel doorbraken", "Many overrides"),
    "alert_kind_override_review_overdue": ("Toetsing doorbraak te laat", "Override review overdue"),
    "alert_kind_queries_without_follow_up": ("Vragen zonder vervolg", "Queries without follow-up"),
    # Consents
    "consents_title": ("Toestemmingen opzoeken", "Look up consents"),
    "consents_intro": (
        "De toestemmingen die uw organisatie voor deze persoon heeft vastgelegd, met hun "
        "geschiedenis. Geen vastgelegde toestemming betekent: nee.",
        "The consents your organisation recorded for this person, with their history. "
        "No recorded consent means no.",
    ),
    "lookup_button": ("Opzoeken", "Look up"),
    "consents_found": ("{count} toestemmingen gevonden", "{count} consents found"),
    "consent_given": ("gegeven", "given"),
    "consent_refused": ("geweigerd", "refused"),
    "consent_withdrawn": ("ingetrokken", "withdrawn"),
    "given_by": ("Gegeven door", "Given by"),
    "recipients": ("Ontvangers", "Recipients"),
    "valid": ("Geldig", "Valid"),
    "obtained_how": ("Verkregen", "Obtained"),
    "recorded_by": ("Vastgelegd door", "Recorded by"),
    "history": ("Geschiedenis", "History"),
    "consent": ("Toestemming", "Consent"),
    "action": ("Handeling", "Action"),
    "by": ("Door", "By"),
    "no_consent_means_no": (
        "Geen toestemming vastgelegd. Geen vastgelegde toestemming betekent: nee.",
        "No consent recorded. No recorded consent means no.",
    ),
    # Statistics
    "statistics_title": ("Weekcijfers", "Weekly figures"),
    "statistics_intro": (
        "De laatste {weeks} weken, voor de regels waarbij uw organisatie partij is. "
        "Elke grafiek heeft ook een tabel.",
        "The last {weeks} weeks, for the entries your organisation is party to. "
        "Each chart also has a table.",
    ),
    "chart_queries": ("Vragen", "Queries"),
    "chart_hits": ("Treffers", "Hits"),
    "chart_releases": ("Verstrekkingen: {basis}", "Releases: {basis}"),
    "chart_overrides": (
        "Doorbraken (verstrekt bij ernstig gevaar)",
        "Overrides (released in serious danger)",
    ),
    "chart_refusals": ("Weigeringen", "Refusals"),
    "chart_description": ("{title} per week: {values}.", "{title} per week: {values}."),
    "as_table": ("Als tabel", "As a table"),
    "week": ("Week", "Week"),
    "count": ("Aantal", "Count"),
    # Subject access
    "subject_access_title": (
        "Inzageverzoek (AVG art. 15)",
        "Subject access request (GDPR art. 15)",
    ),
    "subject_access_intro": (
        "Een leesbaar overzicht voor de betrokkene: wie registreerde, wie vroeg, wie "
        "ontving. Wat iemand in gevaar kan brengen wordt weggelaten, met de grond.",
        "A readable overview for the person: who registered, who asked, who received. "
        "What could endanger someone is withheld, with the ground.",
    ),
    "verification_legend": ("Identiteit vastgesteld", "Identity verified"),
    "verification_method": ("Hoe", "How"),
    "method_id_document_in_person": ("Identiteitsbewijs aan de balie", "ID document in person"),
    "method_digid": ("DigiD", "DigiD"),
    "method_legal_representative_verified": (
        "Wettelijk vertegenwoordiger gecontroleerd",
        "Legal representative verified",
    ),
    "verification_reference": ("Kenmerk van de controle", "Reference of the check"),
    "verification_reference_hint": (
        "Bijvoorbeeld uw dossiernummer; geen BSN. Wordt versleuteld bewaard.",
        "For example your case number; not a BSN. Stored encrypted.",
    ),
    "period_optional": ("Periode (optioneel)", "Period (optional)"),
    "produce_report": ("Overzicht maken", "Produce report"),
    "report_ready": ("Overzicht gemaakt", "Report produced"),
    "report_meta": ("Reikwijdte: {scope}. Kenmerk: {id}.", "Scope: {scope}. Reference: {id}."),
    "scope_chain": ("alle aangesloten organisaties", "every connected organisation"),
    "scope_organisation": ("alleen uw organisatie", "your organisation only"),
    "sa_registered": ("Welke organisaties zijn betrokken", "Which organisations are involved"),
    "sa_asked": ("Wie vroeg of de persoon bekend is", "Who asked whether the person is known"),
    "sa_received": ("Wie ontving gegevens", "Who received data"),
    "sa_status_active": ("lopend", "ongoing"),
    "sa_status_ended": ("beëindigd", "ended"),
    "sa_outcome_known": ("bekend", "known"),
    "sa_outcome_not_known": ("niet bekend", "not known"),
    "nothing_found": ("Niets gevonden.", "Nothing found."),
    "report_text": ("Tekst voor de betrokkene (NL en EN)", "Text for the person (NL and EN)"),
    "new_report": ("Nieuw overzicht", "New report"),
    # Values
    "yes": ("ja", "yes"),
    "no": ("nee", "no"),
}

EVENTS: dict[str, tuple[str, str]] = {
    "query": ("Vraag", "Query"),
    "blind_evaluation": ("Blinde pseudonimisering", "Blind evaluation"),
    "registration": ("Registratie", "Registration"),
    "withdrawal": ("Intrekking", "Withdrawal"),
    "purge": ("Opschoning", "Purge"),
    "match": ("Match", "Match"),
    "notification": ("Bericht", "Notification"),
    "coordinator": ("Regisseur", "Coordinator"),
    "release": ("Verstrekking", "Release"),
    "release_pending": ("Verstrekking wacht", "Release pending"),
    "approval": ("Goedkeuring", "Approval"),
    "refusal": ("Weigering", "Refusal"),
    "override": ("Doorbraak", "Override"),
    "override_review": ("Toetsing doorbraak", "Override review"),
    "consent": ("Toestemming", "Consent"),
    "consent_withdrawn": ("Toestemming ingetrokken", "Consent withdrawn"),
    "key_rotation": ("Sleutelwissel", "Key rotation"),
    "policy_change": ("Beleidswijziging", "Policy change"),
    "subject_access": ("Inzage", "Subject access"),
    "erasure_request": ("Verzoek tot wissen", "Erasure request"),
    "log_search": ("Zoeken in logboek", "Log search"),
    "alert": ("Signalering", "Alert"),
}

FIELDS: dict[str, tuple[str, str]] = {
    "firearm_known": ("Vuurwapen bekend", "Firearm known"),
    "risk_level": ("Risiconiveau", "Risk level"),
    "children_present": ("Kinderen aanwezig", "Children present"),
    "incident_date": ("Datum incident", "Incident date"),
    "violence_type": ("Soort geweld", "Type of violence"),
    "prior_incidents": ("Eerdere incidenten", "Prior incidents"),
    "safety_plan": ("Veiligheidsplan", "Safety plan"),
    "children_involved": ("Kinderen betrokken", "Children involved"),
    "received_on": ("Ontvangen op", "Received on"),
    "handover_to": ("Overgedragen aan", "Handed over to"),
    "contact_ban": ("Contactverbod", "Contact ban"),
    "imposed_on": ("Opgelegd op", "Imposed on"),
    "ends_on": ("Eindigt op", "Ends on"),
    "extended": ("Verlengd", "Extended"),
    "children_covered": ("Geldt ook voor kinderen", "Children covered"),
    "restraining_order_until": ("Huisverbod tot", "Restraining order until"),
    "suspect_in_custody": ("Verdachte in bewaring", "Suspect in custody"),
    "opened_on": ("Geopend op", "Opened on"),
    "offence_type": ("Soort delict", "Type of offence"),
    "lead_organisation": ("Regievoerende organisatie", "Lead organisation"),
    "next_conference": ("Volgend casusoverleg", "Next case conference"),
    "support_type": ("Soort ondersteuning", "Type of support"),
    "home_visits_planned": ("Huisbezoeken gepland", "Home visits planned"),
    "measure_type": ("Soort maatregel", "Type of measure"),
    "placed_out_of_home": ("Uit huis geplaatst", "Placed out of home"),
    "started_on": ("Gestart op", "Started on"),
    "phase": ("Fase", "Phase"),
}

VALUES: dict[str, tuple[str, str]] = {
    "low": ("laag", "low"),
    "medium": ("midden", "medium"),
    "high": ("hoog", "high"),
    "acute": ("acuut", "acute"),
    "physical": ("lichamelijk", "physical"),
    "sexual": ("seksueel", "sexual"),
    "psychological": ("psychisch", "psychological"),
    "threat": ("bedreiging", "threat"),
    "material": ("materieel", "material"),
}


class Words:
    """The ``t`` of templates: ``t("key", name=value)`` plus catalogue and value labels."""

    def __init__(self, lang: Language, catalogue: Catalogue) -> None:
        self.lang = lang
        self._catalogue = catalogue
        self._index = LANGUAGES.index(lang)

    def __call__(self, key: str, **values: object) -> str:
        """The label ``key``; an unknown key shows itself (and is logged) rather than failing."""
        texts = MESSAGES.get(key)
        if texts is None:
            logger.warning("console: no label", extra={"label": key})
            return key
        return texts[self._index].format(**values) if values else texts[self._index]

    def purpose(self, name: str) -> str:
        """A purpose's name from the catalogue."""
        purpose = self._catalogue.purposes.get(name)
        if purpose is None:
            return name
        return purpose.label.nl if self.lang == "nl" else purpose.label.en

    def categories(self, names: str) -> str:
        """One or more category names (comma-separated, as hits give them)."""
        labels = []
        for name in (part.strip() for part in names.split(",")):
            category = self._catalogue.categories.get(name)
            if category is None:
                labels.append(name)
            else:
                labels.append(category.label.nl if self.lang == "nl" else category.label.en)
        return ", ".join(labels)

    def event(self, name: str) -> str:
        """An event type's name."""
        texts = EVENTS.get(name)
        return texts[self._index] if texts else name

    def field_label(self, name: str) -> str:
        """A payload field's name."""
        texts = FIELDS.get(name)
        return texts[self._index] if texts else name.replace("_", " ")

    def value(self, value: object) -> str:
        """A released or logged value, readable."""
        if isinstance(value, bool):
            return self("yes" if value else "no")
        if value is None:
            return DASH
        if isinstance(value, list | tuple):
            return ", ".join(self.value(v) for v in value) or DASH
        if isinstance(value, Mapping):
            return "; ".join(f"{k}: {self.value(v)}" for k, v in value.items()) or DASH
        texts = VALUES.get(value) if isinstance(value, str) else None
        return texts[self._index] if texts else str(value)

    def raw(self, value: object) -> str:
        """A recorded value exactly as recorded (log bodies): nothing translated."""
        if value is None:
            return DASH
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list | tuple):
            return ", ".join(self.raw(v) for v in value) or DASH
        if isinstance(value, Mapping):
            return "; ".join(f"{k}: {self.raw(v)}" for k, v in value.items()) or DASH
        return str(value)

    def when(self, moment: datetime | date | str | None) -> str:
        """A moment in Dutch local time, as day and minute."""
        if moment is None:
            return DASH
        if isinstance(moment, str):
            try:
                parsed = datetime.fromisoformat(moment)
            except ValueError:
                return moment
        elif isinstance(moment, datetime):
            parsed = moment
        else:
            return moment.isoformat()
        aware = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return aware.astimezone(_local_zone()).strftime("%Y-%m-%d %H:%M")

    def pick(self, phrase: Bilingual) -> str:
        """The phrase in this language."""
        return phrase.nl if self.lang == "nl" else phrase.en

    def error_title(self, status: int) -> str:
        """A page title for an error status."""
        key = f"error_{status}"
        return self(key if key in MESSAGES else ("error_400" if status < 500 else "error_500"))


def _local_zone() -> tzinfo:
    try:
        return ZoneInfo("Europe/Amsterdam")
    except ZoneInfoNotFoundError:
        return UTC
