"""Gymnasium adapters: the standard face of Chests and Keys, for code that speaks Gymnasium.

- `ChestsAndKeysEnv` plays one level with the plain-Python rules (`rules.Game`); at batch size 1
  plain Python is many times faster than NumPy.
- `ChestsAndKeysVectorEnv` wraps the batched NumPy core (`vecenv.VecChestsAndKeys`) with
  Gymnasium's default next-step autoreset: the step that ends an episode returns its last
  observation and `info`, and the next step starts a new level in that game, ignoring its action.
  `autoreset_mode=AutoresetMode.SAME_STEP` gives the core's own same-step autoreset instead: the
  observation after an episode ends is the next episode's first, and `info["final_obs"]` /
  `info["final_info"]` describe the episode that ended. Either way nothing is copied: the arrays a
  step returns are the core's, which it never changes afterwards.

Both are registered on `import mesalib` as `mesalib/ChestsAndKeys-Train-v0` and
`mesalib/ChestsAndKeys-Test-v0`; keyword arguments to `gymnasium.make` / `gymnasium.make_vec`
override fields of the distribution, e.g. `gymnasium.make("mesalib/ChestsAndKeys-Test-v0", view=7)`.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from mesalib.env.levels import TEST, TRAIN, Level, LevelDistribution, Mixture
from mesalib.env.rules import INFO_KEYS, Game
from mesalib.env.vecenv import VecChestsAndKeys

ENV_IDS = {"mesalib/ChestsAndKeys-Train-v0": TRAIN, "mesalib/ChestsAndKeys-Test-v0": TEST}


def _with_overrides(dist, overrides: dict):
    if not overrides:
        return dist
    if isinstance(dist, Mixture):
        raise ValueError(
            f"Cannot override {sorted(overrides)} on a Mixture; build the parts with "
            "the changes and mix them again."
        )
    unknown = set(overrides) - set(LevelDistribution.__dataclass_fields__)
    if unknown:
        raise ValueError(
            f"Unknown distribution field(s) {sorted(unknown)}; allowed: "
            f"{sorted(LevelDistribution.__dataclass_fields__)}."
        )
    return dist.replace(**overrides)


def _observation_space(dist) -> spaces.Box:
    return spaces.Box(0, 1, shape=dist.observation_shape, dtype=np.uint8)


class ChestsAndKeysEnv(gym.Env):
    """One Chests and Keys game. `dist` picks the levels; other keyword arguments override its fields."""

    metadata = {"render_modes": ["rgb_array", "ansi"], "render_fps": 6}
    _LEVELS_PER_DRAW = 32

    def __init__(
        self, dist: LevelDistribution | Mixture = TRAIN, render_mode: str | None = None, **overrides
    ):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']} or None; got {render_mode!r}."
            )
        self.dist = _with_overrides(dist, overrides)
        self.render_mode = render_mode
        self.observation_space = _observation_space(self.dist)
        self.action_space = spaces.Discrete(4)
        self.game: Game | None = None
        # Levels drawn ahead in blocks: sampling one at a time costs more than a step.
        self._levels: list[Level] = []

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None or not self._levels:
            batch = self.dist.sample(self.np_random, self._LEVELS_PER_DRAW)
            self._levels = [batch[i] for i in reversed(range(len(batch)))]
        self.game = Game(self._levels.pop(), self.dist)
        return self.game.observe(), self.game.info()

    def step(self, action):
        if self.game is None:
            raise RuntimeError("Call reset() before step().")
        reward, terminated, truncated = self.game.step(action)  # the rules reject a bad action
        return self.game.observe(), float(reward), terminated, truncated, self.game.info()

    def render(self):
        if self.game is None or self.render_mode is None:
            return None
        from mesalib.env import pictures

        show = self.dist.ghost_chests
        if self.render_mode == "ansi":
            return pictures.text(self.game.level(), self.game.keys_held, show_ghosts=show)
        return pictures.rgb_array(self.game.level(), self.game.keys_held, show_ghosts=show)


class ChestsAndKeysVectorEnv(gym.vector.VectorEnv):
    """`num_envs` games on the batched NumPy core, with next-step (default) or same-step autoreset."""

    metadata = {"render_modes": ["rgb_array"], "autoreset_mode": AutoresetMode.NEXT_STEP}
    _AUTORESET = {AutoresetMode.NEXT_STEP: "next_step", AutoresetMode.SAME_STEP: "same_step"}

    def __init__(
        self,
        num_envs: int = 1,
        dist: LevelDistribution | Mixture = TRAIN,
        render_mode: str | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        **overrides,
    ):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']} or None; got {render_mode!r}."
            )
        mode = next((m for m in self._AUTORESET if autoreset_mode in (m, m.value)), None)
        if mode is None:
            allowed = " or ".join(f"AutoresetMode.{m.name} ({m.value!r})" for m in self._AUTORESET)
            raise ValueError(f"autoreset_mode must be {allowed}; got {autoreset_mode!r}.")
        self.metadata = {**self.metadata, "autoreset_mode": mode}
        self.dist = _with_overrides(dist, overrides)
        self.core = VecChestsAndKeys(self.dist, num_envs, autoreset=self._AUTORESET[mode])
        self.num_envs = self.core.num_envs
        self.render_mode = render_mode
        self.single_observation_space = _observation_space(self.dist)
        self.single_action_space = spaces.Discrete(4)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._everyone = np.ones(self.num_envs, bool)  # the mask of keys every game reports
        self._everyone.flags.writeable = False

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._np_random, self._np_random_seed = gym.utils.seeding.np_random(seed)
        return self.core.reset(seed=seed), self._infos(self.core.counters, self._everyone)

    def step(self, actions):
        if self.core.autoreset == "next_step":  # the core's step is the whole answer
            obs, reward, terminated, truncated, counters = self.core.step(np.asarray(actions))
            return obs, reward, terminated, truncated, self._infos(counters, self._everyone)
        obs, reward, terminated, truncated, ended = self.core.step(np.asarray(actions), final_obs=True)
        infos = self._infos(self.core.counters, self._everyone)  # the episodes now running
        done = terminated | truncated
        if done.any():
            done.flags.writeable = False  # shared by the masks below
            final_obs = ended.pop("final_obs")
            infos["final_obs"] = np.empty(self.num_envs, dtype=object)  # all None
            infos["final_obs"][done] = np.fromiter(final_obs, dtype=object, count=len(final_obs))
            infos["_final_obs"] = done
            infos["final_info"] = self._infos(ended, done)
            infos["_final_info"] = done
        return obs, reward, terminated, truncated, infos

    def render(self):
        if self.render_mode is None:
            return None
        from mesalib.env import pictures

        boards = self.core.boards()
        return [
            pictures.rgb_array(boards[i], int(boards.keys_held[i]), show_ghosts=self.dist.ghost_chests)
            for i in range(self.num_envs)
        ]

    def _infos(self, counters: dict, mask: np.ndarray) -> dict:
        """Gymnasium's vector info layout: each key has an array and a boolean `_key` mask. Nothing
        is copied: the core's counters are read-only arrays it never changes once published, and
        every key shares one read-only mask."""
        infos = {}
        for name in INFO_KEYS:
            infos[name] = counters[name]
            infos["_" + name] = mask
        return infos


def register() -> None:
    """Register the environment ids with Gymnasium (done on `import mesalib`; safe to repeat)."""
    for env_id, dist in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(
                id=env_id,
                entry_point="mesalib.env.adapters:ChestsAndKeysEnv",
                vector_entry_point="mesalib.env.adapters:ChestsAndKeysVectorEnv",
                kwargs={"dist": dist},
            )
