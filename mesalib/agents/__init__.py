"""The agents layer: everything that chooses moves, on top of the environment layer.

- `heuristics`: hand-written policies (random, wall follower, nearest key, key then chest) and the
  distance maps they walk by; the policy protocol `policy(obs, boards) -> actions`.
- `objectives`: an explicit objective as data (`Objective`, `CHESTS`, `KEYS`).
- `planner`: explicit search over plans scored by an objective (`Planner`, `best_chests`).
- `visit_orders`: the planner's ideas in miniature, the references of lesson 03's exercises.
- `nets`, `ppo`: the neural agent's networks and its PPO training.
- `value_planner`: search scored by a trained network's value head.
- `checkpoints`: the shipped trained agents and their catalog.
- `registry`: every agent by name.
"""
