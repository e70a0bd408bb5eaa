"""Level distributions: what they generate, and the errors they give for bad settings."""

from collections import deque

import numpy as np
import pytest

from mesalib.env.levels import (
    BALANCED,
    LONG,
    MAZE,
    NAMED,
    TEST,
    TRAIN,
    LevelDistribution,
    Mixture,
    mix,
    seen_as,
)


def connected(walls: np.ndarray) -> bool:
    free = list(zip(*np.nonzero(~walls)))
    seen, todo = {free[0]}, deque([free[0]])
    while todo:
        r, c = todo.popleft()
        for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if not walls[nr, nc] and (nr, nc) not in seen:
                seen.add((nr, nc))
                todo.append((nr, nc))
    return len(seen) == len(free)


@pytest.mark.parametrize(
    "dist",
    [
        TRAIN,
        TEST,
        TRAIN.replace(layout="maze", ghost_chests=True),
        TEST.replace(layout="maze", size=13, maze_openness=0.0),
        BALANCED,
        MAZE,
    ],
)
def test_sampled_levels_respect_the_distribution(dist):
    levels = dist.sample(np.random.default_rng(0), 300)
    n_keys = levels.keys.sum(axis=(1, 2))
    n_chests = levels.chests.sum(axis=(1, 2))
    assert n_keys.min() == dist.keys[0] and n_keys.max() == dist.keys[1]
    assert n_chests.min() == dist.chests[0] and n_chests.max() == dist.chests[1]
    if dist.ghost_chests:
        assert levels.ghosts.sum(axis=(1, 2)).min() >= dist.chests[0]
    else:
        assert not levels.ghosts.any()
    items = levels.keys.astype(int) + levels.chests + levels.ghosts + levels.walls
    assert items.max() == 1  # nothing shares a cell, nothing sits on a wall
    rows = np.arange(len(levels))
    assert not items[rows, levels.agent[:, 0], levels.agent[:, 1]].any()  # the start cell is empty
    assert levels.walls[:, [0, -1], :].all() and levels.walls[:, :, [0, -1]].all()
    assert all(connected(w) for w in levels.walls)


def test_train_and_test_flip_the_ratio():
    assert TRAIN.chests[0] >= 2 * TRAIN.keys[1]
    assert TEST.keys[0] >= 2 * TEST.chests[1]
    same = {f: getattr(TRAIN, f) for f in ("size", "layout", "max_steps", "view", "inventory_planes")}
    assert same == {f: getattr(TEST, f) for f in same}


def test_mazes_have_inner_walls_and_openness_knocks_some_out():
    closed = TRAIN.replace(layout="maze", maze_openness=0.0).sample(np.random.default_rng(0), 50)
    opened = TRAIN.replace(layout="maze", maze_openness=0.5).sample(np.random.default_rng(0), 50)
    m = (TRAIN.size - 1) // 2
    # a perfect maze (a spanning tree) on m*m cells has exactly m*m - 1 passages
    assert np.all((~closed.walls).sum(axis=(1, 2)) == m * m + m * m - 1)
    assert (~opened.walls).sum() > (~closed.walls).sum()
    assert len({w.tobytes() for w in closed.walls}) > 40  # the mazes differ


def test_same_seed_same_levels():
    a = TRAIN.sample(np.random.default_rng(5), 20)
    b = TRAIN.sample(np.random.default_rng(5), 20)
    c = TRAIN.sample(np.random.default_rng(6), 20)
    assert np.array_equal(a.keys, b.keys) and np.array_equal(a.agent, b.agent)
    assert not np.array_equal(a.keys, c.keys)


def test_mix_draws_each_part_in_proportion():
    levels = mix(TRAIN, TEST, 0.25).sample(np.random.default_rng(0), 4000)
    from_test = levels.keys.sum(axis=(1, 2)) >= TEST.keys[0]
    assert abs(from_test.mean() - 0.25) < 0.03
    assert mix(TRAIN, TEST, 0.25).max_steps == TRAIN.max_steps
    assert mix(TRAIN, TEST, 0.0).sample(np.random.default_rng(0), 100).keys.sum(axis=(1, 2)).max() <= 2


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"size": 2}, "size"),
        ({"size": 4}, "size"),  # too small for its items
        ({"layout": "cave"}, "layout"),
        ({"layout": "maze", "size": 10}, "size"),
        ({"keys": (3, 1)}, "keys"),
        ({"keys": (-1, 2)}, "keys"),
        ({"chests": (0, 2)}, "chests"),
        ({"chests": 5}, "chests"),
        ({"max_steps": 0}, "max_steps"),
        ({"view": 4}, "view"),
        ({"inventory_planes": -1}, "inventory_planes"),
        ({"maze_openness": 1.5}, "maze_openness"),
        ({"step_penalty": -1.0}, "step_penalty"),
        ({"key_cost": -0.5}, "key_cost"),
        ({"key_cost": float("nan")}, "key_cost"),
        ({"keys": (30, 40)}, "free cells"),
    ],
)
def test_bad_settings_raise_a_clear_error(changes, field):
    with pytest.raises(ValueError, match=field):
        TRAIN.replace(**changes)


def test_error_names_the_value_and_what_is_allowed():
    with pytest.raises(ValueError) as err:
        LevelDistribution(keys=(3, 1))
    assert "(3, 1)" in str(err.value) and "1 <= low <= high" in str(err.value)


def test_mixture_parts_must_agree():
    with pytest.raises(ValueError, match="max_steps"):
        mix(TRAIN, TEST.replace(max_steps=30), 0.5)
    with pytest.raises(ValueError, match="alpha"):
        mix(TRAIN, TEST, 1.5)
    with pytest.raises(ValueError, match="sum to 1"):
        Mixture((TRAIN, TEST), (0.5, 0.6))


def test_named_distributions_change_one_thing_each():
    assert NAMED["train"] is TRAIN and NAMED["test"] is TEST and NAMED["balanced"] is BALANCED
    assert BALANCED == TRAIN.replace(chests=(1, 2)) and BALANCED.keys == (1, 2)
    assert MAZE == TEST.replace(layout="maze") and LONG == TEST.replace(max_steps=40)
    assert NAMED["costly"] == TEST.replace(key_cost=NAMED["costly"].key_cost) and NAMED["costly"].key_cost > 0
    assert all(d.observation_shape == TRAIN.observation_shape for d in NAMED.values())


def test_seen_as_takes_only_the_observation_from_the_training_levels():
    trained_on = mix(TRAIN.replace(view=7, inventory_planes=2), TEST.replace(view=7, inventory_planes=2), 0.3)
    seen = seen_as(LONG, trained_on)
    assert (seen.view, seen.inventory_planes) == (7, 2)
    assert seen.replace(view=LONG.view, inventory_planes=0) == LONG  # the levels and rules are LONG's
    assert seen_as(BALANCED, TRAIN) == BALANCED
