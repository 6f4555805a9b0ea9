"""Networks built from ``Value``: ``Module`` (module.py: parameters, state_dict) and the layers
(layers.py: ``Neuron``, ``Layer``, ``Dense``, ``MLP``, ``Sequential``)."""

from tinygrad_edu.nn.layers import (
    ACTIVATIONS,
    INITS,
    MAX_PARAMETERS,
    MLP,
    Dense,
    Layer,
    Neuron,
    Sequential,
)
from tinygrad_edu.nn.module import Module, Output

__all__ = ["Module", "Output", "Neuron", "Layer", "Dense", "MLP", "Sequential", "ACTIVATIONS",
           "INITS", "MAX_PARAMETERS"]
