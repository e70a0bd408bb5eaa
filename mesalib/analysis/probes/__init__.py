"""Linear probes and steering vectors: reading, and nudging, what a trained agent computes.

A trained agent's network ends in a layer of hidden activations (`Agent.features(obs)`, 256 tanh
units for the default agent) followed by two linear heads. This module asks two questions of that
layer, the ones lesson 07 asks:

- **Is a quantity linearly readable from it?** Collect activations over many states together with
  what was true in each state (`collect`), compute a label from the boards (`nearest_direction`,
  `nearest_distance`, `Activations.keys_held`), fit a linear model on some episodes and score it on
  others (`fit_probe`, `probe_accuracy`, `regression_r2`, `split_by_episode`). Always next to a
  baseline: the majority class (`majority_accuracy`), and the same probe on the raw observation.
  The probes are closed-form ridge regressions in NumPy (float64), so the same data give the same
  numbers on every machine.
- **Does adding a direction change behaviour?** A steering vector is a difference of mean
  activations between two groups of states (`steering_vector`); `SteeredAgent` adds it, times a
  scale, to the features before the policy head, and behaves like any other policy (evaluate it,
  draw its policy field).

    from mesalib.agents import checkpoints
    from mesalib.analysis import probes
    from mesalib.env.levels import TRAIN
    agent = checkpoints.load("default")
    acts = probes.collect(agent, TRAIN, num_envs=256, steps=40, seed=0)
    y = probes.nearest_direction(acts, "keys")               # -1 where no key is on the board
    train, test = probes.split_by_episode(acts.episode, 0.3, seed=0)
    keep = y >= 0
    probes.probe_accuracy(acts.features[train & keep], y[train & keep],
                          acts.features[test & keep], y[test & keep], n_classes=4)

    v = probes.steering_vector(acts.features[acts.key_visible], acts.features[~acts.key_visible])
    steered = probes.SteeredAgent(agent, v, scale=-1.0)      # a policy: steered(obs, boards) -> actions

A difference of group means picks up everything in which the groups differ. A *paired* difference
compares each state with a copy of itself in which only the feature changed (`paired_vector`, with
`with_inventory` or `without_keys` to make the copies), and the copies themselves are the input-level
control: what the feature really does to the moves (`target_shares`).

The pieces, one module each: `activations` (`collect`, `Activations`), `labels` (`nearest_direction`,
`nearest_distance`, `moves_toward`), `linear` (the ridge probes and their baselines), `steering`
(`steering_vector`, `steer`, `SteeredAgent`) and `paired` (`paired_differences`, `paired_vector`,
`consistency`, `with_inventory`, `without_keys`, `target_shares`). Every name is importable from
`mesalib.analysis.probes`.

Probes measure what is *decodable*, not what the network *uses*; steering measures what a direction
*does*, not what it *means*. Lesson 07 discusses both limits.
"""

from mesalib.analysis.probes.activations import Activations, collect
from mesalib.analysis.probes.labels import DIRECTION_NAMES, moves_toward, nearest_direction, nearest_distance
from mesalib.analysis.probes.linear import (
    LinearProbe,
    fit_probe,
    fit_ridge,
    majority_accuracy,
    one_hot,
    probe_accuracy,
    regression_r2,
    split_by_episode,
)
from mesalib.analysis.probes.paired import (
    consistency,
    paired_differences,
    paired_vector,
    target_shares,
    with_inventory,
    without_keys,
)
from mesalib.analysis.probes.steering import SteeredAgent, steer, steering_vector

__all__ = [
    "DIRECTION_NAMES",
    "Activations",
    "LinearProbe",
    "SteeredAgent",
    "collect",
    "consistency",
    "fit_probe",
    "fit_ridge",
    "majority_accuracy",
    "moves_toward",
    "nearest_direction",
    "nearest_distance",
    "one_hot",
    "paired_differences",
    "paired_vector",
    "probe_accuracy",
    "regression_r2",
    "split_by_episode",
    "steer",
    "steering_vector",
    "target_shares",
    "with_inventory",
    "without_keys",
]
