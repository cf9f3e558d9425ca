"""Reference solutions: pure NumPy, float64, vectorized, with torch.nn.functional's names.

    from autograder.reference import conv2d, max_pool2d_backward

One module per topic; each module's __all__ is re-exported here. This package
is never visible to student code while grading (see autograder/grading/sandbox.py).
"""
from .arithmetic import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .fast import *  # noqa: F401,F403
from .network import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .variants import *  # noqa: F401,F403
from . import arithmetic, conv, fast, network, normalization, pooling, variants

__all__ = [*pooling.__all__, *conv.__all__, *variants.__all__, *network.__all__, *arithmetic.__all__,
           *normalization.__all__, *fast.__all__]
