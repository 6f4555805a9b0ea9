# ---
# jupyter:
#   jupytext:
#     formats: ipynb,sources//py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # E1. Derivatives by nudging — solution
#
# A derivative answers one question: *if I nudge $x$ a little, how much does $f(x)$ move?*
# Here you compute it the most direct way there is, by nudging, in two ways, and measure
# which way is more accurate.
#
# **How the exercises work.** A cell that says `YOUR CODE HERE` is yours: replace the
# `raise NotImplementedError(...)` line with your code, then run the check cell below it.
# Each check prints one line per case:
#
# - ✓ the case is right;
# - ✗ it is wrong: the line shows the number expected, the number your code gave, and a hint;
# - ○ not implemented yet (you have not written that part), or not checked yet (it waits for
#   another case to pass).
#
# Run the cells from the top; run a check again whenever you change your code.

# %%
from tinygrad_edu.exercises import check_nudging

# %% [markdown]
# ## One-sided difference
#
# Move $x$ by a small step $h$ and divide how far $f$ moved by how far $x$ moved:
#
# $$f'(x) \approx \frac{f(x+h) - f(x)}{h}.$$
#
# Write `one_sided(f, x, h)`: `f` is a Python function of one number, `x` the point, `h` the
# step. It returns the estimate (a float).

# %%
def one_sided(f, x, h):
    """The slope of f at x from one nudge to the right: (f(x + h) - f(x)) / h."""
    # YOUR CODE HERE
    return (f(x + h) - f(x)) / h


# %%
report = check_nudging(one_sided)

# %% [markdown]
# ## Central difference
#
# Nudge both ways and divide by the distance between the two points, $2h$:
#
# $$f'(x) \approx \frac{f(x+h) - f(x-h)}{2h}.$$

# %%
def central(f, x, h):
    """The slope of f at x from nudges both ways: (f(x + h) - f(x - h)) / (2 h)."""
    # YOUR CODE HERE
    return (f(x + h) - f(x - h)) / (2 * h)


# %% [markdown]
# This check runs both functions, then measures their errors on $f(x) = x^3$ at $x = 2$
# (exact slope $12$) for $h = 0.1, 0.01, 0.001, 0.0001$.

# %%
report = check_nudging(one_sided, central)

# %% [markdown]
# ## Why the central difference is better
#
# Taylor's formula says what $f$ does near $x$:
#
# $$f(x \pm h) = f(x) \pm h f'(x) + \frac{h^2}{2} f''(x) \pm \frac{h^3}{6} f'''(x) + \dots$$
#
# - One-sided: $\frac{f(x+h) - f(x)}{h} = f'(x) + \frac{h}{2} f''(x) + \dots$ The error is
#   about $\frac{h}{2} f''(x)$: it shrinks **like $h$** (order 1). Ten times smaller $h$,
#   ten times smaller error.
# - Central: the $h^2$ terms of $f(x+h)$ and $f(x-h)$ are equal and cancel, so
#   $\frac{f(x+h) - f(x-h)}{2h} = f'(x) + \frac{h^2}{6} f'''(x) + \dots$ The error shrinks
#   **like $h^2$** (order 2). Ten times smaller $h$, a hundred times smaller error.
#
# For $f(x) = x^3$ at $x = 2$ both errors are exact: $6h + h^2$ and $h^2$, the numbers in the
# table above. That is why `gradcheck` (notebook 2) and `check_function` (E3) use the central
# difference.
#
# ## How small can h go?
#
# Not arbitrarily small: a float carries about 16 significant digits, and $f(x+h) - f(x)$
# cancels most of them when $h$ is tiny. Run this once your check passes.

# %%
if report:
    def cube(x):
        return x**3

    print("      h     one-sided error   central error")
    for k in range(1, 14):
        h = 10.0**-k
        e1 = abs(one_sided(cube, 2.0, h) - 12)
        e2 = abs(central(cube, 2.0, h) - 12)
        print(f"  1e-{k:<2}     {e1:13.1e}     {e2:13.1e}")
else:
    print("Finish one_sided and central first (the check above shows what is left).")

# %% [markdown]
# The central error is smallest near $h = 10^{-5}$ and the one-sided near $h = 10^{-8}$;
# below that, rounding (about $10^{-16} \cdot |f| / h$) grows as $h$ shrinks. A step around
# $10^{-6}$ is a good default for the central difference, and it is `gradcheck`'s.
