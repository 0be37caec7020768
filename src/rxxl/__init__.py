"""rxxl: pharmacy finance and 340B compliance analytics for Excel.

The metric families live in one module each (:mod:`rxxl.variance`, :mod:`rxxl.generics`,
:mod:`rxxl.inventory`, :mod:`rxxl.roi`); :mod:`rxxl.udfs` exposes them to Excel.
"""

__version__ = "0.1.0"
