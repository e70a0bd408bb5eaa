"""The drawing layer: pictures of everything below it (matplotlib and ipywidgets live here).

- `render`: a level as an RGB array, a matplotlib drawing (`vector`) or text, in one place.
- `style`: the palette and figure helpers every plot shares.
- `plots`: robustness, training-history and sweep figures. `replay`: frames, timelines and animations
  of an episode. `fields`: a policy's moves drawn over a level.
- `widgets/`: ipywidgets for playing, replaying, comparing and watching training, driven from code in tests.
"""
