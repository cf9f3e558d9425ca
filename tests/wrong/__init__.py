"""Catalogs of wrong-in-one-regime implementations, one module per suite module.

tests/wrong/<suite module>.py (e.g. pooling.py for autograder/grading/suites/pooling.py)
defines `WRONG = [Wrong(...), ...]`. Each entry is a small, plausible student or
library mistake that agrees with the reference on every hidden case outside its
regime and differs on some case inside it; tests/test_regimes.py proves both and
that grading takes points off it.
"""
from dataclasses import dataclass
from typing import Callable, Optional


@dataclass
class Wrong:
    """One wrong implementation of `exercise`, wrong only where `regime` is hit.

    exercise:    the exercise name (as in the suite).
    regime:      the name of one regime of that exercise's table.
    description: the mistake in a few words ("splits ceil_mode padding over both sides").
    fn:          a function with the exercise's signature.
    lesson:      lesson id, only needed when the catalog's module serves several lessons.
    """
    exercise: str
    regime: str
    description: str
    fn: Callable
    lesson: Optional[str] = None
