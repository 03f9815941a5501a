"""PNG images of plotly figures, rendered on the server by one persistent kaleido browser per process.

kaleido 1.x starts a headless Chromium for every one-shot export (~3 s). Here one `kaleido.Kaleido`
browser is opened lazily on a private asyncio loop in a daemon thread and reused (~0.2 s per image).
Renders are serialised by a lock: concurrent exports through one kaleido browser have been seen to
return each other's images. A render that fails or times out closes the browser; the next call
starts a fresh one. kaleido finds Debian's /usr/bin/chromium by itself (BROWSER_PATH overrides).

    png = figure_png(fig, 900, 400, caption="Top 10 debtors | as of 2024-03-01 | scope: all customers")
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import io
import logging
import struct
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from dashboard.config import get_settings

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0  # seconds to start the browser
RENDER_TIMEOUT = 30.0  # seconds for one image
CAPTION_FONT = 11  # pixels at scale 1
CAPTION_LINE = 1.45  # line height / font size
CAPTION_PAD = 8  # pixels around the caption text
CAPTION_COLOR = "#495057"
CAPTION_RULE = "#dee2e6"
MAX_SIDE = 4000  # pixels, before scale


class TooManyPixels(ValueError):
    """An export larger than the pixel cap (AR_EXPORT_MAX_PIXELS)."""

    def __init__(self, pixels: int, limit: int) -> None:
        super().__init__(
            f"the image would have {pixels:,} pixels (width x height x scale²); the limit is "
            f"{limit:,} pixels (AR_EXPORT_MAX_PIXELS): lower width, height or scale"
        )
        self.pixels = pixels
        self.limit = limit


def check_pixels(width: int, height: int, scale: float, limit: int | None = None) -> None:
    """Raise TooManyPixels when width x height at scale exceeds the cap."""
    limit = get_settings().export_max_pixels if limit is None else limit
    pixels = round(width * scale) * round(height * scale)
    if pixels > limit:
        raise TooManyPixels(pixels, limit)


class RenderError(RuntimeError):
    """The chart could not be rendered (no browser, a crash, a timeout)."""


class _KaleidoServer:
    """One kaleido browser on its own event loop thread; render() is thread-safe and serialised."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None
        self.started_at: float | None = None

    @property
    def running(self) -> bool:
        """True while a browser is open."""
        return self._kaleido is not None

    def _start(self) -> None:
        """Open the loop thread and the browser (caller holds the lock)."""
        import kaleido  # lazy (b): PNG exports only, 40 ms

        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="kaleido-loop", daemon=True)
        thread.start()

        async def open_browser() -> Any:
            # mathjax=False: no CDN fetch on a closed network; plotly.js comes from the plotly package.
            browser = kaleido.Kaleido(n=1, timeout=RENDER_TIMEOUT, mathjax=False)
            await browser.open()
            return browser

        try:
            self._kaleido = asyncio.run_coroutine_threadsafe(open_browser(), loop).result(
                START_TIMEOUT
            )
        except BaseException as error:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            raise RenderError(
                f"could not start the chart renderer (kaleido/chromium): {error}"
            ) from error
        self._loop, self._thread = loop, thread
        self.started_at = time.time()
        log.info("kaleido browser started")

    def _stop(self) -> None:
        """Close the browser and the loop (caller holds the lock)."""
        loop, browser, thread = self._loop, self._kaleido, self._thread
        self._loop = self._kaleido = self._thread = None
        self.started_at = None
        if loop is None:
            return
        if browser is not None:
            try:
                asyncio.run_coroutine_threadsafe(browser.close(), loop).result(10)
            except BaseException as error:  # noqa: BLE001 - best effort on shutdown
                log.warning("kaleido close failed: %s", error)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(5)

    def render(self, fig: dict, width: int, height: int, scale: float) -> bytes:
        """PNG bytes of a figure dict (starts the browser on first use)."""
        opts = {"format": "png", "width": width, "height": height, "scale": scale}
        with self._lock:
            if self._kaleido is None:
                self._start()
            assert self._loop is not None  # set by _start
            future = asyncio.run_coroutine_threadsafe(self._kaleido.calc_fig(fig, opts), self._loop)
            try:
                data = future.result(RENDER_TIMEOUT + 5)
            except FutureTimeout as error:
                future.cancel()
                self._stop()
                raise RenderError("chart rendering timed out") from error
            except BaseException as error:
                self._stop()
                raise RenderError(f"chart rendering failed: {error}") from error
        if not isinstance(data, bytes | bytearray) or not bytes(data).startswith(b"\x89PNG"):
            raise RenderError("chart renderer returned no PNG")
        return bytes(data)

    def stop(self) -> None:
        """Close the browser (tests, process exit)."""
        with self._lock:
            self._stop()


