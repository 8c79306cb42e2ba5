"""SMART scopes, v1 and v2 alike: which held scope grants which wanted one.

    v1  system/Claim.read | .write | .*          read = rs, write = cud, * = cruds (SMART v2 mapping)
    v2  system/Claim.c | .rs | .cruds            letters in the order c, r, u, d, s
        system/*.read, system/*.cruds            a `*` resource stands for every resource

A held scope grants a wanted one when the context (`system`, `ops`, ...) is the same, the
resource is the same or held as `*`, and every permission wanted is held. v2 granular scopes
(`?category=...`) grant nothing here (the service defines none). Scopes without a dot
(`ops/admin`) grant only themselves.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

V2_LETTERS = "cruds"
_V1 = {"read": frozenset("rs"), "write": frozenset("cud"), "*": frozenset(V2_LETTERS)}


class ParsedScope(NamedTuple):
    context: str
    resource: str
    permissions: frozenset[str]


def parse_scope(scope: str) -> ParsedScope | None:
    """`context/Resource.permissions`, or None when the scope is not of that shape."""
    context, slash, rest = scope.partition("/")
    resource, dot, action = rest.rpartition(".")
    if not slash or not dot or not context or not resource or "?" in action:
        return None
    if action in _V1:
        return ParsedScope(context, resource, _V1[action])
    if not action or any(letter not in V2_LETTERS for letter in action):
        return None
    positions = [V2_LETTERS.index(letter) for letter in action]
    if positions != sorted(set(positions)):
        return None  # v2 letters are unique and in c, r, u, d, s order
    return ParsedScope(context, resource, frozenset(action))


@lru_cache(maxsize=4096)  # a few scopes per client, a few wanted per route: every request asks again
def grants(held: str, wanted: str) -> bool:
    """Whether holding `held` allows what `wanted` asks for."""
    if held == wanted:
        return True
    have, want = parse_scope(held), parse_scope(wanted)
    if have is None or want is None or have.context != want.context:
        return False
    if have.resource not in ("*", want.resource):
        return False
    return want.permissions <= have.permissions


def granted_by_any(held: frozenset[str] | set[str], wanted: str) -> bool:
    return any(grants(scope, wanted) for scope in held)


def narrowed(requested: str, registered: str) -> str | None:
    """What a wildcard request (`system/*.rs`) grants of one registered scope: the registered resource with
    the permissions both hold, as v2 letters (`system/Subscription.rs` of `system/Subscription.*`), or None."""
    want, have = parse_scope(requested), parse_scope(registered)
    if want is None or have is None or want.context != have.context:
        return None
    if want.resource not in ("*", have.resource) or have.resource == "*":
        return None
    both = want.permissions & have.permissions
    if not both:
        return None
    return f"{have.context}/{have.resource}.{''.join(letter for letter in V2_LETTERS if letter in both)}"
