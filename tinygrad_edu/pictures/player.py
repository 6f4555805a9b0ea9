"""The one frame player, and the one way the pictures write files.

A :class:`Player` is a sequence of frames, each a picture (an SVG or a PNG), a title and a
caption. The stepper (``step_through``), the training recorder and the descent animations are
players; they only say what their frames are. The player shows them:

- in Jupyter with a kernel and ipywidgets: a widget (Previous, Next, Play, a slider), updated
  in place; Play at the last frame starts again from the first;
- elsewhere (nbconvert HTML, a saved notebook): self-contained HTML with the same controls and
  a plain script, starting at the first frame; where scripts are removed (untrusted notebooks,
  GitHub) a PNG still shows instead;
- ``save_html(path)``: that HTML as one offline file; ``save_gif(path)``: an animated GIF.

The caption area keeps one height (the longest caption's), so nothing below it jumps. SVG
frames travel as the first frame plus, per frame, the lines that changed: a stepper of 100
frames over a 100-node graph stays small.

``save_file`` writes every file: through a symlink to its target, never into a FIFO, device
or directory (an error naming the path, before anything is touched), atomically (a hidden
temporary file beside the target, fsync, rename: an interrupted save leaves the old file or
the new one, never a part), with the user's umask (0644 typically) or the replaced file's
mode. Temporary files left by an earlier save that was killed are removed by the next save to
that folder.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import io
import json
import os
import re
import secrets
import stat
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tinygrad_edu.pictures.style import FONT_FAMILY, esc

__all__ = ["Player", "save_file", "check_target", "gif_bytes", "png_width",
           "widget_bundle"]


# ---------------------------------------------------------------------------------------------
# Saving files
# ---------------------------------------------------------------------------------------------
_TMP = re.compile(r"^\.tinygrad_edu-(\d+)-[0-9a-f]{8}\.tmp$")  # .tinygrad_edu-<pid>-<rand>.tmp
_KINDS = [(stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")]


def check_target(path: str | os.PathLike[str], who: str) -> Path:
    """The regular file a save to ``path`` writes (a symlink's target), or an error naming
    ``path`` when it cannot be one: a directory, FIFO, device or socket, a missing folder."""
    try:
        raw = os.fspath(path)
    except TypeError:
        raise TypeError(f"{who}: path must be a str or a path, got {type(path).__name__}") \
            from None
    if isinstance(raw, bytes):
        raw = os.fsdecode(raw)
    given = Path(raw)
    if raw == "" or raw.endswith(("/", os.sep)):
        raise IsADirectoryError(errno.EISDIR, f"{who} cannot write {str(given)!r}: it names a "
                                "folder; give a file name", str(given))
    target = Path(os.path.realpath(given)) if given.is_symlink() else given
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as err:  # a symlink loop, a permission problem
        raise type(err)(err.errno, f"{who} cannot write {str(given)!r}: "
                        f"{err.strerror or err}", str(given)) from None
    if mode is not None and stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, f"{who} cannot write {str(given)!r}: it is a "
                                "folder; give a file name inside it", str(given))
    for test, kind in _KINDS:
        if mode is not None and test(mode):
            raise OSError(errno.EINVAL, f"{who} refuses to write {str(given)!r}: it is {kind}, "
                          "not a regular file; choose a file name", str(given))
    folder = target.parent
    if not folder.is_dir():
        error = NotADirectoryError if folder.exists() else FileNotFoundError
        code = errno.ENOTDIR if folder.exists() else errno.ENOENT
        raise error(code, f"{who} cannot write {str(given)!r}: {str(folder)!r} is not a "
                    "folder", str(given))
    return target


def save_file(path: str | os.PathLike[str], data: bytes, who: str = "save") -> Path:
    """Write ``data`` to ``path`` whole or not at all (see the module text); returns the path
    given. An OSError names the path."""
    target = check_target(path, who)
    folder = target.parent
    _remove_leftovers(folder)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)  # replacing a file: keep its mode
    except OSError:
        mode = None
    tmp = folder / f".tinygrad_edu-{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # 0o666 & ~umask
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise type(err)(err.errno, f"{who} cannot write {str(path)!r}: "
                            f"{err.strerror or err}", str(path)) from err
        raise
    _sync_folder(folder)
    return Path(os.fspath(path))


def _remove_leftovers(folder: Path) -> None:
    """Delete temporary files of saves into ``folder`` whose process is gone (killed)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        m = _TMP.match(entry.name)
        if m is None or not entry.is_file(follow_symlinks=False):
            continue
        if _alive(int(m.group(1)), entry):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)


