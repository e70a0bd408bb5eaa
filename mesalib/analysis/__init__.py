"""The analysis layer: measuring what agents do and why, on top of the agents layer.

- `evaluate`: play policies on a fixed list of levels and count what happened.
- `episodes`: one episode recorded step by step. `choices`: what a policy would do in states we choose.
- `criteria`: the three misgeneralization criteria as code. `catalog`: regenerating the shipped agents.
- `robustness`: where a policy sits on the 2-D robustness plot (capability vs objective).
- `behaviour`: score what a policy did under an objective it might be pursuing.
- `stance/`: the intentional stance: which objective explains the agent's choices best.
- `probes/`: what the network's activations encode, and steering them.
- `concern`: Barnett's three levels of concern as measurements.
- `agreement`: how often two policies choose the same move, and how often one's move is among the
  other's optimal moves (ties counted).
- `objective_finder`: inverse planning: the key:chest weights that best explain recorded moves.
- `attribution`: agent or device: goals and rules fitted on some levels, scored on held-out ones.
- `objective_landscape`: `TRAIN` and `TEST` return over the objectives a base optimizer can select,
  and which one each selection seed picks.
- `sweep`: the diversity sweep over the training mixture. `training_history`: a run's curves.
- `generalization`: the sweep's agents on every named distribution (lesson 08's matrix).
- `recorded_play`: a person's (or a stand-in's) moves, saved, loaded, and attributed like an agent's.
- `separating`: levels on which a proxy policy and the intended one open different numbers of chests.
"""
