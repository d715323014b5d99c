"""Microbenchmarks: one operation at a time, in this process, wall-clock per call.

Each operation runs a few times unmeasured first (fonts, caches, imports), then `n` times;
the report gives the median and p95. Every badge gets its own token, as in production, so
the QR encoder's cache never hides its cost.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from PIL import Image, ImageEnhance, ImageFilter

from bench.visits import nik_for
from bot.core.badge import (
    BadgeCard,
    render_badge_files,
    render_badge_image,
    render_badge_pdf,
    render_badge_png,
)
from bot.core.nik import validate_nik
from bot.core.qr import decode_badge_token
from bot.core.tokens import deep_link, new_credentials

SECRET = b"bench-signing-secret-0123456789abcdef"
BOT = "AksesBenchBot"


@dataclass(frozen=True)
class Timing:
    name: str
    samples: list[float]  # seconds per call
    target: float | None = None  # seconds
    note: str = ""

    def _at(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]

    @property
    def median(self) -> float:
        return self._at(0.5)

    @property
    def p95(self) -> float:
        return self._at(0.95)

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.median <= self.target


def repeat(fn: Callable[[int], object], n: int, warmup: int = 3) -> list[float]:
    for i in range(warmup):
        fn(-1 - i)
    samples = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - start)
    return samples


def badge_card(n: int) -> BadgeCard:
    """A realistic badge: a long organisation name, a fresh token."""
    creds = new_credentials(SECRET, abs(n) + 1)
    return BadgeCard(
        name="Ayu Lestari Wulandari",
        organisation="PT Jaringan Nusantara Telekomunikasi Indonesia",
        reference=f"KRS-2026-{abs(n) + 1:05d}",
        valid_until=datetime(2026, 11, 28, 3, 30, tzinfo=UTC),
        link=deep_link(BOT, creds.token),
        code=creds.code,
        office="Dinas Komunikasi dan Informatika Kabupaten Lumajang",
    )


def phone_photo(card: BadgeCard, size: tuple[int, int] = (1280, 960), seed: int = 1) -> bytes:
    """The badge as a phone camera sees it on a desk: tilted, keystoned, soft, JPEG.

    1280 px is the long side of a photo as Telegram delivers it by default.
    """
    rng = random.Random(seed)
    desk = Image.blend(
        Image.new("RGB", size, (120, 110, 95)),
        Image.effect_noise(size, 24).convert("RGB"),
        0.25,
    )
    badge = render_badge_image(card)
    height = int(size[1] * 0.85)
    badge = badge.resize((badge.width * height // badge.height, height), Image.Resampling.BICUBIC)
    w, h = badge.size
    # Keystone: the top edge a little narrower, as when the phone is not held square.
    inset = int(w * 0.06)
    coeffs = _perspective(
        [(inset, 0), (w - inset, 0), (w, h), (0, h)], [(0, 0), (w, 0), (w, h), (0, h)]
    )
    badge = badge.convert("RGBA").transform((w, h), Image.Transform.PERSPECTIVE, coeffs)
    badge = badge.rotate(rng.uniform(7, 11), resample=Image.Resampling.BICUBIC, expand=True)
    desk.paste(badge, ((size[0] - badge.width) // 2, (size[1] - badge.height) // 2), badge)
    photo = ImageEnhance.Brightness(desk).enhance(0.9).filter(ImageFilter.GaussianBlur(1.2))
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=75)
    return out.getvalue()


def _perspective(
    target: list[tuple[int, int]], source: list[tuple[int, int]]
) -> tuple[float, ...]:
    """Coefficients for Image.transform(PERSPECTIVE) mapping `target` corners to `source`."""
    rows: list[list[float]] = []
    rhs: list[float] = []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return tuple(_solve(rows, rhs))


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (8x8; no numpy needed)."""
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                f = m[r][col] / m[col][col]
                m[r] = [x - f * y for x, y in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def badge_png(n: int = 30) -> Timing:
    return Timing("Badge render, PNG", repeat(lambda i: render_badge_png(badge_card(i)), n), 0.030)


def badge_pdf(n: int = 15) -> Timing:
    return Timing(
        "Badge render, PDF (ID-1 page)", repeat(lambda i: render_badge_pdf(badge_card(i)), n)
    )


def badge_both(n: int = 15) -> Timing:
    """What the approval does: the PNG and the PDF of one badge (the PDF wraps the PNG)."""
    return Timing(
        "Badge render, PNG + PDF of one badge (as approving does)",
        repeat(lambda i: render_badge_files(badge_card(1000 + i)), n),
    )


def qr_decode(
    n: int = 30, size: tuple[int, int] = (1280, 960), target: float | None = 0.020
) -> Timing:
    card = badge_card(0)
    photo = phone_photo(card, size)
    token = decode_badge_token(photo, BOT)
    if token is None or token not in card.link:
        raise AssertionError("the phone-like photo of the badge did not decode")
    return Timing(
        f"QR decode, phone-like photo {size[0]}x{size[1]} JPEG ({len(photo) // 1024} KB)",
        repeat(lambda i: decode_badge_token(photo, BOT), n),
        target,
        "tilted ~9°, keystoned, blurred, JPEG q75; includes JPEG decoding",
    )


def nik_validation(n: int = 20_000) -> Timing:
    niks = [nik_for(i) for i in range(1000)]
    today = date(2026, 11, 28)
    batch = 100

    def run(i: int) -> None:
        for j in range(batch):
            validate_nik(niks[(i * batch + j) % len(niks)], today)

    samples = [s / batch for s in repeat(run, n // batch)]
    return Timing("NIK validation", samples)


def seconds_text(value: float) -> str:
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 0.001:
        return f"{value * 1000:.1f} ms"
    return f"{value * 1_000_000:.1f} µs"
