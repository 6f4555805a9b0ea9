"""The checkers under a learner's worst code (issue 18 F, issue 17 item 6).

- code that never ends is stopped after ``timeout`` seconds and shown as a ✗ that names the
  loop's line; the kernel (here: the test process) keeps going and later cases wait (○);
- every exception from the learner's code, wrong return types and failing properties
  included, is a ✗ line with a hint, never a traceback; KeyboardInterrupt and SystemExit
  still stop the checker;
- hints name only what the case's graph contains; in Jupyter the report is in colour.
"""

from __future__ import annotations

import math
import sys
import threading
import time
import types

import pytest

from tinygrad_edu.exercises import (
    check_engine,
    check_function,
    check_nudging,
    check_softmax_nll,
    check_training_step,
)
from tinygrad_edu.exercises._report import Report, Result
from tinygrad_edu.losses import binary_cross_entropy

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from test_exercises import (  # noqa: E402
    PLANTED,
    Engine,
    Mul,
    Sin,
    SinNoGrad,
    central,
    nll,
    one_sided,
    softmax,
)

LIMIT = 0.3  # seconds: the loops below never end, so any limit shows the same thing


def forever() -> None:
    while True:
        pass


def _timed_out(report: Report) -> Result:
    stuck = [r for r in report.failed if r.mistake == "timeout"]
    assert len(stuck) == 1, str(report)
    return stuck[0]


def _no_traceback(capsys: pytest.CaptureFixture[str]) -> str:
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return out.out


# ---- time limits ---------------------------------------------------------------------------
class LoopInExp(Engine):
    def exp(self):
        forever()


class LoopInBackward(Engine):
    def backward(self):
        topo = self._start()
        while topo:  # forgot to pop
            topo[-1]._backward()


class LoopSwallowingTheStop(Engine):
    def tanh(self):
        end = time.monotonic() + 5  # (so that the test leaves no thread spinning for good)
        while time.monotonic() < end:
            try:
                while time.monotonic() < end:
                    pass
            except BaseException:  # noqa: BLE001 - the worst a learner can write
                pass


def test_check_engine_stops_a_loop_and_names_its_line(capsys):
    report = check_engine(LoopInExp, timeout=LIMIT)
    out = _no_traceback(capsys)
    stuck = _timed_out(report)
    assert stuck.name == "a.exp()"
    assert "stopped after 0.3 s" in stuck.detail and "in forever" in stuck.detail
    assert "`pass`" in stuck.detail or "`while True:`" in stuck.detail
    assert stuck.hint.startswith("an infinite loop in forever?") and "timeout=" in stuck.hint
    # the cases before it ran; the ones after it wait instead of each waiting out the limit
    assert all(report[c] for c in ("a + b", "a * b", "a ** 3", "a.tanh()"))
    later = report["a * 2 (a number on the right)"]
    assert later.status == "todo" and "a.exp(), which ran out of time" in later.waiting
    assert "✗ a.exp()" in out and not report


def test_check_engine_stops_a_loop_in_backward():
    report = check_engine(LoopInBackward, timeout=LIMIT, quiet=True)
    stuck = _timed_out(report)
    assert stuck.name == "backward() of L = a * b"
    assert "in backward" in stuck.detail and "an infinite loop in backward?" in stuck.hint
    assert all(report[c] for c in ("a + b", "a * b", "a.tanh()"))


class LoopCallingAHelper(Engine):
    """The loop is in backward; nearly all its time is spent inside the helper it calls."""

    def backward(self):
        topo = self._start()
        while topo:  # forgot to pop
            _busy_helper()


def _busy_helper() -> None:
    total = 0
    for i in range(20_000):
        total += i


def test_the_stuck_place_is_the_loop_not_the_helper_it_calls():
    for _ in range(3):  # where the stop lands is chance: the report must not depend on it
        stuck = _timed_out(check_engine(LoopCallingAHelper, timeout=LIMIT, quiet=True))
        assert "in backward, line" in stuck.detail and "_busy_helper()" in stuck.detail \
            or "`while topo:" in stuck.detail, stuck.detail
        assert stuck.hint.startswith("an infinite loop in backward?")


