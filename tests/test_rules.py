"""The rules on hand-made levels, where the right answer is known."""

import numpy as np

from mesalib.env.levels import TRAIN, Level
from mesalib.env.rules import AGENT, CHEST, KEY, WALL, Action, Game


def corridor(items: str, ghosts: str = "") -> Level:
    """A 3x(len+2) corridor: the agent at 'A', keys 'k', chests 'c' (ghost chests at 'g' in `ghosts`)."""
    n = len(items) + 2
    walls = np.ones((n, n), bool)
    walls[1, 1:-1] = False
    keys, chests, ghost = (np.zeros((n, n), bool) for _ in range(3))
    for j, ch in enumerate(items):
        keys[1, j + 1] = ch == "k"
        chests[1, j + 1] = ch == "c"
    for j, ch in enumerate(ghosts):
        ghost[1, j + 1] = ch == "g"
    return Level(walls, keys, chests, ghost, (1, items.index("A") + 1))


DIST = TRAIN.replace(size=7, view=None, max_steps=10)


def test_chest_without_key_stays_shut_and_does_not_block():
    game = Game(corridor("Acck."), DIST)
    reward, term, trunc = game.step(Action.RIGHT)
    assert (reward, term, trunc) == (0.0, False, False)
    assert game.agent == (1, 2) and game.chests_opened == 0 and len(game.chests) == 2


def test_key_then_chest_opens_it_and_uses_the_key():
    game = Game(corridor("Akcc."), DIST)
    assert game.step(Action.RIGHT) == (0.0, False, False)
    assert game.keys_held == 1 and game.keys_collected == 1
    reward, term, trunc = game.step(Action.RIGHT)
    assert reward == 1.0 and game.keys_held == 0 and game.chests_opened == 1
    assert term  # no key held and none left: no chest can be opened any more
    assert not trunc


def test_inventory_is_unbounded():
    game = Game(corridor("Akkkc"), DIST)
    for _ in range(3):
        game.step(Action.RIGHT)
    assert game.keys_held == 3
    reward, term, _ = game.step(Action.RIGHT)
    assert reward == 1.0 and game.keys_held == 2 and term  # no chest left


def test_wall_bump_leaves_agent_in_place_and_is_counted_and_penalised():
    game = Game(corridor("Akc.."), DIST.replace(wall_bump_penalty=0.5, step_penalty=0.1))
    reward, _, _ = game.step(Action.UP)
    assert game.agent == (1, 1) and game.wall_bumps == 1
    assert np.isclose(reward, -0.6)


def test_truncation_at_the_step_limit():
    game = Game(corridor("A.kc."), DIST.replace(max_steps=3))
    results = [game.step(Action.LEFT) for _ in range(3)]
    assert results[-1] == (0.0, False, True)
    assert all(r[2] is False for r in results[:-1])


def test_ghost_chests_count_under_the_key_rule_but_use_no_key_and_give_no_reward():
    game = Game(corridor("A.k..c", ghosts=".g...."), DIST)
    game.step(Action.RIGHT)  # onto a ghost chest without a key: not opened
    assert game.ghost_chests_opened == 0
    level = corridor("Ak....", ghosts="..g...")
    game = Game(level, DIST)
    game.step(Action.RIGHT)
    reward, _, _ = game.step(Action.RIGHT)
    assert game.ghost_chests_opened == 1 and reward == 0.0 and game.keys_held == 1


def test_observation_planes_allocentric_and_egocentric():
    level = corridor("Akc..")
    game = Game(level, DIST)
    obs = game.observe()
    assert obs.dtype == np.uint8 and obs.shape == (4, 7, 7)
    assert obs[AGENT, 1, 1] == 1 and obs[KEY, 1, 2] == 1 and obs[CHEST, 1, 3] == 1
    np.testing.assert_array_equal(obs[WALL], level.walls)
    ego = Game(level, DIST.replace(view=5, inventory_planes=2))
    obs = ego.observe()
    assert obs.shape == (6, 5, 5)
    assert obs[AGENT, 2, 2] == 1 and obs[AGENT].sum() == 1  # the agent sits in the middle
    assert obs[KEY, 2, 3] == 1 and obs[CHEST, 2, 4] == 1
    assert obs[WALL, 0].all()  # outside the grid counts as wall
    assert obs[4:].sum() == 0
    ego.step(Action.RIGHT)
    obs = ego.observe()
    assert obs[4].all() and not obs[5].any()  # one key held: first inventory plane on
    assert obs[CHEST, 2, 3] == 1


