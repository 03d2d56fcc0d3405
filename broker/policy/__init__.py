"""Purpose binding: who may do what, for which purpose, on which data category.

The Casbin model and rules and the purposes and categories catalogue are data under
``policies/``; this package loads and checks them and answers one question through
``PolicyEngine.decide``. It never imports the web layer.
"""

from broker.policy.catalogue import Catalogue
from broker.policy.definitions import Category, Desk, Label, Purpose, ReleaseMode, ReleaseRule
from broker.policy.engine import AccessRequest, Decision, PolicyEngine
from broker.policy.errors import InvalidPayload, PolicyConfigError, UnknownCategory, UnknownPurpose
from broker.policy.payload import FieldType, PayloadField, PayloadValue
from broker.policy.vocabulary import ANY_CATEGORY, NO_PURPOSE, Action, OrgType, Role
from broker.policy.watcher import (
    POLICY_CHANNEL,
    InProcessChannel,
    InProcessWatcher,
    PolicyWatcher,
    RedisWatcher,
)

__all__ = [
    "ANY_CATEGORY",
    "NO_PURPOSE",
    "POLICY_CHANNEL",
    "AccessRequest",
    "Action",
    "Catalogue",
    "Category",
    "Decision",
    "Desk",
    "FieldType",
    "InProcessChannel",
    "InProcessWatcher",
    "InvalidPayload",
    "Label",
    "OrgType",
    "PayloadField",
    "PayloadValue",
    "PolicyConfigError",
    "PolicyEngine",
    "PolicyWatcher",
    "Purpose",
    "RedisWatcher",
    "ReleaseMode",
    "ReleaseRule",
    "Role",
    "UnknownCategory",
    "UnknownPurpose",
]
