"""Recorded play: the moves a person made on some levels, saved, loaded, and put to the stance's tests.

Lesson 06 asks of an agent "goal-directed, or a device?" by fitting goals and rules to its decisions
(`attribution.attribute`). The same question can be put to a person: `drawing.widgets.play` records
every level played by hand as a `RecordedEpisode` (the level as it was at the start, and the moves),
`save_play` writes a `RecordedPlay` to a small JSON file, and `load_play` reads it back.
`RecordedPlay.trajectories` replays the moves with the reference rules (`rules.Game`) and returns the
decisions, the board before each move and the move, as the `stance.Trajectories` that `stance` and
`attribution` read for an agent; `attribute_play` runs `attribution.attribute` on them.

Only the start of each level is stored: the rules are deterministic, so the board before every move
follows from it and the moves, and a file stays readable (walls as text rows, items as cells).

`scripted_play` makes a stand-in recording with no person involved (the course ships one,
`stand_in()`, so that lesson 06 runs unattended); its file says so in `provenance`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mesalib.agents.heuristics import KeyThenChest
from mesalib.agents.objectives import CHESTS
from mesalib.agents.planner import Planner
from mesalib.analysis.attribution import Attribution, attribute
from mesalib.analysis.episodes import level_for
from mesalib.analysis.stance import Trajectories
from mesalib.env.levels import TEST, TRAIN, Boards, Level, LevelDistribution, Mixture
from mesalib.env.rules import DELTAS, Action, Game

FORMAT = "mesalib recorded play"
"""The `format` field every recorded-play file starts with."""
VERSION = 1
"""The file format's version; `load_play` refuses others."""

NAMED = {"TRAIN": TRAIN, "TEST": TEST}
"""The distributions a recording names (`RecordedEpisode.levels`); any other is "custom"."""

MOVE_LETTERS = "URDL"
"""How a file writes the moves: one letter per move, `Action` order (UP, RIGHT, DOWN, LEFT)."""

DATA = Path(__file__).resolve().parent / "data"
"""Where the package keeps its shipped recordings."""
STAND_IN = "stand_in_play.json"
"""The shipped stand-in recording, in `DATA` (see `stand_in`)."""


def levels_name(dist: LevelDistribution | Mixture) -> str:
    """ "TRAIN" or "TEST" for those distributions (every setting equal), else "custom"."""
    return next((name for name, known in NAMED.items() if dist == known), "custom")


@dataclass
class RecordedEpisode:
    """One level played: where (`dist`, `levels` its name, `seed` if the level is `level_for(dist, seed)`),
    the board at the start (`level`), and the moves made, in order (ints, `rules.Action`). `note` says
    anything worth knowing about how the moves were made (a stand-in's procedure, say)."""

    dist: LevelDistribution | Mixture
    level: Level
    moves: list[int] = field(default_factory=list)
    seed: int | None = None
    note: str = ""

    @property
    def levels(self) -> str:
        return levels_name(self.dist)

    def frames(self) -> list[Game]:
        """The game at each frame, replayed with the reference rules: frame t is the game after t
        moves, so frame t is what move t was made on, and the last frame is the end.

        A move made after the episode ended (the widget never records one) is an error, since no
        game could have taken it."""
        game = Game(self.level, self.dist)
        states = [game.state]
        for t, move in enumerate(self.moves):
            if not 0 <= int(move) <= 3:
                raise ValueError(f"recorded move {t} is {move!r}; moves are 0-3 ({MOVE_LETTERS}).")
            _, terminated, truncated = game.step(int(move))
            states.append(game.state)
            if (terminated or truncated) and t < len(self.moves) - 1:
                raise ValueError(
                    f"the episode on {self.levels} (seed {self.seed}) ended after move {t + 1}, but "
                    f"{len(self.moves)} moves were recorded: a recording must stop where its game does."
                )
        out = []
        for state in states:
            g = Game(self.level, self.dist)
            g.state = state
            out.append(g)
        return out

    def summary(self) -> dict[str, int]:
        """The episode's running totals at its end (`rules.INFO_KEYS`: steps, keys, chests opened...)."""
        return self.frames()[-1].info()


