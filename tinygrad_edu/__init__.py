"""tinygrad_edu: learn how neural networks learn, one scalar at a time.

``Value`` (in :mod:`tinygrad_edu.engine`) is the autograd engine; :mod:`tinygrad_edu.nn`
builds neurons, layers and MLPs on it; :mod:`tinygrad_edu.losses`, :mod:`tinygrad_edu.optim`
and :mod:`tinygrad_edu.train` train them; :mod:`tinygrad_edu.viz` and :mod:`tinygrad_edu.plot`
draw the pictures.
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

__all__ = [
    "Value",
    "no_grad",
    "is_grad_enabled",
    "linear",
    "backward_order",
    "backward_steps",
    "gradcheck",
    "GradcheckError",
]
__version__ = "0.1.0"
