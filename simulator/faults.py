"""Fault injection: the ways the real Bot API misbehaves, on demand.

Whether the requested action happened matters to a bot that retries, so each kind is
explicit about it:

- "429": Too Many Requests with `retry_after`; the action is NOT performed (Telegram
  refuses before doing anything).
- "500", "502": an internal error / the nginx gateway error page; NOT performed. Real
  Telegram can in rare cases have done the work anyway; "timeout" covers that case.
- "drop": the connection is closed without any response; NOT performed.
- "timeout": the action IS performed, then the answer is held for `timeout_delay`
  seconds, longer than the client waits, so the client sees a timeout although the
  message exists. Retrying blindly therefore creates duplicates, as with Telegram.

`latency` is a round trip added to every call the faults apply to (see `methods` and
`exclude`): half before the call is handled, half before it is answered.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["FAULT_KINDS", "Faults"]

FAULT_KINDS = frozenset({"429", "500", "502", "timeout", "drop"})


@dataclass
class Faults:
    latency: float = 0.0
    rate: float = 0.0  # share of eligible calls that fail, 0..1
    kinds: set[str] = field(default_factory=lambda: set(FAULT_KINDS))
    retry_after: int = 1
    timeout_delay: float = 3.0
    methods: set[str] | None = None  # None: every method (minus `exclude`)
    exclude: set[str] = field(default_factory=set)  # e.g. {"getUpdates"}
    seed: int | None = None
    rng: random.Random = field(init=False, repr=False)
    counts: Counter[str] = field(default_factory=Counter, init=False)
    _scripted: list[tuple[str, str | None]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.kinds = set(self.kinds)
        unknown = self.kinds - FAULT_KINDS
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; use {sorted(FAULT_KINDS)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        self.rng = random.Random(self.seed)

    def applies_to(self, method: str) -> bool:
        name = method.lower()
        if name in {m.lower() for m in self.exclude}:
            return False
        return self.methods is None or name in {m.lower() for m in self.methods}

    def inject(self, kind: str, *, method: str | None = None, times: int = 1) -> None:
        """Fail the next `times` calls (of `method`, or any eligible one) with `kind`.

        Deterministic, unlike `rate`; useful for "the next sendMessage gets a 429".
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        self._scripted.extend([(kind, method)] * times)

    def decide(self, method: str) -> str | None:
        """The fault for this call, if any; counted as injected."""
        kind = self._take_scripted(method)
        eligible = kind is None and self.rate > 0 and self.kinds and self.applies_to(method)
        if eligible and self.rng.random() < self.rate:
            kind = self.rng.choice(sorted(self.kinds))
        if kind is not None:
            self.counts[kind] += 1
        return kind

    def _take_scripted(self, method: str) -> str | None:
        for index, (kind, target) in enumerate(self._scripted):
            if (target is None and self.applies_to(method)) or (
                target is not None and target.lower() == method.lower()
            ):
                del self._scripted[index]
                return kind
        return None

    def delay_for(self, method: str) -> float:
        return self.latency if self.latency > 0 and self.applies_to(method) else 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())