def _alive(pid: int, entry: os.DirEntry[str]) -> bool:
    """Whether the save that made this temporary file may still be running."""
    if os.name == "nt":  # (no signal 0 there: trust an hour)
        return time.time() - entry.stat(follow_symlinks=False).st_mtime < 3600
    if pid == os.getpid():
        return True  # one of ours, maybe from another thread now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # (exists, belongs to someone else)
        return True
    return True


def _sync_folder(folder: Path) -> None:
    """fsync the folder, so the rename itself survives a crash (POSIX)."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def gif_bytes(pngs: Sequence[bytes], durations: Sequence[int]) -> bytes:
    """An animated GIF (looping) of PNG frames, each shown ``durations[i]`` milliseconds."""
    try:
        from PIL import Image
    except ImportError as err:
        raise ImportError("save_gif needs Pillow: pip install pillow (it comes with "
                          "matplotlib: pip install 'tinygrad_edu[plot]')") from err
    frames = []
    for png in pngs:
        with Image.open(io.BytesIO(png)) as im:
            frames.append(im.convert("RGB"))
    size = max(f.size[0] for f in frames), max(f.size[1] for f in frames)
    images = []
    for f in frames:  # one size for all (frames never jump), then 256 colours
        if f.size != size:
            canvas = Image.new("RGB", size, "white")
            canvas.paste(f, (0, 0))
            f = canvas
        images.append(f.quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                                 dither=Image.Dither.NONE))
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:],
                   duration=list(durations), loop=0, disposal=1)
    return buf.getvalue()


def png_width(png: bytes) -> int:
    """The width in pixels, from a PNG's header."""
    return int.from_bytes(png[16:20], "big")


# ---------------------------------------------------------------------------------------------
# The player
# ---------------------------------------------------------------------------------------------
_UI = """<style>#{p} .tge-bar{{display:flex;flex-wrap:wrap;gap:6px;align-items:center;\
margin:4px 0}}#{p} button{{font:inherit;padding:2px 10px;cursor:pointer}}\
#{p} input[type=range]{{flex:1 1 120px;min-width:80px;max-width:100%}}\
#{p} .tge-count{{min-width:8em}}\
#{p} .tge-title{{font-weight:bold;margin:4px 0;min-height:1.3em}}\
#{p} .tge-caption{{white-space:pre-wrap;overflow-wrap:anywhere;margin:4px 0 8px;\
font-size:14px;line-height:1.35;height:{lines:.2f}em;overflow-y:auto;\
font-family:ui-monospace,Menlo,Consolas,monospace}}\
#{p} .tge-picture img{{max-width:100%;height:auto;display:block}}</style>\
<div class="tge-bar"><button type="button" class="tge-prev">Previous</button>\
<button type="button" class="tge-next">Next</button>\
<button type="button" class="tge-play">Play</button>\
<input type="range" class="tge-slider" min="0" max="{last}" value="{start}" \
aria-label="{unit}">\
<span class="tge-count" aria-live="polite">{count}</span></div>\
<div class="tge-title">{title}</div>\
{caption}<div class="tge-picture">{picture}</div>"""

