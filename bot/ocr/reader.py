"""Read a KTP photo on this machine, offline: find the card, straighten it, read its lines.

The engine is Tesseract (Debian's tesseract-ocr with the Indonesian and English models,
through tesserocr's in-process API); OpenCV finds the card's outline and undoes the
camera's rotation and slant. Nothing is downloaded at run time and nothing leaves the
machine. The e-KTP's layout is fixed, so each field is read from its place on the
straightened card; bot/core/ktp_text.py turns the lines into fields and cross-checks them.

Nothing read from a card is ever logged.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import tesserocr

from bot.core.ktp_text import KtpLines, KtpReading, interpret

__all__ = ["NotAnImage", "OcrUnavailable", "load", "read_ktp", "read_lines"]

# The straightened card, at the 856 x 540 layout of an ID-1 card at 10 px/mm, scaled up so
# that Tesseract sees text about 30 px tall.
SCALE = 1.6
CARD_W, CARD_H = 856, 540
# Where the lines are on the card at 1x (rows, top and bottom), when the print cannot say.
LAYOUT = {"nik": (106, 140), "name": (160, 181), "birth": (189, 213), "sex": (218, 240)}
NIK_BAND_MAX = 44  # px at 1x: the NIK label's height is about 30

TESSDATA_DIRS = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
)


class NotAnImage(ValueError):
    """The bytes are not a picture OpenCV can open."""


class OcrUnavailable(RuntimeError):
    """Tesseract's language data is not installed (Debian: tesseract-ocr-ind)."""


def _tessdata() -> str:
    configured = os.environ.get("TESSDATA_PREFIX")
    candidates = ([configured] if configured else []) + list(TESSDATA_DIRS)
    for folder in candidates:
        if folder and (Path(folder) / "ind.traineddata").exists():
            return folder
    raise OcrUnavailable(
        "Tesseract's Indonesian model is missing: apt-get install tesseract-ocr tesseract-ocr-ind"
    )


_local = threading.local()


def _api(kind: str) -> tesserocr.PyTessBaseAPI:
    """One engine per thread and kind (digits / text): loading a model takes ~100 ms."""
    key = f"api_{kind}"
    api = getattr(_local, key, None)
    if api is None:
        api = tesserocr.PyTessBaseAPI(
            path=_tessdata(),
            lang="ind+eng",
            psm=tesserocr.PSM.SINGLE_LINE,
            oem=tesserocr.OEM.LSTM_ONLY,
        )
        if kind == "digits":
            api.SetVariable("tessedit_char_whitelist", "0123456789")
        else:
            api.SetVariable(
                "tessedit_char_whitelist",
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'.,-:/ ",
            )
        setattr(_local, key, api)
    return api


def load() -> None:
    """Load the engine on this thread (about a second), before the first photo needs it."""
    _api("digits")
    _api("text")


def _decode(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if image is None:
        raise NotAnImage("not an image")
    return image


def _order(points: np.ndarray) -> np.ndarray:
    """Corners as top-left, top-right, bottom-right, bottom-left."""
    pts = points.reshape(4, 2).astype(np.float32)
    s, d = pts.sum(axis=1), np.diff(pts, axis=1).ravel()
    return np.array(
        [pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]],
        dtype=np.float32,
    )


def _find_card(image: np.ndarray) -> np.ndarray | None:
    """The card's four corners in `image`, or None when no card-shaped outline is found."""
    h, w = image.shape[:2]
    factor = 800 / max(h, w)
    small = cv2.resize(image, (int(w * factor), int(h * factor)), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    gray = cv2.GaussianBlur(gray, (5, 5), 0)
    area_min = 0.15 * small.shape[0] * small.shape[1]
    for low, high in ((30, 90), (15, 50), (50, 150)):
        edges = cv2.dilate(cv2.Canny(gray, low, high), np.ones((3, 3), np.uint8))
        contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:5]:
            if cv2.contourArea(contour) < area_min:
                break
            hull = cv2.convexHull(contour)
            peri = cv2.arcLength(hull, True)
            for eps in (0.02, 0.03, 0.05):
                approx = cv2.approxPolyDP(hull, eps * peri, True)
                if len(approx) == 4:
                    return _order(approx / factor)
            rect = cv2.boxPoints(cv2.minAreaRect(hull))
            return _order(rect / factor)
    return None


def _straighten(image: np.ndarray) -> np.ndarray:
    return _card(image)[0]


def _card(image: np.ndarray) -> tuple[np.ndarray, bool]:
    """The card straightened to the layout's size, and whether its outline was found (if
    not, the whole photo is taken for the card)."""
    corners = _find_card(image)
    out_w, out_h = int(CARD_W * SCALE), int(CARD_H * SCALE)
    if corners is None:
        return cv2.resize(image, (out_w, out_h), interpolation=cv2.INTER_CUBIC), False
    top = np.linalg.norm(corners[1] - corners[0])
    left = np.linalg.norm(corners[3] - corners[0])
    if left > top:  # the card was photographed upright: turn it back to landscape
        corners = np.roll(corners, -1, axis=0)
    target = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(corners, target)
    return cv2.warpPerspective(image, matrix, (out_w, out_h), flags=cv2.INTER_CUBIC), True


