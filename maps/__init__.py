"""Maps of optimizer behaviour over many runs at once: learning-rate sweeps with their
stability limits, the (lr, momentum) heatmap, basins of attraction, and the tuner.

Each map is one vectorized run of ``optimizers.summary`` (no paths kept): a swept value
or a start is a row.
"""

from maps.basins import DIVERGED, UNSETTLED, BasinMap, Basins, Minimum, basins
from maps.heatmap import DEFAULT_Y, Heatmap, default_y, heatmap
from maps.sweep import Sweep, boundary, constant_hessian, lr_values, stability_limit, sweep

__all__ = [
    "DEFAULT_Y",
    "DIVERGED",
    "UNSETTLED",
    "BasinMap",
    "Basins",
    "Heatmap",
    "Minimum",
    "Sweep",
    "basins",
    "boundary",
    "constant_hessian",
    "default_y",
    "heatmap",
    "lr_values",
    "stability_limit",
    "sweep",
]