def test_a_loop_that_swallows_the_stop_is_left_behind_and_reported():
    """A bare except inside the loop catches the stop: the case is a ✗ all the same and the
    checker goes on (the loop keeps a daemon thread busy; README's limit)."""
    before = threading.active_count()
    report = check_engine(LoopSwallowingTheStop, timeout=LIMIT, quiet=True)
    stuck = _timed_out(report)
    assert stuck.name == "a.tanh()" and "tanh" in stuck.detail
    assert threading.active_count() <= before + 1  # one worker left, not one per case


def test_check_function_stops_loops_in_forward_backward_and_expected():
    class LoopForward(Sin):
        @staticmethod
        def forward(ctx, x):
            forever()

    class LoopBackward(Sin):
        @staticmethod
        def backward(ctx, grad):
            forever()

    report = check_function(LoopForward, timeout=LIMIT, quiet=True)
    assert _timed_out(report).name.startswith("forward:") and len(report.waiting) == 3
    report = check_function(LoopBackward, timeout=LIMIT, quiet=True)
    assert _timed_out(report).name.startswith("backward: the gradient")
    report = check_function(Sin, expected=lambda x: forever(), timeout=LIMIT, quiet=True)
    stuck = _timed_out(report)
    assert stuck.name.startswith("forward:") and "in forever" in stuck.detail


def test_check_softmax_nll_nudging_and_training_step_stop_loops(capsys):
    def looping(*args):
        forever()

    report = check_softmax_nll(looping, nll, timeout=LIMIT)
    assert _timed_out(report).name.startswith("softmax([2.0, 1.0, 0.1])")
    assert len(report.waiting) == 6
    report = check_softmax_nll(softmax, looping, timeout=LIMIT)
    assert _timed_out(report).name.startswith("nll(probs")
    report = check_nudging(one_sided, looping, timeout=LIMIT)
    assert _timed_out(report).name.startswith("central:")
    report = check_training_step(looping, timeout=LIMIT)
    stuck = _timed_out(report)
    assert stuck.name.startswith("step 1: train_step") and "in forever" in stuck.detail
    _no_traceback(capsys)


def test_timeout_argument():
    assert check_engine(Engine, timeout=None, quiet=True)  # None: no limit, same results
    assert check_nudging(one_sided, central, timeout=30, quiet=True)
    for bad, error in ((0, ValueError), (-1.0, ValueError), (math.inf, ValueError),
                       ("5", TypeError), (True, TypeError)):
        with pytest.raises(error, match="timeout"):
            check_engine(Engine, timeout=bad, quiet=True)


# ---- every exception is a ✗ with a hint ----------------------------------------------------
class MulReturnsFloat(Engine):
    """The commonest beginner bug: the op returns the number, not a Value."""

    def __mul__(self, other):
        other = self._wrap(other)
        return self.data * other.data


class DataRaises(Engine):
    @property
    def data(self):
        raise ValueError("no data today")

    @data.setter
    def data(self, value):
        self._data = value


