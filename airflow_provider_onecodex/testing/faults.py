"""Fault injection and request accounting for the One Codex API simulator.

The real service sits behind load balancers and proxies: clients see 429 rate limits, 5xx pages
from nginx (HTML, not JSON), reset connections, hung requests, truncated bodies and list pages
whose items moved. :class:`FaultInjector` decides per request whether to inject one of these
(scripted, one fault per matching request, or at a seeded random rate); :class:`FaultLayer` is the
ASGI layer that applies the decision in front of the FastAPI app and records every request in a
:class:`RequestLog`. Admin routes (``/_sim/...``) are never faulted nor logged.
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast, get_args

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FaultKind = Literal["status", "reset", "hang", "slow", "html200", "truncated", "vanish", "no_total"]
BodyStyle = Literal["json", "html", "empty"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
ADMIN_PREFIX = "/_sim/"


class _Shortcut:
    """``Fault.<kind>(value=None, **options)``: a fault of that kind; ``value`` sets the one option
    the kind takes (``Fault.hang(5)`` is ``Fault("hang", hang_for=5)``), other options go by name
    (``Fault.reset(after=True)``); an option not given keeps its default."""

    def __init__(self, option: str | None = None) -> None:
        self.option = option
        self.kind = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.kind = name

    def __get__(self, instance: object, owner: type[Fault]) -> Callable[..., Fault]:
        def make(value: Any = None, **options: Any) -> Fault:
            if value is not None:
                if self.option is None:
                    raise TypeError(f"Fault.{self.kind}() takes options by name only, got {value!r}")
                options[self.option] = value
            return owner(cast(FaultKind, self.kind), **options)

        return make


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour.

    :param kind: ``status`` (error response), ``reset`` (connection aborted, no response), ``hang``
        (never answers), ``slow`` (answers after ``delay`` s), ``html200`` (200 with an HTML page),
        ``truncated`` (200 JSON cut in half), ``vanish`` (list page minus ``drop`` items),
        ``no_total`` (list page without ``X-Total-Count`` and ``Link``).
    :param status: HTTP status for ``status`` faults.
    :param body: ``json`` (``{"message", "status"}``), ``html`` (nginx-like page) or ``empty``.
    :param retry_after: ``Retry-After`` header: seconds (int) or an HTTP date string.
    :param after: ``status`` and ``reset`` only: serve the request first (the server acts, e.g. a
        run POST creates its analysis), then answer the error or drop the connection instead of
        the response, as when a proxy or the network fails on the way back.
    """

    kind: FaultKind
    status: int = 503
    body: BodyStyle = "json"
    retry_after: int | str | None = None
    delay: float = 1.0
    hang_for: float = 3600.0
    drop: int = 1
    after: bool = False

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.after and self.kind not in ("status", "reset"):
            raise ValueError(f"after=True applies to 'status' and 'reset' faults, not {self.kind!r}")
        if self.body not in get_args(BodyStyle):
            raise ValueError(f"unknown body style {self.body!r}")
        if not 100 <= self.status <= 599:
            raise ValueError(f"invalid HTTP status {self.status}")

    @classmethod
    def http_error(
        cls, status: int = 503, body: BodyStyle = "json", retry_after: int | str | None = None
    ) -> Fault:
        """An error response, e.g. ``Fault.http_error(429, retry_after=2)``."""
        return cls("status", status=status, body=body, retry_after=retry_after)

    # one shortcut per kind (``status``: :meth:`http_error`); its argument is the kind's one option
    reset = _Shortcut()
    hang = _Shortcut("hang_for")
    slow = _Shortcut("delay")
    html200 = _Shortcut()
    truncated = _Shortcut()
    vanish = _Shortcut("drop")
    no_total = _Shortcut()

    @classmethod
    def parse(cls, spec: Fault | str | int | Mapping[str, Any]) -> Fault:
        """Build a fault from a :class:`Fault`, a kind name, a status code (``503``, ``"429"``) or
        a dict such as ``{"kind": "status", "status": 429, "retry_after": 2}`` (``code`` is an
        alias of ``status``; a dict with only ``status`` is a ``status`` fault)."""
        if isinstance(spec, Fault):
            return spec
        if isinstance(spec, bool):
            raise ValueError(f"invalid fault {spec!r}")
        if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
            return cls.http_error(int(spec))
        if isinstance(spec, str):
            return cls(cast(FaultKind, spec))
        if isinstance(spec, Mapping):
            data = dict(spec)
            if "code" in data:
                data["status"] = data.pop("code")
            data.setdefault("kind", "status")
            unknown = set(data) - {f for f in cls.__dataclass_fields__}
            if unknown:
                raise ValueError(f"unknown fault keys {sorted(unknown)}")
            return cls(**data)
        raise ValueError(f"invalid fault {spec!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


FaultSpec = Fault | str | int | Mapping[str, Any]


@dataclass
class _Rule:
    """Which requests a rule applies to, and either a script or a rate."""

    path_prefix: str | None
    path_regex: re.Pattern[str] | None
    method: str | None
    script: deque[Fault | None] | None = None
    rate: float = 0.0
    kinds: list[Fault] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.path_prefix is not None and not path.startswith(self.path_prefix):
            return False
        return self.path_regex is None or self.path_regex.search(path) is not None

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path_prefix": self.path_prefix,
            "path_regex": self.path_regex.pattern if self.path_regex else None,
            "method": self.method,
        }
        if self.script is not None:
            out["mode"] = "script"
            out["remaining"] = [f.to_dict() if f else None for f in self.script]
        else:
            out["mode"] = "rate"
            out["rate"] = self.rate
            out["kinds"] = [f.to_dict() for f in self.kinds]
        return out


