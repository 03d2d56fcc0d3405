"""FastAPI dependencies shared by every endpoint: the container, the session, the caller."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from broker.auth.principal import Principal
from broker.auth.replay import AsyncReplayGuard
from broker.auth.tokens import REPLAYED_MESSAGE, replay_key
from broker.container import Container
from broker.errors import Forbidden, NotAuthenticated
from broker.transaction import transaction
from broker.types import Role


def container_of(request: Request) -> Container:
    """The application's wiring, created in the lifespan."""
    container: Container = request.app.state.container
    return container


async def get_container(request: Request) -> Container:
    """``container_of`` as a dependency.

    ``async`` because it does no I/O: FastAPI runs a plain ``def`` dependency in the
    thread pool, and a hop there and back costs more than the dependency itself.
    """
    return container_of(request)


ContainerDep = Annotated[Container, Depends(get_container)]


def get_session(container: ContainerDep) -> Iterator[Session]:
    """The request's transaction: committed with its log entries when the endpoint returns."""
    with transaction(container.engine, container.log) as session:
        yield session


# scope="function": the commit happens before the response is sent, never after.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_principal(request: Request, container: ContainerDep) -> Principal:
    """Authenticate the bearer token, in the event loop when that needs no blocking I/O.

    With a fresh organisation snapshot the signature and claims are checked here and the
    token id is recorded through an asyncio Redis client: no worker thread is taken before
    the endpoint's own. A stale snapshot is reloaded in a worker thread.
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated("A bearer token is required.")
    snapshot = container.organisations.fresh_snapshot()
    if snapshot is not None:
        principal = container.verifier.check(token, keys=snapshot)
    else:
        principal = await run_in_threadpool(container.verifier.check, token)
    replay: AsyncReplayGuard = request.app.state.replay
    if not await replay.first_use(replay_key(principal), expires_at=principal.expires_at):
        raise NotAuthenticated(REPLAYED_MESSAGE)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_role(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits callers holding any of ``roles``."""

    async def check(principal: PrincipalDep) -> Principal:  # no I/O: no thread hop
        if not any(principal.has_role(role) for role in roles):
            raise Forbidden("Your role does not allow this action.")
        return principal

    return check


AdminDep = Annotated[Principal, Depends(require_role(Role.ADMIN))]
