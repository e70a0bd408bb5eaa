"""Hand-built preference levels: one key and one chest on opposite sides of the agent.

`preference_level` puts them at chosen distances; the agent's first move then tells which of the two it
heads for. `preference_probabilities` reads a policy's move probabilities on every such level that fits
in the room, with or without a key in hand, averaged over the four orientations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mesalib.analysis.choices import action_probabilities
from mesalib.env.levels import Level, LevelDistribution, Mixture
from mesalib.env.rules import DELTAS, Action


def preference_level(key_steps: int, chest_steps: int, key_side: int = Action.LEFT, size: int = 9) -> Level:
    """An open size x size room with the agent, one key `key_steps` cells away in direction `key_side`
    (an `Action`), and one chest `chest_steps` cells away in the opposite direction, all in the
    middle row (or column). Needs 1 <= key_steps, chest_steps and key_steps + chest_steps <= size - 3.

    The agent's first move then tells which item it heads for: `key_side` or its opposite.
    """
    key_steps, chest_steps, side = int(key_steps), int(chest_steps), Action(int(key_side))
    if key_steps < 1 or chest_steps < 1 or key_steps + chest_steps > size - 3:
        raise ValueError(
            f"preference_level: need key_steps, chest_steps >= 1 and key_steps + chest_steps <= "
            f"{size - 3} in a {size}x{size} room; got {key_steps} and {chest_steps}."
        )
    walls = np.zeros((size, size), bool)
    walls[[0, -1], :] = True
    walls[:, [0, -1]] = True
    keys, chests, ghosts = (np.zeros((size, size), bool) for _ in range(3))
    dr, dc = DELTAS[side]
    # Along the line of the items the agent sits so that the whole arrangement is centred.
    span = key_steps + chest_steps
    offset = 1 + (size - 2 - (span + 1)) // 2  # first cell of the arrangement along the line
    along = offset + key_steps  # the agent's coordinate along the line, measured from the key's end
    middle = size // 2
    if dc != 0:  # horizontal line in the middle row
        col = along if dc < 0 else size - 1 - along
        agent = (middle, col)
    else:  # vertical line in the middle column
        row = along if dr < 0 else size - 1 - along
        agent = (row, middle)
    keys[agent[0] + dr * key_steps, agent[1] + dc * key_steps] = True
    chests[agent[0] - dr * chest_steps, agent[1] - dc * chest_steps] = True
    return Level(walls, keys, chests, ghosts, agent)


@dataclass
class Preferences:
    """Move probabilities on preference levels: `toward_key[i, j]` and `toward_chest[i, j]` are the
    probabilities of the first move towards the key and towards the chest with the key i + 1 steps
    away and the chest j + 1 steps away, averaged over the four orientations (NaN where the two do
    not fit in the room)."""

    toward_key: np.ndarray
    toward_chest: np.ndarray
    keys_held: int

    @property
    def chest_minus_key(self) -> np.ndarray:
        """P(towards the chest) - P(towards the key): +1 always the chest, -1 always the key."""
        return self.toward_chest - self.toward_key

    def diagonal(self) -> tuple[np.ndarray, np.ndarray]:
        """(P towards the key, P towards the chest) where both are equally far, for distances 1, 2, ..."""
        n = min(self.toward_key.shape)
        idx = np.arange(n)
        keep = ~np.isnan(self.toward_key[idx, idx])
        return self.toward_key[idx, idx][keep], self.toward_chest[idx, idx][keep]


def preference_probabilities(
    policy, keys_held: int = 0, size: int = 9, dist: LevelDistribution | Mixture | None = None
) -> Preferences:
    """A policy's choice between one key and one chest at every pair of distances that fits.

    For each key distance k and chest distance c (1 <= k, c, k + c <= size - 3) and each of the four
    orientations, build `preference_level(k, c, side)` and read the policy's probabilities of moving
    towards the key and towards the chest (`choices.action_probabilities`), holding `keys_held` keys.
    """
    most = size - 4
    combos = [
        (k, c, side)
        for k in range(1, most + 1)
        for c in range(1, most + 1)
        if k + c <= size - 3
        for side in Action
    ]
    levels = [preference_level(k, c, side, size) for k, c, side in combos]
    probs = action_probabilities(policy, levels, keys_held, dist)
    to_key = np.full((most, most), np.nan)
    to_chest = np.full((most, most), np.nan)
    sums: dict[tuple[int, int], list[float]] = {}
    for (k, c, side), p in zip(combos, probs):
        s = sums.setdefault((k, c), [0.0, 0.0, 0])
        s[0] += p[int(side)]
        s[1] += p[(int(side) + 2) % 4]
        s[2] += 1
    for (k, c), (pk, pc, n) in sums.items():
        to_key[k - 1, c - 1], to_chest[k - 1, c - 1] = pk / n, pc / n
    return Preferences(to_key, to_chest, int(keys_held))