# The pure-function forms of the rules (lesson 1's references) agree with `Game` everywhere.


def test_step_arrays_follows_a_game_and_leaves_its_inputs_alone():
    import doctest

    from mesalib.env import rules
    from mesalib.env.levels import TEST, LevelDistribution
    from mesalib.env.rules import step_arrays

    rng = np.random.default_rng(0)
    dists = [TRAIN, TEST, LevelDistribution(size=7, layout="maze", keys=(1, 4), chests=(1, 4))]
    for d in dists:
        for level in d.sample(rng, 20):
            game = Game(level, d.replace(max_steps=1000))
            keys, chests, agent, held = level.keys.copy(), level.chests.copy(), level.agent, 0
            for action in rng.integers(0, 4, size=40):
                before = (keys.copy(), chests.copy())
                out = step_arrays(level.walls, keys, chests, agent, held, int(action))
                np.testing.assert_array_equal(keys, before[0])  # inputs unchanged
                np.testing.assert_array_equal(chests, before[1])
                reward, _, _ = game.step(int(action))
                now = game.level()
                keys, chests, agent, held, got = out
                np.testing.assert_array_equal(keys, now.keys)
                np.testing.assert_array_equal(chests, now.chests)
                assert agent == game.agent and held == game.keys_held and got == reward
                assert type(agent[0]) is int and type(got) is float
    for fn in (rules.step_arrays, rules.can_open_more, rules.observe_arrays):
        finder = doctest.DocTestFinder()
        for test in finder.find(fn, globs={"np": np, "Action": Action, fn.__name__: fn}):
            assert doctest.DocTestRunner().run(test).failed == 0, fn.__name__


def test_can_open_more_matches_the_game_for_one_board_and_a_batch():
    from mesalib.env.levels import TEST
    from mesalib.env.rules import can_open_more

    rng = np.random.default_rng(1)
    levels = TEST.sample(rng, 30)
    keys = levels.keys & (rng.random(levels.keys.shape) < 0.1)
    chests = levels.chests & (rng.random(levels.chests.shape) < 0.5)
    held = rng.integers(0, 2, size=30)
    batch = can_open_more(keys, chests, held)
    assert batch.shape == (30,) and batch.dtype == bool and 0 < batch.sum() < 30
    for i in range(30):
        game = Game(Level(levels.walls[i], keys[i], chests[i], levels.ghosts[i], levels[i].agent), TEST)
        game.keys_held = int(held[i])
        assert can_open_more(keys[i], chests[i], int(held[i])) is game.can_open_more() is bool(batch[i])


def test_observe_arrays_is_what_a_game_observes():
    from mesalib.env.rules import observe_arrays

    rng = np.random.default_rng(2)
    for view, planes in [(None, 0), (17, 0), (7, 2), (1, 1), (3, 3)]:
        d = TRAIN.replace(view=view, inventory_planes=planes, max_steps=1000)
        for level in d.sample(rng, 5):
            game = Game(level, d)
            for action in rng.integers(0, 4, size=15):
                now = game.level()
                obs = observe_arrays(now.walls, now.keys, now.chests, now.agent, view, game.keys_held, planes)
                np.testing.assert_array_equal(obs, game.observe())
                game.step(int(action))
    walls = np.ones((5, 5), bool)
    walls[1:-1, 1:-1] = False
    empty = np.zeros((5, 5), bool)
    obs = observe_arrays(walls, empty, empty, (2, 2), view=3, keys_held=2, inventory_planes=3)
    assert obs.shape == (7, 3, 3) and obs[4].all() and obs[5].all() and not obs[6].any()