# Plain JavaScript, no libraries. SVG frames: the first whole, then the lines each changes.
_SCRIPT = """(function () {
  var root = document.getElementById("__P__");
  if (!root || root.dataset.ready) return;
  root.dataset.ready = "1";
  var data = JSON.parse(root.querySelector(".tge-data").textContent);
  var still = root.querySelector(".tge-still");
  if (still) still.parentNode.removeChild(still);
  if (data.ui) {  // in a notebook the controls are built here, so sanitizers leave none
    var ui = document.createElement("div");
    ui.innerHTML = data.ui;
    root.appendChild(ui);
  }
  var q = function (s) { return root.querySelector(s); };
  var pic = q(".tge-picture"), slider = q(".tge-slider"), play = q(".tge-play");
  var caption = q(".tge-caption"), n = data.title.length, i = +slider.value, timer = null;
  var lines = null, at = -1;
  function picture(k) {
    if (data.kind === "img") { pic.querySelector("img").src = data.frames[k]; return; }
    if (lines === null || k < at) { lines = null; at = -1; }
    for (var j = at + 1; j <= k; j++) {
      var f = data.frames[j];
      if (typeof f === "string") lines = f.split("\\n");
      else for (var m = 0; m < f.length; m++) lines[f[m][0]] = f[m][1];
    }
    at = k;
    pic.innerHTML = lines.join("\\n");
  }
  function show(k) {
    i = Math.max(0, Math.min(n - 1, k));
    picture(i);
    slider.value = i;
    q(".tge-count").textContent = data.unit + " " + (i + 1) + " of " + n;
    q(".tge-title").textContent = data.title[i];
    if (caption) caption.textContent = data.caption[i];
  }
  function stop() { if (timer) { clearInterval(timer); timer = null; } play.textContent = "Play"; }
  q(".tge-prev").addEventListener("click", function () { stop(); show(i - 1); });
  q(".tge-next").addEventListener("click", function () { stop(); show(i + 1); });
  slider.addEventListener("input", function () { stop(); show(+slider.value); });
  play.addEventListener("click", function () {
    if (timer) { stop(); return; }
    if (i >= n - 1) show(0);  // Play at the end starts again
    play.textContent = "Pause";
    timer = setInterval(function () { if (i >= n - 1) stop(); else show(i + 1); }, data.interval);
  });
  function key(e) {
    if (e.target && e.target.tagName === "INPUT") return;  // the slider handles its own keys
    if (e.key === "ArrowRight") { stop(); show(i + 1); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { stop(); show(i - 1); e.preventDefault(); }
  }
  (data.doc ? document : root).addEventListener("keydown", key);
  show(i);
})();"""


def _svg_frames(svgs: Sequence[str]) -> list[Any]:
    """The first SVG whole, then per frame the lines that differ from the frame before
    ([line number, text] pairs), or the whole SVG where the lines do not correspond."""
    out: list[Any] = []
    before: list[str] | None = None
    for svg in svgs:
        lines = svg.split("\n")
        if before is None or len(lines) != len(before):
            out.append(svg)
        else:
            out.append([[k, line] for k, (old, line) in enumerate(zip(before, lines))
                        if old != line])
        before = lines
    return out


