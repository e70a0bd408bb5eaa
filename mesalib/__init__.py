"""mesalib: the helper library of a hands-on course on goal misgeneralization.

The core (levels, rules, batched environment) needs only NumPy; importing the package also
registers the Gymnasium ids `mesalib/ChestsAndKeys-Train-v0` and `mesalib/ChestsAndKeys-Test-v0`.
Torch, matplotlib and ipywidgets are imported only by the modules that need them.
"""

from mesalib.env.adapters import ChestsAndKeysEnv, ChestsAndKeysVectorEnv, register
from mesalib.env.levels import TEST, TRAIN, Boards, Level, LevelBatch, LevelDistribution, Mixture, mix
from mesalib.env.rules import Action, Game
from mesalib.env.vecenv import VecChestsAndKeys

register()

__version__ = "0.1.0"
__all__ = [
    "TEST",
    "TRAIN",
    "Action",
    "Boards",
    "ChestsAndKeysEnv",
    "ChestsAndKeysVectorEnv",
    "Game",
    "Level",
    "LevelBatch",
    "LevelDistribution",
    "Mixture",
    "VecChestsAndKeys",
    "mix",
]