def _ink(card: np.ndarray) -> np.ndarray:
    """Dark print as 1, the rest 0. The red channel drops the card's blue print and the red
    SPESIMEN overprint (both light there); the text stays dark."""
    red = card[:, :, 2]
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 8))
    red = clahe.apply(red)
    binary = cv2.adaptiveThreshold(
        red, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 51, 25
    )
    return binary


def _bands(ink: np.ndarray, x0: int, x1: int) -> list[tuple[int, int]]:
    """The text lines between columns x0 and x1, as (top, bottom) rows."""
    profile = ink[:, x0:x1].sum(axis=1)
    on = profile > max(3, 0.015 * (x1 - x0))
    bands, start = [], None
    for y, lit in enumerate(on):
        if lit and start is None:
            start = y
        elif not lit and start is not None:
            if y - start >= 6 * SCALE:
                bands.append((start, y))
            start = None
    if start is not None and len(on) - start >= 6 * SCALE:
        bands.append((start, len(on)))
    return bands


def _locate(card: np.ndarray) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """The NIK line and the header's first line (top, bottom rows), found from the print.

    The label column (left of the colons) holds short, well separated lines, and the NIK
    label is the tallest of them in the top half; the header is above it."""
    ink = _ink(card)
    s = SCALE
    labels = [b for b in _bands(ink, int(28 * s), int(212 * s)) if b[0] < card.shape[0] * 0.5]
    # Two lines run together (glare, the overprint) are taller than the NIK label ever is.
    labels = [b for b in labels if b[1] - b[0] <= NIK_BAND_MAX * s] or labels
    if not labels:
        return None, None
    nik = max(labels, key=lambda b: b[1] - b[0])
    header = [b for b in _bands(ink, int(100 * s), int(756 * s)) if b[1] <= nik[0] + 2]
    return nik, (header[0] if header else None)


def _flatten(crop: np.ndarray) -> np.ndarray:
    """Divide out the slowly varying light (shade, glare) so only the print's contrast stays."""
    background = cv2.GaussianBlur(crop, (0, 0), 12).astype(np.float32) + 1.0
    return np.clip(crop.astype(np.float32) / background * 200.0, 0, 255).astype(np.uint8)


def _crop(
    card: np.ndarray, x0: int, y0: int, x1: int, y1: int, binary: bool = False
) -> np.ndarray:
    crop = np.ascontiguousarray(card[max(0, y0) : max(0, y1), max(0, x0) : x1, 2])
    if crop.size == 0:
        return crop
    flat = _flatten(crop)
    if binary:
        return cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
    low, high = int(flat.min()), int(flat.max())
    stretched = (flat.astype(np.float32) - low) * (255.0 / max(1, high - low))
    return stretched.astype(np.uint8)


def _ocr_line(crop: np.ndarray, kind: str) -> tuple[str, float]:
    api = _api(kind)
    h, w = crop.shape
    if crop.ndim != 2 or h < 4 or w < 4:
        return "", 0.0
    api.SetPageSegMode(tesserocr.PSM.SINGLE_LINE)
    api.SetImageBytes(crop.tobytes(), w, h, 1, w)
    api.Recognize()
    text = api.GetUTF8Text().strip()
    if kind != "digits":
        return text, float(api.MeanTextConf())
    # A NIK is only as sure as its least sure digit.
    confidences = []
    iterator = api.GetIterator()
    while True:
        try:
            symbol = iterator.GetUTF8Text(tesserocr.RIL.SYMBOL)
        except RuntimeError:
            symbol = ""
        if symbol.strip():
            confidences.append(float(iterator.Confidence(tesserocr.RIL.SYMBOL)))
        if not iterator.Next(tesserocr.RIL.SYMBOL):
            break
    return text, min(confidences, default=0.0)


def _nik_crop(card: np.ndarray, band: tuple[int, int], binary: bool) -> np.ndarray:
    pad = int(5 * SCALE)
    return _crop(card, int(145 * SCALE), band[0] - pad, int(650 * SCALE), band[1] + pad, binary)


def _field_crop(
    card: np.ndarray, band: tuple[int, int], right: int, binary: bool = False
) -> np.ndarray:
    pad = int(5 * SCALE)
    return _crop(card, int(222 * SCALE), band[0] - pad, int(right * SCALE), band[1] + pad, binary)


def _zoom(crop: np.ndarray, factor: float) -> np.ndarray:
    """The crop larger or smaller: Tesseract tells some blurred digits apart at another size."""
    if factor == 1.0 or crop.size == 0:
        return crop
    method = cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA
    return cv2.resize(crop, None, fx=factor, fy=factor, interpolation=method)


