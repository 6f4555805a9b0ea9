"""Training plots and animations with matplotlib: the public names; they live in
:mod:`tinygrad_edu.pictures` (``plots``: static plots, ``animations``: animated ones).

- ``plot_history``, ``plot_decision_boundary``, ``plot_loss_landscape``, ``plot_activations``,
  ``plot_neuron_maps``: each returns the matplotlib Figure it drew on
- ``descent_path``, ``batch_descent_path``: where gradient descent walks on a loss of two
  weights; ``animate_descent_paths`` plays several side by side
- ``TrainingRecorder``: a ``fit`` callback recording the decision regions as training runs

Needs matplotlib: ``pip install 'tinygrad_edu[plot]'``.
"""

from tinygrad_edu.pictures.animations import (
    DescentAnimation,
    FrameAnimation,
    TrainingRecorder,
    animate_descent_paths,
    batch_descent_path,
    descent_path,
)
from tinygrad_edu.pictures.plots import (
    plot_activations,
    plot_decision_boundary,
    plot_history,
    plot_loss_landscape,
    plot_neuron_maps,
)

__all__ = [
    "plot_history",
    "plot_decision_boundary",
    "plot_loss_landscape",
    "descent_path",
    "batch_descent_path",
    "plot_activations",
    "plot_neuron_maps",
    "FrameAnimation",
    "TrainingRecorder",
    "DescentAnimation",
    "animate_descent_paths",
]
