"""The drawing layer: pictures of everything below it.

- `render`: a level as an RGB array, a matplotlib drawing, or text.
- `plots`: figures (2-D robustness, policy fields, episodes, training curves, animations).
- `widgets`: ipywidgets for playing, replaying, comparing and watching training, driven from code in tests.
"""
