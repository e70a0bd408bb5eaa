"""The environment layer: the Chests and Keys world, needing only NumPy (and Gymnasium for the adapters).

- `levels`: levels and level distributions, plain data (`TRAIN`, `TEST`, `mix`).
- `rules`: the rules for one level as pure functions in plain Python, the reference everything agrees with.
- `vecenv`: the batched NumPy core, the fast twin of `rules`, cross-checked against it step by step.
- `rollout`: the one loop that plays a policy on the batched core (`play_levels`, `play_steps`).
- `pictures`, `sprites`: a level as an RGB image or text, and the colours every picture shares.
- `adapters`: the Gymnasium environments (single and vector) and their registration.

Nothing here imports torch, matplotlib or ipywidgets, or anything from the layers above.
"""