def _script_json(data: Any) -> str:
    """JSON safe inside <script>: "</" could end the element and "<!--" start a comment."""
    return (json.dumps(data, ensure_ascii=False)
            .replace("</", "<\\/").replace("<!--", "<\\u0021--"))


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (where a widget can talk to the front end)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class Player:
    """Frames with a title and a caption each, shown as a widget, HTML or GIF.

    Subclasses define ``__len__``, ``picture(i)`` (an SVG str or PNG bytes), ``frame_png(i)``
    (for the GIF), ``titles()``, ``captions()`` and ``alt_text()``; ``unit`` ("step",
    "frame") names a frame in the counter, ``interval_ms`` the time per frame when playing.
    """

    unit: str = "frame"
    interval_ms: int = 200
    still_ratio: float = 1.0  # the still's pixels per CSS pixel (drawn sharper: shown smaller)

    # ---- what subclasses say --------------------------------------------------------------
    def __len__(self) -> int:
        raise NotImplementedError

    def picture(self, i: int) -> str | bytes:
        raise NotImplementedError

    def frame_png(self, i: int) -> bytes:
        raise NotImplementedError

    def titles(self) -> list[str]:
        raise NotImplementedError

    def captions(self) -> list[str]:
        return [""] * len(self)

    def alt_text(self) -> str:
        return type(self).__name__

    def still_png(self) -> bytes:
        """The picture shown where no script runs: the last frame."""
        return self.frame_png(len(self) - 1)

    def _empty_hint(self) -> str:
        return "there is nothing to show"

    # ---- shared --------------------------------------------------------------------------
    def _frame_index(self, i: Any) -> int:
        n = len(self)
        if n == 0:
            raise ValueError(f"{type(self).__name__} has no frames yet; {self._empty_hint()}")
        if isinstance(i, bool) or not isinstance(i, int):
            raise TypeError(f"a frame number is an int, got {type(i).__name__}")
        if not -n <= i < n:
            raise IndexError(f"frame {i} does not exist: this {type(self).__name__} has {n} "
                             "frames")
        return i % n

    def _caption_lines(self) -> int:
        captions = self.captions()
        return max((c.count("\n") + 1 for c in captions if c), default=0)

    def _count(self, i: int) -> str:
        return f"{self.unit} {i + 1} of {len(self)}"

    def _picture_html(self, i: int, inline: bool = True) -> str:
        """Frame ``i``'s picture as HTML; not ``inline``: an empty place the script fills."""
        pic = self.picture(i)
        if isinstance(pic, str):
            return pic if inline else ""
        src = f"data:image/png;base64,{base64.b64encode(pic).decode()}" if inline else ""
        return (f'<img alt="{esc(self.alt_text())}" width="{round(png_width(pic))}" '
                f'style="max-width: 100%; height: auto; display: block" src="{src}">')

    # ---- HTML ----------------------------------------------------------------------------
    def html(self, standalone: bool = False, start: int = 0, still: bool = False) -> str:
        """The self-contained HTML player (no network, no kernel): buttons "Previous",
        "Next" and "Play", a slider; arrow keys step when it has focus (anywhere on the page
        when ``standalone``). It starts at frame ``start`` (the first).

        Unless ``standalone``, the controls are built by the script from its JSON payload, so
        where scripts are removed (JupyterLab's sanitizer for untrusted notebooks, GitHub) no
        dead controls remain; ``still=True`` adds a PNG still that shows there instead and
        that the script removes.
        """
        start = self._frame_index(start)
        n = len(self)
        p = "tge" + secrets.token_hex(6)  # a new id per output: the same player shown twice
        titles, captions = self.titles(), self.captions()
        lines = self._caption_lines()
        caption = (f'<pre class="tge-caption" aria-live="polite">{esc(captions[start])}</pre>'
                   if lines else "")
        ui = _UI.format(p=p, last=n - 1, start=start, unit=self.unit, count=self._count(start),
                        title=esc(titles[start]), caption=caption, lines=lines * 1.35,
                        picture=self._picture_html(start, inline=standalone))
        pictures = [self.picture(i) for i in range(n)]
        if all(isinstance(pic, str) for pic in pictures):
            kind, frames = "svg", _svg_frames(pictures)  # type: ignore[arg-type]
        else:
            kind = "img"
            frames = ["data:image/png;base64," + base64.b64encode(pic).decode("ascii")
                      for pic in pictures]  # type: ignore[arg-type]
        data = {"ui": "" if standalone else ui, "kind": kind, "frames": frames,
                "title": titles, "caption": captions, "interval": self.interval_ms,
                "doc": standalone, "unit": self.unit}
        picture = ""
        if still:
            try:
                png = self.still_png()
            except (ImportError, RuntimeError):  # no Pillow, or no dot (a browser): no still
                png = b""
            if png:
                picture = (f'<img class="tge-still" alt="{esc(self.alt_text())}" '
                           f'width="{round(png_width(png) / self.still_ratio)}" '
                           f'style="max-width: 100%; height: auto" '
                           f'src="data:image/png;base64,{base64.b64encode(png).decode()}">')
        return (
            f'<div class="tge-player" id="{p}" tabindex="0" style="max-width: 100%; '
            f'outline: none; font-family: {esc(FONT_FAMILY)}" '
            f'aria-label="{esc(self.alt_text())}">'
            f"{picture}{ui if standalone else ''}"
            f'<script type="application/json" class="tge-data">{_script_json(data)}</script>'
            f"<script>{_SCRIPT.replace('__P__', p)}</script></div>"
        )

    def save_html(self, path: str | os.PathLike[str], title: str | None = None) -> Path:
        """Write the player as one self-contained HTML file (works offline, no kernel)."""
        if title is not None and not isinstance(title, str):
            raise TypeError(f"title must be a str or None, got {type(title).__name__}")
        check_target(path, "save_html")
        name = esc(title if title is not None else self.alt_text())
        document = (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{name}</title></head>"
            '<body style="margin: 12px">'
            f"{self.html(standalone=True)}</body></html>\n"
        )
        return save_file(path, document.encode("utf-8"), "save_html")

    # ---- GIF -----------------------------------------------------------------------------
    def save_gif(self, path: str | os.PathLike[str], interval_ms: int | None = None) -> Path:
        """Write the frames as an animated GIF (for slides) that loops, lingering on the
        last frame. Needs Pillow."""
        delay = self.interval_ms if interval_ms is None else interval_ms
        if isinstance(delay, bool) or not isinstance(delay, int) or not 20 <= delay <= 60_000:
            raise ValueError(f"interval_ms must be an int from 20 to 60000 (milliseconds per "
                             f"frame), got {delay!r}")
        check_target(path, "save_gif")  # before the slow part
        self._frame_index(0)  # a clear error when there are no frames
        pngs = [self.frame_png(i) for i in range(len(self))]
        durations = [delay] * len(pngs)
        durations[-1] = max(4 * delay, 1500)
        return save_file(path, gif_bytes(pngs, durations), "save_gif")

    # ---- Jupyter -------------------------------------------------------------------------
    def widget(self) -> Any:
        """The ipywidgets widget (Previous, Next, Play, a slider) showing the frames."""
        if getattr(self, "_widget", None) is None:
            self._widget = _make_widget(self)
        return self._widget

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                          **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        data: dict[str, Any] = {"text/html": self.html(still=True)}
        meta: dict[str, Any] = {}
        try:
            still = self.still_png()
        except (ImportError, RuntimeError):
            pass  # (no Pillow, or no dot program as in a browser: the HTML player alone)
        else:
            data["image/png"] = base64.b64encode(still).decode("ascii")
            meta["image/png"] = {"width": round(png_width(still) / self.still_ratio)}
        if _in_kernel():
            with contextlib.suppress(ImportError):
                data.update(widget_bundle(self.widget()))
        data["text/plain"] = repr(self)
        if include:
            data = {k: v for k, v in data.items() if k in include}
        if exclude:
            data = {k: v for k, v in data.items() if k not in exclude}
        return data, meta