class ReprRaises(Engine):
    def __repr__(self):
        raise RuntimeError("no repr")

    def __add__(self, other):
        other = self._wrap(other)
        out = type(self)(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad = out  # a Value where a number belongs: shown without its __repr__

        out._backward = _backward
        return out


class BadError(Exception):
    def __str__(self):
        raise RuntimeError("a message that cannot be printed")


class RaisesBadError(Engine):
    def exp(self):
        raise BadError


def test_an_op_returning_a_float_is_a_cross_naming_it(capsys):
    report = check_engine(MulReturnsFloat)
    _no_traceback(capsys)
    assert report["a * b"].mistake == "not-a-value"
    assert "a * b returned -6.0" in report["a * b"].detail
    chain = report["backward() through a chain: L = tanh(a * b + c)"]
    assert chain.status == "fail" and chain.mistake == "not-a-value"
    assert "x = a * b came out as -6.0" in chain.detail and "return out" in chain.hint
    assert report["a + b"] and not report


@pytest.mark.parametrize("engine", [DataRaises, ReprRaises, RaisesBadError])
def test_failing_properties_reprs_and_messages_are_crosses(engine, capsys):
    report = check_engine(engine)
    out = _no_traceback(capsys)
    assert report.failed and not report
    for r in report.failed:
        assert r.hint, r.text()
    if engine is DataRaises:
        leaf = report["Value(2.0) starts with .data == 2.0 and .grad == 0.0"]
        assert "ValueError: no data today (in data, line" in leaf.detail
        assert "your code raised this error" in leaf.hint
    if engine is ReprRaises:
        assert "<ReprRaises object>" in out and "no repr" not in out
    if engine is RaisesBadError:
        assert report["a.exp()"].detail.startswith("BadError (in exp, line")


def _step(set_none_before_backward: bool):
    def train_step(model, X, y, lr):
        preds = [model(x) for x in X]
        loss = binary_cross_entropy(preds, y)
        for p in model.parameters():
            p.grad = None if set_none_before_backward else 0.0  # PyTorch's set_to_none
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
            p.grad = None
        return loss

    return train_step


def test_training_step_that_sets_grad_to_none(capsys):
    report = check_training_step(_step(set_none_before_backward=False))
    _no_traceback(capsys)
    assert report["step 1: returns the loss before the update (fit's epoch-1 loss)"]
    grads = report["step 1: afterwards p.grad holds this step's gradient"]
    assert grads.status == "fail" and "None (nothing was returned or set)" in grads.text()
    report = check_training_step(_step(set_none_before_backward=True))
    _no_traceback(capsys)
    first = report.failed[0]
    assert first.name.startswith("step 1: train_step") and "TypeError" in first.detail
    assert "in train_step, line" in first.detail and "your code raised" in first.hint


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit])
def test_keyboard_interrupt_and_system_exit_still_stop_the_checker(stop):
    class Stops(Engine):
        def __mul__(self, other):
            raise stop

    with pytest.raises(stop):
        check_engine(Stops, quiet=True)
    with pytest.raises(stop):
        check_nudging(lambda f, x, h: (_ for _ in ()).throw(stop()), quiet=True)


def test_junk_results_are_crosses_not_tracebacks(capsys):
    class Weird:
        def __float__(self):
            raise ValueError("no float")

        def __repr__(self):
            forever()

    for code in (lambda *a: Weird(), lambda *a: [Weird()], lambda *a: {"p": Weird()},
                 lambda *a: 10**5000, lambda *a: float("nan")):
        assert not check_nudging(code, code)
        assert not check_softmax_nll(code, code)
        assert not check_training_step(code)
    _no_traceback(capsys)


# ---- E3: a backward that ignores grad ------------------------------------------------------
def test_function_backward_that_ignores_grad_is_caught():
    """backward() on a graph asks backward(ctx, 1.0), where grad * local derivative and the
    bare local derivative are one number: only a direct call with 2.5 shows the mistake."""
    report = check_function(SinNoGrad, quiet=True)
    case = report.failed[0]
    assert case.name.startswith("backward multiplies by the incoming grad: "
                                "SinNoGrad.backward(ctx, 2.5)")
    assert case.mistake == "missing-out-grad" and "grad * local derivative" in case.hint
    assert case.mismatches[0].expected == pytest.approx(2.5 * math.cos(-1.5))
    assert case.mismatches[0].got == pytest.approx(math.cos(-1.5))
    assert report["backward: the gradient of SinNoGrad(x) matches nudging (central "
                  "differences, eps = 1e-06)"]

    class TwoInputsNoGrad(Mul):
        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_values
            return y, grad * x

    report = check_function(TwoInputsNoGrad, quiet=True)
    assert report.mistakes == {"missing-out-grad"}
    assert "gradient of x" in report.failed[0].mismatches[0].what


