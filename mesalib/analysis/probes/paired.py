"""Paired activation differences: the same state with and without one feature, and what it does.

An unpaired steering vector (`steering.steering_vector`) compares two *groups* of states, so it picks
up everything in which the groups differ (where the agent stands, how many items are left), not only
the feature they were named after. A paired difference compares each state with a copy of itself in
which only that feature changed, as Mini et al. (2023) did with a maze and the same maze without its
cheese; the mean over many pairs is a steering vector for that feature alone.

The same pairs give an input-level control: the behaviour on the edited copies is what the feature
really does, and a steering vector can be judged by how much of that change it reproduces.
"""

from __future__ import annotations

import numpy as np

from mesalib.analysis.probes.labels import moves_toward
from mesalib.env.rules import KEY, inventory_flags


def with_inventory(obs, keys_held) -> np.ndarray:
    """A copy of observations with inventory planes (channels 4 and up) that show `keys_held` keys.

    obs: uint8 [N, C, V, V] from a distribution with C - 4 inventory planes (the `inventory` agent's);
    keys_held: an int, or int [N]. Nothing else in the observation changes: only what the agent is
    told it holds.
    """
    obs = np.array(obs, copy=True)
    planes = obs.shape[1] - 4
    if planes < 1:
        raise ValueError(
            f"with_inventory: these observations have no inventory planes (shape {obs.shape}); "
            "use an agent trained with inventory_planes > 0, such as checkpoints.load('inventory')."
        )
    flags = inventory_flags(np.broadcast_to(np.asarray(keys_held), (len(obs),)), planes)
    obs[:, 4:] = flags[:, :, None, None]
    return obs


def without_keys(obs) -> np.ndarray:
    """A copy of observations with the key plane cleared: the same boards, shown without their keys."""
    obs = np.array(obs, copy=True)
    obs[:, KEY] = 0
    return obs


def paired_differences(agent, obs_with, obs_without) -> np.ndarray:
    """float64 [N, H]: `agent.features(obs_with[i]) - agent.features(obs_without[i])` for each pair.

    Row i of the two arrays must be the same state, with and without the feature."""
    obs_with, obs_without = np.asarray(obs_with), np.asarray(obs_without)
    if obs_with.shape != obs_without.shape or not len(obs_with):
        raise ValueError(
            f"paired_differences: need two non-empty arrays of the same shape, one row per pair; "
            f"got {obs_with.shape} and {obs_without.shape}."
        )
    with_, without = (np.asarray(agent.features(o).numpy(), np.float64) for o in (obs_with, obs_without))
    return with_ - without


def paired_vector(agent, obs_with, obs_without) -> np.ndarray:
    """float64 [H]: the mean paired difference (`paired_differences`), a steering vector for one
    feature: add it (scale +1) to move the features as the feature's presence does, on average."""
    return paired_differences(agent, obs_with, obs_without).mean(axis=0)


def consistency(differences) -> float:
    """Mean cosine similarity between each pair's difference and their mean, from -1 to 1.

    Near 1: the feature moves the features the same way in every state, so one vector can stand for it.
    Near 0: each state answers differently, and the mean vector is a poor summary of any of them."""
    d = np.asarray(differences, np.float64)
    mean = d.mean(axis=0)
    norms = np.linalg.norm(d, axis=1) * np.linalg.norm(mean)
    keep = norms > 0
    return float(np.mean((d[keep] @ mean) / norms[keep])) if keep.any() else 0.0


def target_shares(states, actions) -> dict[str, float]:
    """Of the moves `actions` in `states` (`Activations` or `levels.Boards`), the shares that step
    towards the nearest key and towards the nearest chest (`labels.moves_toward`)."""
    return {
        "to a key": float(moves_toward(states, actions, "keys").mean()),
        "to a chest": float(moves_toward(states, actions, "chests").mean()),
    }
