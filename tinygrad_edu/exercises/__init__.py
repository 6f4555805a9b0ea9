"""Exercises that check your work (notebooks in ``notebooks/exercises/``).

Each checker runs your code on small cases and prints one line per case: ✓ when it is right,
✗ with the expected and the received numbers and a hint when it is not, ○ for a part you have
not written yet. It returns a :class:`Report`, truthy only when every case passes.

- E1 :func:`check_nudging`: derivatives by nudging (one-sided and central differences)
- E2 :func:`check_engine`: your own micrograd-shaped ``Value`` class
- E3 :func:`check_function`: a new op, as a ``tinygrad_edu.Function`` or a function of Values
- E4 :func:`check_softmax_nll`: softmax and negative log-likelihood by hand
- E5 :func:`check_training_step`: one step of gradient descent by hand
"""

from tinygrad_edu.exercises._report import Mismatch, Report, Result
from tinygrad_edu.exercises.engine_check import MISTAKES, check_engine
from tinygrad_edu.exercises.function_check import check_function
from tinygrad_edu.exercises.nudging_check import check_nudging
from tinygrad_edu.exercises.softmax_check import check_softmax_nll
from tinygrad_edu.exercises.training_check import check_training_step

__all__ = [
    "check_nudging",
    "check_engine",
    "check_function",
    "check_softmax_nll",
    "check_training_step",
    "MISTAKES",
    "Report",
    "Result",
    "Mismatch",
]
