"""Lesson 01's checks accept a correct answer written independently and reject plausible wrong ones."""

import numpy as np
import pytest

from mesalib.teaching import checks

STEP = checks.lesson01.step
CAN_OPEN = checks.lesson01.can_open_more
OBSERVE = checks.lesson01.observe

DELTAS = {0: (-1, 0), 1: (0, 1), 2: (1, 0), 3: (0, -1)}


def make_step(
    *,
    walls_block=True,
    chests_block=False,
    need_key=True,
    use_key=True,
    key_reward=0.0,
    deltas=DELTAS,
    agent_type=tuple,
    stay_on_bump=True,
    copies=True,
):
    """A step function written from the rules, with switches that break one rule at a time."""

    def step(walls, keys, chests, agent, keys_held, action):
        if copies:
            keys, chests = keys.copy(), chests.copy()
        dr, dc = deltas[action]
        r, c = agent[0] + dr, agent[1] + dc
        if (walls_block and walls[r, c]) or (chests_block and chests[r, c] and keys_held == 0):
            if stay_on_bump:
                r, c = agent
            else:
                return keys, chests, agent_type(agent), keys_held, 0.0
        reward = 0.0
        if keys[r, c]:
            keys[r, c] = False
            keys_held += 1
            reward += key_reward
        if chests[r, c] and (keys_held > 0 or not need_key):
            chests[r, c] = False
            keys_held -= 1 if use_key else 0
            reward += 1.0
        return keys, chests, agent_type((r, c)), keys_held, reward

    return step


def test_step_in_own_words_passes():
    assert STEP.run(make_step()).ok
    assert STEP.run(make_step(), seed=7).ok
    assert STEP.run(make_step(agent_type=list)).ok  # the agent as a list or an array is fine too
    assert STEP.run(make_step(agent_type=np.array)).ok


@pytest.mark.parametrize(
    "name, mutant",
    [
        ("walks through walls", make_step(walls_block=False)),
        ("chests without a key block the way", make_step(chests_block=True)),
        ("opens chests without a key", make_step(need_key=False)),
        ("never uses the key up", make_step(use_key=False)),
        ("rewards picking up keys", make_step(key_reward=1.0)),
        ("up and down swapped", make_step(deltas={0: (1, 0), 1: (0, 1), 2: (-1, 0), 3: (0, -1)})),
        ("(x, y) instead of (row, col)", make_step(deltas={0: (0, -1), 1: (1, 0), 2: (0, 1), 3: (-1, 0)})),
        ("returns a list of four", lambda **kw: list(make_step()(**kw))[:4]),
        ("reward as a bool", lambda **kw: make_step()(**kw)[:4] + (make_step()(**kw)[4] > 0,)),
        ("changes the caller's keys and chests in place", make_step(copies=False)),
        (
            "paints over the caller's walls",
            lambda walls, **kw: make_step()(walls=walls.fill(False) or walls, **kw),
        ),
    ],
)
def test_step_mutants_are_rejected(name, mutant):
    assert not STEP.run(mutant).ok, name


def test_step_that_changes_its_inputs_is_told_so(capsys):
    assert not STEP(make_step(copies=False)).ok
    out = capsys.readouterr().out
    assert "changed its inputs in place (keys" in out or "changed its inputs in place (chests" in out


def test_step_call_runs_in_the_grading_sandbox_without_the_reference():
    from mesalib.teaching.grading.calls import call_source

    scope: dict = {}
    exec(call_source(STEP), scope)
    keys = np.zeros((3, 3), bool)
    keys[1, 2] = True
    args = dict(
        walls=np.zeros((3, 3), bool),
        keys=keys,
        chests=np.zeros((3, 3), bool),
        agent=(1, 1),
        keys_held=0,
        action=1,
    )
    assert scope["call"](make_step(copies=False), args)[checks.lesson01.CHANGED_INPUTS] == ["keys"]
    assert len(scope["call"](make_step(), args)) == 5 and keys[1, 2]


