"""Tests for mesalib.analysis.recorded_play: recordings replay under the rules, survive a file, give the
decisions `stance.record` gives for a policy, and are attributed exactly as an agent is."""

import json

import numpy as np
import pytest

from mesalib.agents.heuristics import KeyThenChest, NearestKey
from mesalib.analysis import attribution, recorded_play
from mesalib.analysis.episodes import level_for
from mesalib.analysis.recorded_play import RecordedEpisode, RecordedPlay, load_play, save_play
from mesalib.analysis.stance import record
from mesalib.env.levels import TEST, TRAIN, LevelBatch, mix
from mesalib.env.rules import Game

SHORT = TRAIN.replace(size=6, chests=(2, 3), max_steps=6)


def played(policy, dist, seeds) -> list[RecordedEpisode]:
    """Each level of `seeds` played to its end by `policy`, move by move on `rules.Game`."""
    out = []
    for s in seeds:
        level = level_for(dist, s)
        game, moves, done = Game(level, dist), [], False
        while not done:
            moves.append(int(policy(None, game.boards())[0]))
            _, terminated, truncated = game.step(moves[-1])
            done = terminated or truncated
        out.append(RecordedEpisode(dist, level, moves, s))
    return out


def assert_same_decisions(a, b):
    for name in ("walls", "keys", "chests", "ghosts", "agent", "keys_held"):
        assert np.array_equal(getattr(a.boards, name), getattr(b.boards, name)), name
    assert np.array_equal(a.steps_left, b.steps_left)
    assert np.array_equal(a.actions, b.actions)
    assert np.array_equal(a.probs, b.probs)


def test_recorded_decisions_are_what_stance_records_for_the_same_policy():
    seeds = [0, 1, 2, 5]
    play = RecordedPlay(played(NearestKey(), TEST, seeds))
    levels = LevelBatch.stack([level_for(TEST, s) for s in seeds])
    assert_same_decisions(play.trajectories("TEST"), record(NearestKey(), TEST, len(seeds), levels=levels))
    assert np.array_equal(np.unique(play.trajectories().episode), np.arange(len(seeds)))


def test_a_recording_survives_its_file_and_the_file_is_readable(tmp_path):
    play = RecordedPlay(
        played(KeyThenChest(), TRAIN, [3, 4]) + played(NearestKey(), SHORT, [1]),
        player="p",
        provenance="test",
    )
    play.episodes[0].note = "first"
    back = load_play(save_play(play, tmp_path / "play.json"))
    assert (back.player, back.provenance, len(back)) == ("p", "test", 3)
    assert [e.levels for e in back.episodes] == ["TRAIN", "TRAIN", "custom"]
    assert back.episodes[2].dist == SHORT and back.episodes[0].note == "first"
    for levels in ("TRAIN", "custom"):
        assert_same_decisions(back.trajectories(levels), play.trajectories(levels))
    with pytest.raises(ValueError, match="sizes"):
        play.trajectories()
    data = json.loads((tmp_path / "play.json").read_text())
    assert data["format"] == recorded_play.FORMAT and set(data["episodes"][0]["moves"]) <= set("URDL")
    assert data["episodes"][0]["walls"][0] == "#" * TRAIN.size


def test_filtering_summaries_and_counts():
    play = RecordedPlay(played(KeyThenChest(), TRAIN, [0]) + played(KeyThenChest(), TEST, [0, 1]))
    assert len(play.on("TEST")) == 2 and len(play.on("TRAIN")) == 1 and len(play.on("custom")) == 0
    assert play.decisions == len(play.trajectories())
    assert "TEST: 2 episodes" in play.summary()
    with pytest.raises(ValueError, match="no recorded decisions"):
        play.trajectories("custom")


def test_a_recording_that_plays_on_after_its_game_ended_is_refused(tmp_path):
    (episode,) = played(KeyThenChest(), SHORT, [1])
    path = save_play(RecordedPlay([episode]), tmp_path / "ok.json")
    data = json.loads(path.read_text())
    data["episodes"][0]["moves"] += "U" * SHORT.max_steps
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="must stop where its game does"):
        load_play(path)
    data["episodes"][0]["moves"] = "UX"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="URDL"):
        load_play(path)
    path.write_text(json.dumps({"format": "something else", "version": 1}))
    with pytest.raises(ValueError, match="not a"):
        load_play(path)


def test_mixtures_cannot_be_saved_because_the_file_must_name_the_rules(tmp_path):
    dist = mix(TRAIN, TEST, 0.5)
    level = level_for(dist, 0)
    with pytest.raises(ValueError, match="Mixture"):
        save_play(RecordedPlay([RecordedEpisode(dist, level, [0], 0)]), tmp_path / "m.json")


def test_recorded_play_is_attributed_exactly_as_the_policy_that_made_it():
    play = RecordedPlay(played(NearestKey(), TRAIN, range(4)) + played(NearestKey(), TEST, range(4)))
    from_play = recorded_play.attribute_play(play, intentional=())
    direct = attribution.attribute(
        NearestKey(),
        TRAIN,
        TEST,
        intentional=(),
        fit_trajectories=play.trajectories("TRAIN"),
        held_out=play.trajectories("TEST"),
    )
    assert from_play.best() == "nearest_key" and from_play.policy == "you"
    assert np.allclose(from_play.held_out_per_decision, direct.held_out_per_decision)
    assert (from_play.fit_on, from_play.on) == ("TRAIN", "TEST")


def test_the_scripted_stand_in_is_deterministic_and_says_how_it_was_made():
    a = recorded_play.scripted_play(SHORT, range(3), slip=0.3, seed=4)
    b = recorded_play.scripted_play(SHORT, range(3), slip=0.3, seed=4)
    assert [e.moves for e in a] == [e.moves for e in b]
    assert all(("Planner" in e.note) != ("KeyThenChest" in e.note) for e in a)
    never_slips = recorded_play.scripted_play(SHORT, [0, 1, 2, 3], deliberate=0.0, slip=0.0)
    assert [e.moves for e in never_slips] == [e.moves for e in played(KeyThenChest(), SHORT, [0, 1, 2, 3])]


def test_the_shipped_stand_in_is_labelled_as_not_human_and_is_what_its_script_makes():
    shipped = recorded_play.stand_in()
    assert shipped.provenance.startswith("NOT human play") and "script" in shipped.player
    assert len(shipped.on("TRAIN")) == len(shipped.on("TEST")) == recorded_play.STAND_IN_EPISODES
    again = recorded_play.make_stand_in()
    assert [e.moves for e in again.episodes] == [e.moves for e in shipped.episodes]