@dataclass
class RecordedPlay:
    """Episodes played by one `player`, and where the recording comes from (`provenance`: by hand in
    the widget, or a script, said plainly)."""

    episodes: list[RecordedEpisode] = field(default_factory=list)
    player: str = "you"
    provenance: str = "played by hand in mesalib.drawing.widgets.play"

    def __len__(self) -> int:
        return len(self.episodes)

    def on(self, levels: str) -> RecordedPlay:
        """The episodes played on `levels` ("TRAIN", "TEST" or "custom"), as a recording of their own."""
        return dataclasses.replace(self, episodes=[e for e in self.episodes if e.levels == levels])

    @property
    def decisions(self) -> int:
        """How many moves were recorded, all episodes together."""
        return sum(len(e.moves) for e in self.episodes)

    def trajectories(self, levels: str | None = None) -> Trajectories:
        """Every decision (the board before the move, the steps left, the move) of the episodes on
        `levels` (all when None), as `stance.record` returns an agent's: rows by episode and in time
        order, `probs` one-hot on the move made, `episode` the episode's index in this recording."""
        rows: list[tuple[Boards, int, int, int]] = []
        for i, episode in enumerate(self.episodes):
            if levels is not None and episode.levels != levels:
                continue
            for game, move in zip(episode.frames(), episode.moves):
                rows.append((game.boards(), int(episode.dist.max_steps) - game.steps, int(move), i))
        if not rows:
            raise ValueError(f"no recorded decisions on {levels or 'any levels'}: play some first.")
        sizes = sorted({b.walls.shape[1] for b, *_ in rows})
        if len(sizes) > 1:
            raise ValueError(f"the episodes were played on grids of sizes {sizes}: ask for one `levels`.")
        boards = Boards(
            *(np.concatenate([getattr(b, f.name) for b, *_ in rows]) for f in dataclasses.fields(Boards))
        )
        actions = np.array([r[2] for r in rows], dtype=np.int64)
        return Trajectories(
            boards=boards,
            steps_left=np.array([r[1] for r in rows], dtype=np.int64),
            actions=actions,
            probs=np.eye(4)[actions],
            episode=np.array([r[3] for r in rows], dtype=np.int64),
        )

    def summary(self) -> str:
        """One line per kind of levels: episodes, moves, keys collected and chests opened per episode."""
        lines = [f"{self.player}: {self.provenance}"]
        for name in dict.fromkeys(e.levels for e in self.episodes):
            part = self.on(name).episodes
            totals = [e.summary() for e in part]
            keys = np.mean([t["keys_collected"] for t in totals])
            chests = np.mean([t["chests_opened"] for t in totals])
            moves = sum(len(e.moves) for e in part)
            lines.append(
                f"  {name}: {len(part)} episodes, {moves} moves; per episode {keys:.2f} keys collected, "
                f"{chests:.2f} chests opened"
            )
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# The file: JSON, one object per episode


def _cells(mask: np.ndarray) -> list[list[int]]:
    return [[int(r), int(c)] for r, c in zip(*np.nonzero(mask))]


def _mask(cells, shape) -> np.ndarray:
    out = np.zeros(shape, dtype=bool)
    for r, c in cells:
        out[r, c] = True
    return out


def _episode_to_dict(e: RecordedEpisode) -> dict:
    if not isinstance(e.dist, LevelDistribution):
        raise ValueError(
            "save_play: an episode was played on a Mixture; record on one LevelDistribution (TRAIN, "
            "TEST or a custom one) so that the file can name the rules it was played under."
        )
    lv = e.level
    return {
        "levels": e.levels,
        "seed": e.seed,
        "note": e.note,
        "moves": "".join(MOVE_LETTERS[int(m)] for m in e.moves),
        "walls": ["".join("#" if w else "." for w in row) for row in lv.walls],
        "keys": _cells(lv.keys),
        "chests": _cells(lv.chests),
        "ghosts": _cells(lv.ghosts),
        "agent": [int(lv.agent[0]), int(lv.agent[1])],
        "distribution": dataclasses.asdict(e.dist),
    }


def _episode_from_dict(d: dict) -> RecordedEpisode:
    settings: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in d["distribution"].items()
    }
    dist = LevelDistribution(**settings)
    walls = np.array([[ch == "#" for ch in row] for row in d["walls"]], dtype=bool)
    level = Level(
        walls,
        _mask(d["keys"], walls.shape),
        _mask(d["chests"], walls.shape),
        _mask(d["ghosts"], walls.shape),
        (int(d["agent"][0]), int(d["agent"][1])),
    )
    bad = set(d["moves"]) - set(MOVE_LETTERS)
    if bad:
        raise ValueError(f"load_play: moves are written with the letters {MOVE_LETTERS}; got {sorted(bad)}.")
    moves = [MOVE_LETTERS.index(ch) for ch in d["moves"]]
    return RecordedEpisode(dist, level, moves, d.get("seed"), d.get("note", ""))