def test_step_case_report_shows_the_board(capsys):
    assert not STEP(make_step(need_key=False)).ok
    out = capsys.readouterr().out
    assert "#####" in out and "action =" in out and "Problem: chests is wrong" in out


def can_open_more(keys, chests, keys_held):
    chests_left = chests.reshape(len(chests), -1).max(axis=1)
    key_available = (keys_held > 0) | keys.reshape(len(keys), -1).max(axis=1)
    return chests_left & key_available


def test_can_open_more_in_own_words_passes():
    assert CAN_OPEN.run(can_open_more).ok
    assert CAN_OPEN.run(
        lambda keys, chests, keys_held: [bool(x) for x in can_open_more(keys, chests, keys_held)]
    ).ok


@pytest.mark.parametrize(
    "name, mutant",
    [
        (
            "forgets keys on the floor",
            lambda keys, chests, keys_held: chests.any(axis=(1, 2)) & (keys_held > 0),
        ),
        (
            "forgets keys held",
            lambda keys, chests, keys_held: chests.any(axis=(1, 2)) & keys.any(axis=(1, 2)),
        ),
        ("forgets the chests", lambda keys, chests, keys_held: (keys_held > 0) | keys.any(axis=(1, 2))),
        (
            "or instead of and",
            lambda keys, chests, keys_held: chests.any(axis=(1, 2)) | (keys_held > 0) | keys.any(axis=(1, 2)),
        ),
        (
            "whole batch at once",
            lambda keys, chests, keys_held: chests.any() & ((keys_held > 0) | keys.any()),
        ),
        (
            "needs as many keys as chests",
            lambda keys, chests, keys_held: (
                chests.any(axis=(1, 2)) & (keys.sum(axis=(1, 2)) + keys_held >= chests.sum(axis=(1, 2)))
            ),
        ),
        (
            "the episode is over (the negation)",
            lambda keys, chests, keys_held: ~can_open_more(keys, chests, keys_held),
        ),
    ],
)
def test_can_open_more_mutants_are_rejected(name, mutant):
    assert not CAN_OPEN.run(mutant).ok, name


def make_observe(*, pad_walls=1, shift=0, corner=False, agent_plane=True, transpose=False, whole_grid=False):
    """The observation written from its description; the switches break one thing at a time. The
    planes are padded by one cell more than needed, so a shifted window stays inside."""

    def observe(walls, keys, chests, agent, view):
        agent_grid = np.zeros_like(walls)
        if agent_plane:
            agent_grid[agent] = True
        planes = np.stack([walls, keys, chests, agent_grid]).astype(np.uint8)
        if whole_grid:
            return planes
        p = view // 2
        padded = np.zeros((4, walls.shape[0] + 2 * p + 2, walls.shape[1] + 2 * p + 2), np.uint8)
        padded[0] = pad_walls
        padded[:, p + 1 : p + 1 + walls.shape[0], p + 1 : p + 1 + walls.shape[1]] = planes
        r, c = agent[0] + 1 + shift, agent[1] + 1 + shift  # the window's top-left corner, padded
        if corner:
            r, c = r + p, c + p
        out = padded[:, r : r + view, c : c + view]
        return out.transpose(0, 2, 1) if transpose else out

    return observe


def test_observe_in_own_words_passes():
    assert OBSERVE.run(make_observe()).ok
    assert OBSERVE.run(lambda **kw: make_observe()(**kw).astype(bool)).ok  # bool planes are fine


@pytest.mark.parametrize(
    "name, mutant",
    [
        ("pads with floor, not walls", make_observe(pad_walls=0)),
        ("window off by one", make_observe(shift=1)),
        ("window starting at the agent (forgets to centre it)", make_observe(corner=True)),
        ("no agent plane", make_observe(agent_plane=False)),
        ("rows and columns swapped", make_observe(transpose=True)),
        ("the whole grid, not a window", make_observe(whole_grid=True)),
    ],
)
def test_observe_mutants_are_rejected(name, mutant):
    assert not OBSERVE.run(mutant).ok, name
