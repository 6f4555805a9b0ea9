"""Compile a Value graph into straight-line Python: ``backward()`` unrolled, as code you read.

- ``trace(fn, *example_inputs)``: ``fn`` recorded on Values and written out (``.source``);
  calling the result runs the code on new numbers (trace.py).
- ``compile_step(model, loss_fn, X, y)``: one training example's forward, loss and backward as
  code, run for every example of a batch: what ``fit`` uses (step.py).

Every number is the eager engine's: the code comes from the engine's own rules (codegen.py),
every decision Python took on a Value while recording is checked again on every call (a
guard: when one goes the other way the code is recorded again, or that call runs eagerly;
recording.py), and anything else code cannot reproduce is a ``TraceError`` saying why.
"""

from tinygrad_edu.compile.recording import TraceError
from tinygrad_edu.compile.step import CompiledStep, compile_step
from tinygrad_edu.compile.trace import Traced, trace

__all__ = ["trace", "compile_step", "TraceError", "Traced", "CompiledStep"]
