"""The authorization matrix, one vocabulary for every service (issue 12).

A service's matrix test declares, for each route it serves, which callers may call it
(`Rule`), and runs `check_rules` over HTTP with real tokens. The callers are always relative
to one subject, the employee the route is about (NIP `A` of OPD `X`, whose atasan is `B`):

    asn_self        A, as asn                   asn_other       a colleague of A, as asn
    atasan_own      B, A's atasan               atasan_other    an atasan of another OPD
    operator_own    an operator of OPD X        operator_other  an operator of another OPD
    bkpsdm, auditor, system                     city-wide roles (auditor never writes)

A refused caller must get 403 problem+json; an allowed caller anything but 401/403 (a 404 or
409 after an allowed caller changed the state is still "allowed"). Denied callers go first.
`render_table` writes the rules as the Markdown table docs/authz.md carries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests import factories
from tests.support import who

CALLERS = (
    "asn_self",
    "asn_other",
    "atasan_own",
    "atasan_other",
    "operator_own",
    "operator_other",
    "bkpsdm",
    "auditor",
    "system",
)
EVERYONE = frozenset(CALLERS)
CITY = frozenset({"bkpsdm", "auditor", "system"})  # city-wide readers
CITY_WRITERS = frozenset({"bkpsdm", "system"})
SELF_AND_ABOVE = frozenset({"asn_self", "atasan_own", "operator_own"}) | CITY
OPD_STAFF = frozenset({"operator_own"}) | CITY_WRITERS
NOBODY_BUT_WRITERS = CITY_WRITERS

# what each caller label is said as in docs/authz.md
LABELS = {
    "asn_self": "ASN (dirinya)",
    "asn_other": "ASN lain",
    "atasan_own": "atasan langsungnya",
    "atasan_other": "atasan lain",
    "operator_own": "operator OPD-nya",
    "operator_other": "operator OPD lain",
    "bkpsdm": "BKPSDM",
    "auditor": "auditor",
    "system": "akun layanan",
}


@dataclass(frozen=True)
class Rule:
    """`method path` may be called by `allowed` (caller labels). `path` is the OpenAPI
    template ("/api/v1/employees/{nip}/scans"); `check_rules` fills it from its `values` (and
    the rule's own `values`). `body`/`files`/`params` make a request the route accepts far
    enough to reach its check."""

    method: str
    path: str
    allowed: frozenset[str]
    values: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    params: Mapping[str, Any] | None = None
    files: Mapping[str, Any] | None = None
    content: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # e.g. the content type of `content`
    note: str = ""

    def __post_init__(self) -> None:
        unknown = set(self.allowed) - EVERYONE
        if unknown:
            raise ValueError(f"unknown callers {sorted(unknown)} in {self.method} {self.path}")


Headers = Callable[[str], Mapping[str, str]]
Cast = dict[str, tuple[str, str, str]]


def people(opd_x: str, opd_y: str) -> Cast:
    """caller -> (nip, role in the token, opd in the token), fresh NIPs; "plt" is an atasan
    of another OPD whom a test may delegate to stand in for A's atasan."""
    return {
        "asn_self": (factories.nip(), "asn", opd_x),
        "asn_other": (factories.nip(), "asn", opd_x),
        "atasan_own": (factories.nip(), "atasan", opd_x),
        "atasan_other": (factories.nip(), "atasan", opd_y),
        "plt": (factories.nip(), "atasan", opd_y),
        "operator_own": (factories.nip(), "operator", opd_x),
        "operator_other": (factories.nip(), "operator", opd_y),
        "bkpsdm": (factories.nip(), "bkpsdm", ""),
        "auditor": (factories.nip(), "auditor", ""),
        "system": ("", "system", ""),
    }


def headers_of(cast: Cast, *, plt: bool = False) -> Headers:
    """Real tokens for the cast; with `plt`, the Plt is the one calling as atasan_other."""

    def headers(caller: str) -> dict[str, str]:
        if plt and caller == "atasan_other":
            caller = "plt"
        nip, role, opd = cast[caller]
        return who(nip or None, role, opd or None)

    return headers


async def call(
    client: httpx.AsyncClient, rule: Rule, values: Mapping[str, str], headers: Mapping[str, str]
) -> httpx.Response:
    return await client.request(
        rule.method,
        rule.path.format(**{**values, **rule.values}),
        json=rule.body,
        params=rule.params,
        files=rule.files,
        content=rule.content,
        headers={**headers, **rule.headers},
    )


async def check_rules(
    client: httpx.AsyncClient,
    rules: Iterable[Rule],
    values: Mapping[str, str],
    headers_of: Headers,
    before_each: Callable[[Rule], Awaitable[None]] | None = None,
) -> list[str]:
    """Every rule × every caller; returns the failures (empty when the matrix holds)."""
    failures: list[str] = []
    for rule in rules:
        if before_each is not None:
            await before_each(rule)
        denied = [c for c in CALLERS if c not in rule.allowed]
        allowed = [c for c in CALLERS if c in rule.allowed]
        for caller in denied + allowed:
            res = await call(client, rule, values, headers_of(caller))
            if caller in rule.allowed and res.status_code in (401, 403):
                failures.append(f"{rule.method} {rule.path} as {caller}: refused {res.status_code}")
            elif caller not in rule.allowed:
                problem = res.headers.get("content-type", "").startswith("application/problem+json")
                if res.status_code != 403 or not problem:
                    failures.append(
                        f"{rule.method} {rule.path} as {caller}: {res.status_code}, expected 403"
                    )
    return failures


def uncovered(openapi: Mapping[str, Any], rules: Iterable[Rule]) -> list[str]:
    """Operations of an OpenAPI document that no rule covers (each must have one)."""
    covered = {(r.method.upper(), r.path) for r in rules}
    missing = []
    for path, ops in openapi.get("paths", {}).items():
        for method in ops:
            if (method.upper(), path) not in covered:
                missing.append(f"{method.upper()} {path}")
    return missing


def render_table(service: str, rules: Iterable[Rule]) -> str:
    """The Markdown table of one service for docs/authz.md."""
    lines = [
        f"### {service}",
        "",
        "| route | boleh dipanggil oleh |",
        "|---|---|",
    ]
    for r in sorted(rules, key=lambda r: (r.path, r.method)):
        who = ", ".join(LABELS[c] for c in CALLERS if c in r.allowed) or "tidak seorang pun"
        note = f" ({r.note})" if r.note else ""
        lines.append(f"| `{r.method.upper()} {r.path}` | {who}{note} |")
    return "\n".join(lines) + "\n"
