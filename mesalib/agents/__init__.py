"""The agents layer: everything that chooses moves, on top of the environment layer.

- `heuristics`: hand-written policies (random, wall follower, nearest key, key then chest) and the
  distance maps they walk by; the policy protocol `policy(obs, boards) -> actions`.
- `objectives`: an explicit objective as data (`Objective`, `CHESTS`, `KEYS`).
- `planner`, `plan_search`: explicit search over plans scored by an objective (`Planner`, `best_chests`).
- `visit_orders`: the planner's ideas in miniature, the references of lesson 03's exercises.
- `nets`: the actor-critic networks. `ppo_config`: PPO's settings. `ppo`: training, read top to bottom
  (collect a rollout, compute advantages, update, log). `training_log`: what a run reports.
- `agent`: a trained network as a policy, and its checkpoint file.
- `value_planner`: search scored by a trained network's value head.
- `selected_planner`: a planner whose objective a base optimizer selected from `TRAIN` reward alone
  (Barnett's level 3: explicit search, world model and objective, the objective learned).
- `checkpoints`: the shipped trained agents and their catalog.
- `registry`: every agent by name, and the levels a trained agent learned on.
"""
