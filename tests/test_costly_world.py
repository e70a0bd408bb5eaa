"""A world where the proxy costs (`key_cost`), the do-nothing baseline, and the malign ordering that lesson 05
measures: the competent misgeneralizer ends below doing nothing and below a random agent."""

from __future__ import annotations

import numpy as np
import pytest

from mesalib.agents.heuristics import DoNothing, random_free_move
from mesalib.agents.registry import resolve
from mesalib.analysis.evaluate import evaluate
from mesalib.env.levels import COSTLY, TEST, Boards, Level
from mesalib.env.rules import Action, State, step
from mesalib.env.vecenv import VecChestsAndKeys


def corridor(items: str) -> Level:
    """A one-row corridor: 'A' agent, 'k' key, 'c' chest, '.' empty (walls all around)."""
    n = len(items) + 2
    walls = np.ones((3, n), bool)
    walls[1, 1:-1] = False
    keys, chests = np.zeros_like(walls), np.zeros_like(walls)
    for col, ch in enumerate(items, start=1):
        keys[1, col] = ch == "k"
        chests[1, col] = ch == "c"
    return Level(walls, keys, chests, np.zeros_like(walls), (1, items.index("A") + 1))


def test_taking_a_key_costs_key_cost_in_the_plain_rules():
    dist = COSTLY.replace(key_cost=0.3)  # the rules take the board from the level, not the distribution
    state = State.start(corridor("Akc."))
    state, reward, *_ = step(state, Action.RIGHT, dist)
    assert reward == pytest.approx(-0.3) and state.keys_held == 1
    state, reward, *_ = step(state, Action.RIGHT, dist)
    assert reward == pytest.approx(1.0) and state.chests_opened == 1  # opening costs nothing extra
    free = State.start(corridor("Akc."))
    assert step(free, Action.RIGHT, TEST)[1] == 0.0  # TEST keys are free


def test_the_batched_core_charges_each_key_taken():
    env = VecChestsAndKeys(COSTLY, 64, seed=3)
    rng = np.random.default_rng(0)
    taken = 0
    for _ in range(60):
        keys, chests = env.counters["keys_collected"].copy(), env.counters["chests_opened"].copy()
        _, reward, _, _, info = env.step(rng.integers(0, 4, size=64))
        took = info["keys_collected"] - keys  # the counters restart only after a finished step
        opened = info["chests_opened"] - chests
        np.testing.assert_allclose(reward, opened - COSTLY.key_cost * took, atol=1e-6)
        taken += int(took.sum())
    assert taken > 20  # keys were taken, so the check above saw the charge


def test_do_nothing_never_touches_an_item_and_scores_zero():
    result = evaluate(DoNothing(), TEST, 300, seed=0, with_best=False).records
    assert np.mean(result["keys_collected"] == 0) > 0.99  # only an agent boxed in by items takes one
    assert np.all(result["chests_opened"] == 0)
    assert np.mean(result["wall_bumps"]) > 10  # most of its moves go into a wall


def test_do_nothing_bumps_a_wall_and_otherwise_paces_over_empty_cells():
    level = corridor("kA.c")
    boards = Boards(
        level.walls[None],
        level.keys[None],
        level.chests[None],
        level.ghosts[None],
        np.array([level.agent]),
        np.zeros(1, int),
    )
    assert DoNothing()(None, boards)[0] == Action.UP  # a wall above: bump it, not the key on the left
    open_room = np.zeros((1, 5, 5), bool)
    open_room[:, [0, -1], :] = open_room[:, :, [0, -1]] = True
    keys = np.zeros_like(open_room)
    keys[0, 1, 2] = True  # a key above the agent in the middle, no wall next to it
    middle = Boards(
        open_room, keys, np.zeros_like(keys), np.zeros_like(keys), np.array([[2, 2]]), np.zeros(1, int)
    )
    assert DoNothing()(None, middle)[0] == Action.RIGHT  # the first empty neighbour, not the key
    # A mutant that only avoids walls (the first free move) walks onto the key:
    assert random_free_move(open_room, np.array([[2, 2]]))[0] == Action.UP


def test_do_nothing_is_a_registered_policy():
    assert resolve("do_nothing").name == "do_nothing"


def test_in_the_costly_world_the_competent_misgeneralizer_is_worse_than_nothing():
    returns = {
        name: evaluate(resolve(name, COSTLY), COSTLY, 150, seed=0, with_best=False).summary()["return"]
        for name in ("nearest_key", "default", "random", "do_nothing", "key_then_chest")
    }
    assert returns["key_then_chest"] > 0.2  # the intended goal still pays
    assert abs(returns["do_nothing"]) < 0.05
    for misgeneralizer in ("nearest_key", "default"):
        assert returns[misgeneralizer] < returns["random"] < returns["do_nothing"], returns
        assert returns[misgeneralizer] < -1.0, returns


def test_the_step_limit_sets_the_price_of_the_proxy():
    chests = {
        (name, limit): evaluate(
            resolve(name), TEST.replace(max_steps=limit), 200, seed=0, with_best=False
        ).summary()["chests_opened"]
        for name in ("nearest_key", "key_then_chest")
        for limit in (20, 40)
    }
    assert chests["nearest_key", 20] < 0.5 * chests["key_then_chest", 20]
    assert chests["nearest_key", 40] >= 0.95 * chests["key_then_chest", 40]
