"""tinygrad_edu: learn how neural networks learn, one scalar at a time.

The layers, bottom to top (each imports only the ones below it):

- :mod:`tinygrad_edu.engine`: ``Value``, ``backward()``, ``no_grad``, ``gradcheck`` (exported here)
- :mod:`tinygrad_edu.nn`: ``Neuron``, ``Layer``, ``MLP``, ``Sequential``
- :mod:`tinygrad_edu.losses`, :mod:`tinygrad_edu.optim`: losses, ``SGD`` and ``Adam``
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
from tinygrad_edu.explain import explain  # (the function; the module is tinygrad_edu.explain too)

__all__ = [
    "Value",
    "no_grad",
    "is_grad_enabled",
    "linear",
    "backward_order",
    "backward_steps",
    "gradcheck",
    "GradcheckError",
    "explain",
]
__version__ = "0.1.0"