def widget_bundle(widget: Any) -> dict[str, Any]:
    """A widget's display data, from ipywidgets 7 (Colab) or 8, or anywidget. 8 and anywidget
    make it in ``_repr_mimebundle_`` (anywidget as a (data, metadata) pair); 7 has none, only
    ``_ipython_display_``, which publishes on its own: there the view entry is made here."""
    make = getattr(widget, "_repr_mimebundle_", None)
    if make is None:
        return {"application/vnd.jupyter.widget-view+json": widget.get_view_spec()}
    bundle = make()
    return dict(bundle[0] if isinstance(bundle, tuple) else bundle)


def _make_widget(player: Player) -> Any:
    try:
        import ipywidgets as w
    except ImportError as err:
        raise ImportError("the player widget needs ipywidgets: pip install ipywidgets") from err
    n = len(player)
    player._frame_index(0)
    titles, captions = player.titles(), player.captions()
    lines = player._caption_lines()
    picture = w.HTML(value=player._picture_html(0), layout=w.Layout(width="100%"))
    # no row for titles when there are none (the network animation draws its own)
    title = w.HTML(layout=w.Layout(min_height="1.6em" if any(titles) else "0px"))
    # one height for every caption: the picture below never moves
    caption = w.HTML(layout=w.Layout(height=f"{lines * 1.35 + 0.6:.2f}em" if lines else "0px",
                                     overflow="hidden"))
    slider = w.IntSlider(value=0, min=0, max=max(n - 1, 0), description=player.unit,
                         continuous_update=True, readout=False,
                         layout=w.Layout(flex="1 1 auto", min_width="120px"))
    count = w.Label(layout=w.Layout(min_width="8em"))
    prev = w.Button(description="Previous", icon="step-backward", tooltip="previous",
                    layout=w.Layout(width="auto"))
    nxt = w.Button(description="Next", icon="step-forward", tooltip="next",
                   layout=w.Layout(width="auto"))
    # ipywidgets' Play starts again from the first frame when pressed at the last one
    play = w.Play(value=0, min=0, max=max(n - 1, 0), interval=player.interval_ms,
                  description="Play", show_repeat=False)
    w.jslink((play, "value"), (slider, "value"))

    def show(change: Any = None) -> None:
        i = slider.value
        picture.value = player._picture_html(i)
        count.value = player._count(i)
        title.value = f"<b>{esc(titles[i])}</b>"
        caption.value = (f'<pre style="white-space: pre-wrap; overflow-wrap: anywhere; '
                         f'margin: 4px 0; font-size: 13px; line-height: 1.35">'
                         f"{esc(captions[i])}</pre>") if lines else ""

    prev.on_click(lambda _: setattr(slider, "value", max(slider.value - 1, 0)))
    nxt.on_click(lambda _: setattr(slider, "value", min(slider.value + 1, n - 1)))
    slider.observe(show, names="value")
    show()
    bar = w.HBox([prev, nxt, play, slider, count],
                 layout=w.Layout(flex_flow="row wrap", align_items="center"))
    return w.VBox([bar, title, caption, picture], layout=w.Layout(width="100%"))
