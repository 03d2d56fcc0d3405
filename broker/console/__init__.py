"""The web console for professionals and privacy officers (server-rendered, no JavaScript).

``broker.console.endpoints.router`` is mounted by ``create_app``; docs/console.md describes
the pages, the roles, the security choices and the OpenID Connect hook.
"""
