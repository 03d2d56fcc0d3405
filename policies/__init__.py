"""Policy data: Casbin model and policy, categories, purposes and the example chain."""

from pathlib import Path

POLICY_DIR = Path(__file__).resolve().parent
