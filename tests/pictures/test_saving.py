"""Saving pictures (issue 18 D/E): every save goes through player.save_file, which writes
through symlinks, refuses special files before touching them, writes atomically under a
hidden temporary name, cleans up after killed saves, and honours the umask."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("graphviz")
pytest.importorskip("matplotlib")

from picture_helpers import lecture_neuron  # noqa: E402

from tinygrad_edu.pictures.player import save_file  # noqa: E402
from tinygrad_edu.viz import graphviz_available, step_through  # noqa: E402

pytestmark = [
    pytest.mark.skipif(not graphviz_available(), reason="Graphviz 'dot' not installed"),
    pytest.mark.skipif(os.name == "nt", reason="symlinks, FIFOs and umask are POSIX"),
]


@pytest.fixture(scope="module")
def players():
    """Every save the pictures offer: the stepper's and the training recorder's."""
    import matplotlib

    matplotlib.use("Agg")
    from tinygrad_edu.losses import mse_loss
    from tinygrad_edu.nn import MLP
    from tinygrad_edu.optim import SGD
    from tinygrad_edu.plot import TrainingRecorder
    from tinygrad_edu.train import fit

    stepper = step_through(lecture_neuron()[0])
    model = MLP(2, [2, 1], "tanh", "sigmoid", seed=0)
    X, y = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1]
    recorder = TrainingRecorder(X, y, every=1, resolution=5, dpi=30)
    fit(model, X, y, mse_loss, SGD(model.parameters(), lr=0.1), epochs=2, progress=False,
        callbacks=[recorder])
    return {"stepper.save_html": stepper.save_html, "stepper.save_gif": stepper.save_gif,
            "recorder.save_html": recorder.save_html, "recorder.save_gif": recorder.save_gif}


SAVES = ["stepper.save_html", "stepper.save_gif", "recorder.save_html", "recorder.save_gif"]


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("save", SAVES)
def test_a_symlink_is_written_through_to_its_target(players, tmp_path, save):
    target = tmp_path / "real" / "picture"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "link"
    link.symlink_to(target)
    players[save](link)
    assert link.is_symlink() and os.readlink(link) == str(target)  # still the link
    assert target.read_bytes() != b"old" and target.stat().st_size > 100  # the new picture
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "real" / "new")
    players[save](dangling)
    assert dangling.is_symlink() and (tmp_path / "real" / "new").stat().st_size > 100
    assert listing(tmp_path / "real") == ["new", "picture"]  # no temporary file left


@pytest.mark.parametrize("save", SAVES)
def test_special_files_are_refused_before_anything_is_touched(players, tmp_path, save):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match=r"refuses to write '.*pipe': it is a FIFO"):
        players[save](fifo)  # (opening it to write would block forever: it was not opened)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with pytest.raises(OSError, match=r"refuses to write '/dev/null': it is a character "
                                      "device"):
        players[save]("/dev/null")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    link = tmp_path / "to-null"
    link.symlink_to("/dev/null")
    with pytest.raises(OSError, match="to-null.*character device"):
        players[save](link)
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match="folder"):
        players[save](folder)
    with pytest.raises(IsADirectoryError, match="names a folder"):
        players[save](str(tmp_path) + "/")
    assert listing(tmp_path) == ["folder", "pipe", "to-null"] and listing(folder) == []


def test_files_get_the_users_umask_or_keep_the_replaced_files_mode(tmp_path):
    old = os.umask(0o022)
    try:
        path = save_file(tmp_path / "a.html", b"<p>a</p>")
        assert stat.S_IMODE(path.stat().st_mode) == 0o644  # (mkstemp's 0600 before)
        os.umask(0o077)
        assert stat.S_IMODE(save_file(tmp_path / "b.html", b"b").stat().st_mode) == 0o600
        os.chmod(path, 0o640)
        save_file(path, b"<p>new</p>")
        assert stat.S_IMODE(path.stat().st_mode) == 0o640 and path.read_bytes() == b"<p>new</p>"
    finally:
        os.umask(old)


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftovers_of_killed_saves_are_removed_by_the_next_save(tmp_path):
    leftover = tmp_path / f".tinygrad_edu-{dead_pid()}-0123abcd.tmp"
    leftover.write_bytes(b"half a picture")
    running = tmp_path / f".tinygrad_edu-{os.getpid()}-4567cdef.tmp"  # a save in progress
    running.write_bytes(b"being written")
    (tmp_path / "notes.tmp").write_text("not ours")
    (tmp_path / ".hidden").write_text("not ours either")
    save_file(tmp_path / "walk.html", b"<p>done</p>")
    assert listing(tmp_path) == [".hidden", running.name, "notes.tmp", "walk.html"]


def test_an_interrupted_save_leaves_the_old_file_whole_and_no_temporary_file(tmp_path,
                                                                            monkeypatch):
    target = tmp_path / "walk.html"
    target.write_bytes(b"the old picture")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_file(target, b"the new picture")
    assert target.read_bytes() == b"the old picture" and listing(tmp_path) == ["walk.html"]


KILLED_SAVE = """
import os, sys, time
from tinygrad_edu.pictures import player
os.fsync = lambda fd: (print("writing", flush=True), time.sleep(60))  # stuck mid-save
player.save_file(sys.argv[1], b"x" * 100000)
"""


def test_kill_9_during_a_save(tmp_path):
    """A save killed (SIGKILL) while writing: the target keeps its old content, the partial
    file only ever had a hidden name, and the next save to the folder removes it."""
    target = tmp_path / "walk.html"
    target.write_bytes(b"the old picture")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(target)],
                             stdout=subprocess.PIPE, env=env)
    assert child.stdout.readline().strip() == b"writing"
    partial = [name for name in listing(tmp_path) if name != "walk.html"]
    assert len(partial) == 1 and partial[0].startswith(".")  # hidden while it is written
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert target.read_bytes() == b"the old picture"
    time.sleep(0.05)
    save_file(tmp_path / "other.html", b"<p>next</p>")
    assert listing(tmp_path) == ["other.html", "walk.html"]
