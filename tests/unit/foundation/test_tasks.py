"""Periodic tasks: each runs when due, and processes started together drift apart."""

from __future__ import annotations

from itertools import pairwise
from typing import cast

from broker.container import Container
from broker.tasks import PeriodicTask, TaskRunner


def runner(calls: list[float], every: float) -> tuple[TaskRunner, list[float]]:
    now = [0.0]
    task = PeriodicTask("tick", every, lambda _container: calls.append(now[0]))
    return TaskRunner(cast(Container, object()), [task]), now


def test_a_task_runs_at_once_then_again_about_every_period() -> None:
    calls: list[float] = []
    tasks, now = runner(calls, 10.0)
    for step in range(0, 1001):
        now[0] = step / 10
        tasks.run_due(now[0])
    assert calls[0] == 0.0
    gaps = [b - a for a, b in pairwise(calls)]
    assert gaps and all(9.0 <= gap <= 11.1 for gap in gaps)
    assert len(set(gaps)) > 1  # not the same period every time


def test_two_processes_started_together_do_not_stay_in_step() -> None:
    first: list[float] = []
    second: list[float] = []
    one, now_one = runner(first, 5.0)
    two, now_two = runner(second, 5.0)
    for step in range(0, 6001):
        now_one[0] = now_two[0] = step / 10
        one.run_due(now_one[0])
        two.run_due(now_two[0])
    together = set(first[1:]) & set(second[1:])
    assert len(together) < len(first) // 4