def _layout(key: str, nik_band: tuple[int, int] | None) -> tuple[int, int]:
    """Where the card's fixed layout puts line `key`: below the NIK line found, or, when none
    was found, where it is printed on a card straightened edge to edge."""
    top, bottom = LAYOUT[key]
    shift = 0 if nik_band is None else nik_band[0] / SCALE - LAYOUT["nik"][0]
    return int((top + shift) * SCALE), int((bottom + shift) * SCALE)


def _read_card(card: np.ndarray) -> tuple[KtpLines, tuple[int, int] | None]:
    """The lines found from the print, and the NIK line's rows (None if not found)."""
    nik_band, header = _locate(card)
    if nik_band is None:
        return KtpLines(), None
    s = SCALE
    nik = _ocr_line(_nik_crop(card, nik_band, binary=True), "digits")
    # The labels' column has short, well separated lines: it says where each row is.
    rows = [b for b in _bands(_ink(card), int(28 * s), int(212 * s)) if b[0] >= nik_band[1] - 2]
    values: dict[str, tuple[str, float]] = {}
    for key, band, right in zip(("name", "birth", "sex"), rows, (650, 650, 436), strict=False):
        values[key] = _ocr_line(_field_crop(card, band, right), "text")
    pad = int(5 * s)
    province = (
        _ocr_line(
            _crop(card, int(100 * s), header[0] - pad, int(756 * s), header[1] + pad), "text"
        )
        if header
        else ("", 0.0)
    )
    lines = KtpLines(
        nik=nik,
        name=values.get("name", ("", 0.0)),
        birth=values.get("birth", ("", 0.0)),
        sex=values.get("sex", ("", 0.0)),
        province=province,
    )
    return lines, nik_band


class _Once:
    """A line read on first use only: most pairings reuse the same reads."""

    def __init__(self, read: Callable[[], tuple[str, float]]) -> None:
        self._read = read
        self._value: tuple[str, float] | None = None

    def __call__(self) -> tuple[str, float]:
        if self._value is None:
            self._value = self._read()
        return self._value


def _read_nik(card: np.ndarray, band: tuple[int, int], binary: bool) -> tuple[str, float]:
    return _ocr_line(_nik_crop(card, band, binary), "digits")


def _read_birth(
    card: np.ndarray, band: tuple[int, int], binary: bool, zoom: float
) -> tuple[str, float]:
    return _ocr_line(_zoom(_field_crop(card, band, 650, binary), zoom), "text")


def _second_reads(
    card: np.ndarray, lines: KtpLines, nik_band: tuple[int, int] | None
) -> Iterator[KtpLines]:
    """The NIK and birth lines read other ways (the other binarisation, the fixed layout's
    rows), paired with each other and with the first reads. Only tried when the first read
    gave no NIK the card confirms; each pairing still has to pass every cross-check."""
    niks = [_Once(lambda: lines.nik)]
    births = [_Once(lambda: lines.birth)]
    bands = [nik_band] if nik_band is not None else []
    layout_nik = _layout("nik", None)
    if nik_band is None or abs(nik_band[0] - layout_nik[0]) > 8 * SCALE:
        bands.append(layout_nik)
    for band in bands:
        for binary in (False, True):
            if band != nik_band or not binary:  # binarised at the found band: the first read
                niks.append(_Once(partial(_read_nik, card, band, binary)))
        birth = _layout("birth", band)
        for binary, zoom in ((False, 1.5), (True, 1.0), (False, 1.0), (False, 0.75)):
            births.append(_Once(partial(_read_birth, card, birth, binary, zoom)))
    for n, nik in enumerate(niks):
        for b, born in enumerate(births):
            if n or b:
                yield replace(lines, nik=nik(), birth=born())


def read_lines(data: bytes) -> KtpLines:
    """The raw lines of the card in `data` (JPEG/PNG bytes), as first read."""
    return _read_card(_straighten(_decode(data)))[0]


def read_ktp(data: bytes, today: date) -> KtpReading:
    """The fields of the KTP photographed in `data`; raises NotAnImage or OcrUnavailable.

    When the first read gives no NIK the card itself confirms, the NIK and birth lines are
    read again other ways, and the first pairing that passes every check gives the NIK and
    birth date; the other fields stay as first read."""
    card, outlined = _card(_decode(data))
    lines, nik_band = _read_card(card)
    reading = interpret(lines, today)
    if reading.nik is not None or nik_band is None or not outlined:
        return reading  # read, or no card found in the photo: nothing to read again
    for other in _second_reads(card, lines, nik_band):
        second = interpret(other, today)
        if second.nik is not None:
            return replace(
                second,
                name=reading.name or second.name,
                birth_place=reading.birth_place or second.birth_place,
                sex=reading.sex or second.sex,
            )
    return reading
