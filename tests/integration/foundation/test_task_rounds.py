"""Periodic work that one process per round does for all, where the processes share Redis."""

from __future__ import annotations

import redis

from broker.container import Container
from broker.tasks import PeriodicTask, TaskRunner


def shared_round(name: str, done: list[str]) -> PeriodicTask:
    return PeriodicTask(name, 3600, lambda _c: done.append("work"), one_per_round=True)


def test_a_round_is_done_once_where_redis_is_shared_else_by_each_process(
    clean: Container,
) -> None:
    done: list[str] = []
    task = shared_round("test-round", done)
    TaskRunner(clean, [task]).run_due(0.0)
    TaskRunner(clean, [task]).run_due(0.0)  # another process in the same round
    assert done == (["work"] if clean.redis is not None else ["work", "work"])


def test_without_an_answer_from_redis_the_process_does_the_work(clean: Container) -> None:
    class Down:
        def set(self, *_args: object, **_kwargs: object) -> bool:
            raise redis.ConnectionError("down")

    done: list[str] = []
    task = shared_round("test-round-down", done)
    saved, clean.redis = clean.redis, Down()  # type: ignore[assignment]
    try:
        TaskRunner(clean, [task]).run_due(0.0)
    finally:
        clean.redis = saved
    assert done == ["work"]
