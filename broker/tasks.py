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
    """A named job and how often it runs.

    With ``one_per_round`` the processes that share Redis take turns: the first one of a
    round claims it for most of the period and the others skip it (the follow-up check
    reads a day of the log, and every process reading it each hour only repeated the same
    work). Without Redis (the embedded default, one process) or when Redis does not answer,
    the process does the work itself; such work is idempotent, so twice costs only time.
    """

    name: str
    every_seconds: float
    run: Callable[[Container], object]
    one_per_round: bool = False


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
            if task.one_per_round and not self._claim(task):
                continue
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

    def _claim(self, task: PeriodicTask) -> bool:
        """Whether this process does ``task``'s round (see ``PeriodicTask.one_per_round``)."""
        client = self._container.redis
        if client is None:
            return True
        # The claim ends before the next round can start (a round is >= 0.9 periods).
        seconds = max(1, int(task.every_seconds * 0.8))
        try:
            key = f"dv-broker:task:{task.name}"
            return bool(client.set(key, os.getpid(), nx=True, ex=seconds))
        except redis.RedisError:
            return True

    def _loop(self) -> None:
        import time

        while not self._stop.wait(1.0):
            self.run_due(time.monotonic())


def sign_checkpoint_if_grown(container: Container) -> None:
    """Sign a checkpoint when the log has grown since the last one."""
    from broker.db import unit_of_work

    with unit_of_work(container.engine) as session:
        container.log.latest(session)


def default_tasks(container: Container) -> list[PeriodicTask]:
    """The tasks every broker process runs."""
    return [
        PeriodicTask(
            "checkpoint", container.settings.checkpoint_interval_seconds, sign_checkpoint_if_grown
        ),
        PeriodicTask("reload_keys", RELOAD_SECONDS, reload_keys),
        PeriodicTask("webhooks", 5, deliver_notifications),
        PeriodicTask("purge", 3600, purge_expired_signals, one_per_round=True),
        PeriodicTask(
            "queries_without_follow_up",
            CHECK_EVERY_SECONDS,
            check_queries_without_follow_up,
            one_per_round=True,
        ),
    ]