_server = _KaleidoServer()
atexit.register(_server.stop)


def start() -> None:
    """Start the browser now instead of on the first export (warm-up)."""
    with _server._lock:  # noqa: SLF001 - same module
        if not _server.running:
            _server._start()  # noqa: SLF001


def stop() -> None:
    """Close the process's kaleido browser (it restarts on the next export)."""
    _server.stop()


def is_running() -> bool:
    """True while the process's kaleido browser is open."""
    return _server.running


def as_dict(fig: Any) -> dict:
    """A deep copy of a figure dict, or the dict of a plotly.graph_objects.Figure."""
    if hasattr(fig, "to_plotly_json"):
        return copy.deepcopy(fig.to_plotly_json())
    if isinstance(fig, dict):
        return copy.deepcopy(fig)
    raise TypeError(f"not a plotly figure: {type(fig).__name__}")


FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans{bold}.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-{liberation}.ttf",
)


def _font(size: int, bold: bool = False) -> Any:
    """DejaVu or Liberation Sans when installed, else Pillow's bundled font."""
    from PIL import ImageFont  # lazy (b): PNG exports only, 19 ms

    for pattern in FONT_PATHS:
        path = pattern.format(
            bold="-Bold" if bold else "", liberation="Bold" if bold else "Regular"
        )
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def _wrap(text: str, font: Any, width: float) -> list[str]:
    """Words of text in lines no wider than width pixels (a longer single word gets its own line)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if current and font.getlength(trial) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


def caption_lines(caption: str, width: int, scale: float) -> list[tuple[str, Any]]:
    """(text, font) per drawn line: the caption's first line bold, every line wrapped to the width."""
    size = max(8, round(CAPTION_FONT * scale))
    regular, bold = _font(size), _font(size, bold=True)
    out: list[tuple[str, Any]] = []
    for index, line in enumerate(part.strip() for part in caption.splitlines() if part.strip()):
        font = bold if index == 0 else regular
        out.extend(
            (text, font) for text in _wrap(line, font, width * scale - 2 * CAPTION_PAD * scale)
        )
    return out


def caption_height(lines: list[tuple[str, Any]], scale: float) -> int:
    """Pixels the caption strip needs (at scale)."""
    if not lines:
        return 0
    return round((len(lines) * CAPTION_FONT * CAPTION_LINE + 2 * CAPTION_PAD) * scale)


def add_caption(chart: bytes, lines: list[tuple[str, Any]], scale: float) -> bytes:
    """The chart PNG with a white caption strip drawn under it."""
    from PIL import Image, ImageDraw  # lazy (b): PNG exports only, PIL.Image + ImageDraw 29 ms

    with Image.open(io.BytesIO(chart)) as image:
        image.load()
        strip = caption_height(lines, scale)
        canvas = Image.new("RGB", (image.width, image.height + strip), "white")
        canvas.paste(image.convert("RGB"), (0, 0))
    draw = ImageDraw.Draw(canvas)
    draw.line(
        [(0, image.height), (canvas.width, image.height)],
        fill=CAPTION_RULE,
        width=max(1, round(scale)),
    )
    y = image.height + CAPTION_PAD * scale
    for text, font in lines:
        draw.text((CAPTION_PAD * scale, y), text, font=font, fill=CAPTION_COLOR)
        y += CAPTION_FONT * CAPTION_LINE * scale
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def _side(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return max(100, min(MAX_SIDE, number))


def export_figure(fig: Any) -> dict:
    """A copy of the figure for export: the size comes from the export, not from the page layout."""
    figure = as_dict(fig)
    layout = figure.setdefault("layout", {})
    layout.pop("height", None)
    layout.pop("width", None)
    layout["autosize"] = True
    return figure


def figure_png(
    fig: Any, width: int = 900, height: int = 450, caption: str = "", scale: float = 1.0
) -> bytes:
    """PNG bytes of a figure, width x height pixels (times scale), with a caption strip at the bottom.

    The caption (filters, scope, as-of date, generation time; one or more lines, the first one bold,
    long lines wrapped) is part of the image, so the PNG stays self-describing when it is pasted into
    a board pack. Plotly draws the chart in the space above the caption (a title or annotation below
    the plot area collides with bottom legends and tick labels); Pillow draws the caption strip.
    Raises RenderError when no browser can be started, TooManyPixels above the pixel cap.
    """
    width, height = _side(width, 900), _side(height, 450)
    scale = min(max(float(scale), 0.5), 4.0)
    check_pixels(width, height, scale)  # before any rendering: memory stays bounded
    lines = caption_lines(caption, width, scale) if caption else []
    strip = round(caption_height(lines, scale) / scale)
    chart = _server.render(export_figure(fig), width, max(100, height - strip), scale)
    return add_caption(chart, lines, scale) if lines else chart


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])
