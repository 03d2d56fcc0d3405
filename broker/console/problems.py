"""Console errors that carry a label, so the page can explain them in the person's language."""

from __future__ import annotations

from collections.abc import Mapping

from broker.errors import BrokerError, Conflict, Forbidden, InvalidRequest, NotFound


class FormProblem(InvalidRequest):
    """Something in a form to correct; ``label`` names the explanation in ``i18n``."""

    def __init__(self, label: str, **values: object) -> None:
        super().__init__(f"Check the form ({label}).")
        self.label = label
        self.values: Mapping[str, object] = values


class RoleRequired(Forbidden):
    """The page belongs to another role."""

    def __init__(self, label: str) -> None:
        super().__init__("Your role does not give access to this page.")
        self.label = label
        self.values: Mapping[str, object] = {}


def label_of(error: BrokerError) -> tuple[str, Mapping[str, object]] | None:
    """The i18n label and values of a console error, or None for a service's own error."""
    label = getattr(error, "label", None)
    if not isinstance(label, str):
        return None
    values = getattr(error, "values", {})
    return label, values if isinstance(values, Mapping) else {}


class FormAlreadySent(Conflict):
    """A one-time form came back a second time (back button, double click)."""

    def __init__(self) -> None:
        super().__init__("This form was already sent.")
        self.label = "form_already_sent"
        self.values: Mapping[str, object] = {}


class PageNotFound(NotFound):
    """No console page at this address."""

    def __init__(self) -> None:
        super().__init__("No such page.")
        self.label = "page_not_found"
        self.values: Mapping[str, object] = {}