def test_check_function_refuses_huge_and_lazy_points():
    with pytest.raises(ValueError, match="at most 1,000 inputs, got 1,000,000,000,000,000,000"):
        check_function(Sin, points=range(10**18), quiet=True)
    with pytest.raises(TypeError, match="points must be a list"):
        check_function(Sin, points=(x for x in [1.0]), quiet=True)
    with pytest.raises(TypeError, match="expected must be a function"):
        check_function(Sin, expected=1.5, quiet=True)


# ---- hints name only the graph's parts -----------------------------------------------------
ONE_OP_NAMES = ["a * a", "a + a", "a ** 3", "2 * a", "a * 2", "1 + a", "a + 1"]


@pytest.mark.parametrize("engine", sorted({e for e, *_ in PLANTED}, key=lambda e: e.__name__),
                         ids=lambda e: e.__name__)
def test_graph_hints_name_only_what_the_graph_contains(engine):
    report = check_engine(engine, quiet=True)
    graphs = report.results[-7:]
    for r in graphs:
        for name in ONE_OP_NAMES:
            if name not in r.name:
                assert name not in r.hint + r.detail, (engine.__name__, r.name, r.hint)


def test_used_twice_hint_speaks_of_the_graphs_own_node():
    from test_exercises import AssignNotAdd

    class AssignEverywhere(AssignNotAdd):
        def tanh(self):
            out = super().tanh()

            def _backward():
                self.grad = (1 - out.data**2) * out.grad

            out._backward = _backward
            return out

    report = check_engine(AssignEverywhere, quiet=True)
    hint = report["a node with two users: x = a * b, L = (tanh(x) + c) * x"].hint
    assert "x = a * b is used by tanh(x) and by L = y * x" in hint and "a * a" not in hint


# ---- colour in Jupyter ---------------------------------------------------------------------
def test_report_html_colours_each_mark_and_escapes_the_learners_text():
    class Sneaky(Engine):
        def exp(self):
            raise ValueError("<script>alert(1)</script>")

    html = check_engine(Sneaky, quiet=True)._repr_html_()
    assert html.startswith("<pre") and "<script>" not in html
    assert "&lt;script&gt;" in html
    assert '<span style="color:#1a7f37;font-weight:bold">  ✓ a + b</span>' in html
    assert '<span style="color:#cf222e;font-weight:bold">  ✗ a.exp()</span>' in html
    from test_exercises import Lecture

    html = check_engine(Lecture, quiet=True)._repr_html_()
    assert '<span style="color:#9a6700;font-weight:bold">  ○ backward() twice' in html


def test_in_a_kernel_the_report_fills_in_one_coloured_output(monkeypatch, capsys):
    """Inside Jupyter the report is one display (HTML with a text alternative) updated after
    each case; the returned report then shows as its one-line summary, not a second copy."""
    shown: list[dict[str, str]] = []

    class Handle:
        def update(self, bundle, raw=False):
            shown.append(bundle)

    def display(bundle, raw=False, display_id=False):
        shown.append(bundle)
        return Handle()

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: types.SimpleNamespace(kernel=object())
    ipython_display = types.ModuleType("IPython.display")
    ipython_display.display = display
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", ipython_display)
    report = check_nudging(one_sided, central)
    assert capsys.readouterr().out == ""  # nothing printed: it is all in the display
    last = shown[-1]
    assert last["text/plain"].endswith("All 6 checks pass ✓")
    assert "error of the central difference shrinks like h²" in last["text/plain"]
    assert last["text/html"].count("color:#1a7f37") == 7  # 6 cases and the summary
    assert len(shown) > 10 and report._repr_html_() is None


def test_without_threads_the_cases_run_inline_and_errors_are_still_crosses(monkeypatch):
    """JupyterLite's Python (Pyodide) cannot start threads: no time limit there, the rest holds."""
    from tinygrad_edu.exercises import _guard

    monkeypatch.setattr(_guard, "_threads", lambda: False)
    started = threading.active_count()
    assert check_engine(Engine, quiet=True)
    report = check_engine(MulReturnsFloat, quiet=True)
    assert report["a * b"].mistake == "not-a-value" and not report
    assert threading.active_count() == started
