"""Periodic background work inside each broker process (checkpoints, purges, delivery).

Every task is safe to run in several processes at once: each one either takes the log
head lock or tolerates losing a race on a unique key.
"""

from __future__ import annotations

import logging
import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

import redis
from sqlalchemy.exc import IntegrityError, OperationalError

from broker.alerts.follow_up import CHECK_EVERY_SECONDS, check_queries_without_follow_up
from broker.container import Container
from broker.matches.delivery import deliver_notifications
from broker.rotation.service import RELOAD_SECONDS, reload_keys
from broker.signals.commands import purge_expired_signals

logger = logging.getLogger("broker.tasks")


@dataclass(frozen=True)
class PeriodicTask:
    """A named job and how often it runs."""

    name: str
    every_seconds: float
    run: Callable[[Container], object]


class TaskRunner:
    """Runs periodic tasks on one daemon thread until stopped."""

    def __init__(self, container: Container, tasks: list[PeriodicTask]) -> None:
        self._container = container
        self._tasks = tasks
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="broker-tasks", daemon=True)
        self._due = {task.name: 0.0 for task in tasks}
        self._jitter = random.Random()  # noqa: S311 - timing only, no secret

    def start(self) -> None:
        """Begin running tasks."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current task."""
        self._stop.set()
        self._thread.join(timeout=10)

    def run_due(self, now: float) -> None:
        """Run every task whose time has come (also used by tests)."""
        for task in self._tasks:
            if self._due[task.name] > now:
                continue
            # Up to a tenth earlier or later each time: processes started together drift
            # apart instead of doing the same round at the same moment every time.
            self._due[task.name] = now + task.every_seconds * self._jitter.uniform(0.9, 1.1)
            try:
                task.run(self._container)
            except (IntegrityError, OperationalError) as exc:
                # Another process did the same work, or the database is briefly away.
                logger.info(
                    "task skipped", extra={"task": task.name, "error_class": type(exc).__name__}
                )
            except Exception as exc:
                logger.error(
                    "task failed", extra={"task": task.name, "error_class": type(exc).__name__}
                )

    def _loop(self) -> None:
        import time

        while not self._stop.wait(1.0):
            self.run_due(time.monotonic())


def sign_checkpoint_if_grown(container: Container) -> None:
    """Sign a checkpoint when the log has grown since the last one."""
    from broker.db import unit_of_work

    with unit_of_work(container.engine) as session:
        container.log.latest(session)


def one_process_per_round(
    name: str, every_seconds: float, work: Callable[[Container], object]
) -> Callable[[Container], object]:
    """``work`` done by one broker process per round where they share Redis, else by each.

    The first process of a round claims it in Redis for most of the period and the others
    skip it: the follow-up check reads a day of the log, and every process reading it each
    hour only repeated the same work. Without Redis (the embedded default, one process) or
    when Redis does not answer, the process does the work itself; the work is idempotent,
    so doing it twice costs only time.
    """
    claim_seconds = max(1, int(every_seconds * 0.8))  # ends before the next round (>= 0.9)

    def run(container: Container) -> object:
        if container.redis is not None:
            try:
                claimed = container.redis.set(
                    f"dv-broker:task:{name}", os.getpid(), nx=True, ex=claim_seconds
                )
            except redis.RedisError:
                claimed = True
            if not claimed:
                return None
        return work(container)

    return run


def default_tasks(container: Container) -> list[PeriodicTask]:
    """The tasks every broker process runs."""
    return [
        PeriodicTask(
            "checkpoint", container.settings.checkpoint_interval_seconds, sign_checkpoint_if_grown
        ),
        PeriodicTask("reload_keys", RELOAD_SECONDS, reload_keys),
        PeriodicTask("webhooks", 5, deliver_notifications),
        PeriodicTask("purge", 3600, one_process_per_round("purge", 3600, purge_expired_signals)),
        PeriodicTask(
            "queries_without_follow_up",
            CHECK_EVERY_SECONDS,
            one_process_per_round(
                "queries_without_follow_up", CHECK_EVERY_SECONDS, check_queries_without_follow_up
            ),
        ),
    ]