class FaultInjector:
    """Decides, per request, which fault (if any) to inject. Thread-safe.

    Scripted rules are consulted before rate rules, each group in the order added; the first
    matching rule decides. A script entry of ``None`` lets that request through; a script is
    dropped once consumed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: list[_Rule] = []
        self._rates: list[_Rule] = []
        self._counts: Counter[str] = Counter()
        #: set when the server stops, so hanging/slow requests end at once
        self.closing = threading.Event()

    def script(
        self,
        path_prefix: str | None = None,
        faults: Iterable[FaultSpec | None] = (),
        *,
        method: str | None = None,
        path_regex: str | None = None,
    ) -> None:
        """Inject ``faults`` one per matching request, in order (``None`` = pass through)."""
        rule = _Rule(path_prefix, _compile(path_regex), _method(method))
        rule.script = deque(None if f is None else Fault.parse(f) for f in faults)
        with self._lock:
            self._scripts.append(rule)

    def set_rate(
        self,
        rate: float,
        kinds: Iterable[FaultSpec] = ("status",),
        *,
        seed: int | None = None,
        path_prefix: str | None = None,
        method: str | None = None,
        path_regex: str | None = None,
    ) -> None:
        """Inject one of ``kinds`` (uniformly) into a ``rate`` fraction of matching requests.

        Replaces any rate rule with the same matcher; ``rate=0`` just removes it.
        """
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        rule = _Rule(path_prefix, _compile(path_regex), _method(method), rate=rate)
        rule.kinds = [Fault.parse(k) for k in kinds]
        if rate > 0 and not rule.kinds:
            raise ValueError("kinds must not be empty")
        rule.rng = random.Random(seed)
        key = (rule.path_prefix, rule.path_regex, rule.method)
        with self._lock:
            self._rates = [r for r in self._rates if (r.path_prefix, r.path_regex, r.method) != key]
            if rate > 0:
                self._rates.append(rule)

    def clear(self) -> None:
        """Remove every rule (counters are kept; see :meth:`reset_counts`)."""
        with self._lock:
            self._scripts.clear()
            self._rates.clear()

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()

    def pick(self, method: str, path: str) -> Fault | None:
        """The fault for this request, counted by kind; ``None`` to serve it normally."""
        with self._lock:
            fault = self._pick_locked(method, path)
            if fault is not None:
                self._counts[fault.kind] += 1
            return fault

    def _pick_locked(self, method: str, path: str) -> Fault | None:
        for rule in self._scripts:
            if rule.matches(method, path) and rule.script:
                fault = rule.script.popleft()
                if not rule.script:
                    self._scripts.remove(rule)
                return fault
        for rule in self._rates:
            if rule.matches(method, path):
                if rule.rng.random() < rule.rate:
                    return rule.rng.choice(rule.kinds)
                return None
        return None

    @property
    def counts(self) -> dict[str, int]:
        """Injected faults by kind."""
        with self._lock:
            return dict(self._counts)

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.describe() for r in (*self._scripts, *self._rates)]


def _compile(regex: str | None) -> re.Pattern[str] | None:
    return re.compile(regex) if regex is not None else None


def _method(method: str | None) -> str | None:
    return method.upper() if method else None


# the request log lived here; kept importable from this module
from airflow_provider_onecodex.testing.requestlog import RequestLog, RequestRecord  # noqa: E402

__all__ = ["FAULT_KINDS", "Fault", "FaultInjector", "FaultKind", "RequestLog", "RequestRecord"]
