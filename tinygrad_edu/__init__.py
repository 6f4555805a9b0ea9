"""tinygrad_edu: learn how neural networks learn, one scalar at a time.

The layers, bottom to top (each imports only the ones below it):

- :mod:`tinygrad_edu.engine`: ``Value``, each op with the rule that returns its local
  derivatives, ``backward()``: the textbook. Beside it: :mod:`~tinygrad_edu.checks` (input
  checks, errors), :mod:`~tinygrad_edu.grad_mode` (``no_grad``),
  :mod:`~tinygrad_edu.symbolic` (a rule read as a formula)
- :mod:`tinygrad_edu.function` (``Function``), :mod:`tinygrad_edu.gradtools`
  (``backward_steps``, ``gradcheck``), :mod:`tinygrad_edu.explain` (a step in words)
- :mod:`tinygrad_edu.nn`: ``Module``, ``Neuron``, ``Layer``, ``Dense``, ``MLP``, ``Sequential``,
  losses, optimizers
- :mod:`tinygrad_edu.compile`: ``trace`` and ``compile_step``, backprop written out as code
- :mod:`tinygrad_edu.train`: ``fit``, ``predict``, ``accuracy``
- :mod:`tinygrad_edu.data`: seeded example data sets (pass/fail, grades, moons, spirals)
- beside them: :mod:`tinygrad_edu.viz` (graphs, network diagrams, the backprop stepper;
  extra ``viz``), :mod:`tinygrad_edu.plot` (training plots and animations; extra ``plot``),
  both built in :mod:`tinygrad_edu.pictures`; :mod:`tinygrad_edu.exercises` and
  :mod:`tinygrad_edu.interop` (``to_torch`` / ``from_torch``; needs torch);
  :mod:`tinygrad_edu.args` (argument checks shared above the engine)
"""

from tinygrad_edu.engine import Value, linear, local_derivatives, topological_order
from tinygrad_edu.explain import explain
from tinygrad_edu.function import Function
from tinygrad_edu.grad_mode import is_grad_enabled, no_grad
from tinygrad_edu.gradtools import GradcheckError, backward_steps, gradcheck

backward_order = topological_order  # (the name before 0.2)

__all__ = [
    "Value",
    "no_grad",
    "is_grad_enabled",
    "linear",
    "topological_order",
    "backward_order",
    "backward_steps",
    "local_derivatives",
    "gradcheck",
    "GradcheckError",
    "Function",
    "explain",
]
__version__ = "0.1.0"
