"""tinygrad_edu: learn how neural networks learn, one scalar at a time.

The layers, bottom to top (each imports only the ones below it):

- :mod:`tinygrad_edu.engine`: ``Value``, each op with its local derivative, ``backward()``: the
  textbook. Beside it: :mod:`~tinygrad_edu.checks` (input checks, errors),
  :mod:`~tinygrad_edu.grad_mode` (``no_grad``), :mod:`~tinygrad_edu.backprop`
  (``backward_steps``, ``local_derivatives``), :mod:`~tinygrad_edu.fastpath` (speed: the walk
  ``backward()`` runs, a layer's neurons as one node each), :mod:`~tinygrad_edu.fused`
  (``linear``), :mod:`~tinygrad_edu.function` (``Function``), :mod:`~tinygrad_edu.gradcheck`
- :mod:`tinygrad_edu.nn`: ``Neuron``, ``Layer``, ``MLP``, ``Sequential``
- :mod:`tinygrad_edu.losses`, :mod:`tinygrad_edu.optim`: losses, ``SGD``, ``Adam``, ``AdamW``
- :mod:`tinygrad_edu.compile`: ``trace`` and ``compile_step``, backprop written out as code
- :mod:`tinygrad_edu.exercises`: checkers for the exercise notebooks
- :mod:`tinygrad_edu.train`: ``fit``, ``predict``, ``accuracy``
- :mod:`tinygrad_edu.data`: seeded example data sets (pass/fail, grades, moons, spirals)
- beside them: :mod:`tinygrad_edu.viz` (graphs, network diagrams; extra ``viz``),
  :mod:`tinygrad_edu.plot` (training plots; extra ``plot``) and
  :mod:`tinygrad_edu.interop` (``to_torch`` / ``from_torch``; needs torch)
"""

from tinygrad_edu.engine import (
    GradcheckError,
    Value,
    backward_order,
    backward_steps,
    gradcheck,
    is_grad_enabled,
    linear,
    no_grad,
)
from tinygrad_edu.explain import explain
from tinygrad_edu.function import Function

__all__ = [
    "Value",
    "no_grad",
    "is_grad_enabled",
    "linear",
    "backward_order",
    "backward_steps",
    "gradcheck",
    "GradcheckError",
    "Function",
    "explain",
]
__version__ = "0.1.0"
