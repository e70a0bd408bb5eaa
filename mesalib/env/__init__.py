"""The environment layer: the Chests and Keys world, needing only NumPy.

- `levels`: levels and level distributions, plain data (`TRAIN`, `TEST`, `mix`).
- `rules`: the rules for one level in plain Python, the reference everything else agrees with.
- `vecenv`: the batched NumPy core, the fast twin of `rules`, cross-checked against it step by step.
- `adapters`: the Gymnasium environments (single and vector) and their registration.

Nothing here imports torch, matplotlib or ipywidgets, or anything from the layers above.
"""