def save_play(play: RecordedPlay, path: str | Path) -> Path:
    """Write `play` to `path` as JSON (see `load_play`), one episode per line; return the path.

    Each episode: "levels" (TRAIN, TEST or custom), "seed", "note", "moves" (letters U R D L), the
    start board ("walls" as rows of # and ., cells [row, col] of "keys", "chests", "ghosts", the
    "agent"), and every setting of the "distribution" it was played under."""
    path = Path(path)
    head = {"format": FORMAT, "version": VERSION, "player": play.player, "provenance": play.provenance}
    episodes = ",\n".join("  " + json.dumps(_episode_to_dict(e)) for e in play.episodes)
    lines = [f" {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    path.write_text("{\n" + "\n".join(lines) + '\n "episodes": [\n' + episodes + "\n ]\n}\n")
    return path


def load_play(path: str | Path) -> RecordedPlay:
    """Read a recording `save_play` wrote, and check that every episode replays under the rules."""
    data = json.loads(Path(path).read_text())
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise ValueError(
            f"load_play: {path} is not a {FORMAT!r} file of version {VERSION} "
            f"(format {data.get('format')!r}, version {data.get('version')!r})."
        )
    play = RecordedPlay([_episode_from_dict(e) for e in data["episodes"]], data["player"], data["provenance"])
    for episode in play.episodes:
        episode.frames()  # raises if the moves do not fit the rules
    return play


def attribute_play(play: RecordedPlay, fit_on: str = "TRAIN", on: str = "TEST", **kwargs) -> Attribution:
    """`attribution.attribute` for a recording: every goal and rule fitted on the decisions played on
    `fit_on` levels and scored on those played on `on` levels (named as in `RecordedEpisode.levels`),
    exactly as lesson 06 does for an agent. `kwargs` go to `attribute` (candidates, confidence...)."""
    fit, held_out = play.trajectories(fit_on), play.trajectories(on)
    named = {**NAMED, "custom": next((e.dist for e in play.episodes if e.levels == "custom"), TRAIN)}
    return attribute(play.player, named[fit_on], named[on], fit_trajectories=fit, held_out=held_out, **kwargs)


# ---------------------------------------------------------------------------------------------------
# A stand-in, made by a script


def scripted_play(
    dist: LevelDistribution,
    seeds,
    deliberate: float = 0.5,
    slip: float = 0.1,
    seed: int = 0,
) -> list[RecordedEpisode]:
    """Levels `level_for(dist, s)` for each s of `seeds`, played by a script, not a person.

    The procedure, chosen to be easy to state rather than faithful to any person: on each level, with
    probability `deliberate`, plan (`Planner(CHESTS)`, exact search for the most chests in the steps
    left), else follow the habit "nearest key, then nearest chest" (`KeyThenChest`); on every move,
    with probability `slip`, make instead a random move that does not walk into a wall. Each
    episode's `note` says which it was. Seeded by `seed`.
    """
    rng = np.random.default_rng(seed)
    out = []
    for s in seeds:
        level = level_for(dist, int(s))
        plans = bool(rng.random() < deliberate)
        player = Planner(CHESTS, max_steps=dist.max_steps) if plans else KeyThenChest()
        game = Game(level, dist)
        moves: list[int] = []
        done = False
        while not done:
            move = int(player(game.observe()[None], game.boards())[0])
            if rng.random() < slip:
                r, c = game.agent
                free = [a for a in Action if not game.walls[r + DELTAS[a][0], c + DELTAS[a][1]]]
                move = int(rng.choice(free))
            _, terminated, truncated = game.step(move)
            moves.append(move)
            done = terminated or truncated
        note = "deliberate: Planner(CHESTS)" if plans else "habit: KeyThenChest"
        out.append(RecordedEpisode(dist, level, moves, int(s), f"{note}, slips {slip:g}"))
    return out


STAND_IN_EPISODES = 20
"""Levels per distribution in the stand-in: seeds 0-19 of `TRAIN` and of `TEST`."""


def make_stand_in(path: str | Path | None = None) -> RecordedPlay:
    """The stand-in recording, made again from scratch (and saved to `path` when given): `scripted_play`
    on seeds 0-19 of `TRAIN` and of `TEST`, half deliberate, slips 0.1, script seed 0."""
    seeds = range(STAND_IN_EPISODES)
    play = RecordedPlay(
        scripted_play(TRAIN, seeds, seed=0) + scripted_play(TEST, seeds, seed=1),
        player="stand-in (a script)",
        provenance=(
            "NOT human play: a stand-in made by a script, mesalib.analysis.recorded_play.make_stand_in(): "
            "on each level, with probability 0.5, exact planning for chests (Planner(CHESTS)), else the "
            "habit 'nearest key, then nearest chest' (KeyThenChest); on every move, with probability "
            "0.1, a random move that does not hit a wall. Record your own play to replace it."
        ),
    )
    if path is not None:
        save_play(play, path)
    return play


def stand_in() -> RecordedPlay:
    """The course's shipped stand-in recording (made by `scripted_play`, see its `provenance`)."""
    return load_play(DATA / STAND_IN)
