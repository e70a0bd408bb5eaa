"""Tests for the figures (mesalib.drawing: plots, fields, replay, style) and the numbers they show
(mesalib.analysis: robustness, choices, episodes)."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from mesalib.agents.heuristics import KeyThenChest, NearestKey, RandomPolicy, WallFollower
from mesalib.analysis import choices, episodes, robustness
from mesalib.analysis.evaluate import evaluate_levels
from mesalib.drawing import fields, plots, replay, style
from mesalib.env.levels import TEST, TRAIN, Level
from mesalib.env.rules import Action


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def corridor(key_col=7, chest_col=None, agent_col=3, size=9):
    """A 9x9 grid of walls with one open corridor along row 1 (columns 1..7)."""
    walls = np.ones((size, size), bool)
    walls[1, 1:-1] = False
    keys, chests, ghosts = (np.zeros_like(walls) for _ in range(3))
    if key_col is not None:
        keys[1, key_col] = True
    if chest_col is not None:
        chests[1, chest_col] = True
    return Level(walls, keys, chests, ghosts, (1, agent_col))


def png(fig) -> bytes:
    return style.figure_png(fig)


# ------------------------------------------------------------------------------------------------
# 2-D robustness


def summary(keys, chests, frac, steps=10.0):
    return {"keys_collected": keys, "chests_opened": chests, "fraction_of_best": frac, "steps": steps}


def test_robustness_coordinates_by_hand():
    nk = summary(keys=4.0, chests=1.0, frac=0.5)
    assert robustness.robustness_coordinates(summary(3.0, 0.8, 0.4), nk, capability="keys") == (0.75, 0.4)
    # The default capability is pace: (3 + 0.8) / 10 against (4 + 1) / 10.
    assert robustness.robustness_coordinates(summary(3.0, 0.8, 0.4), nk) == (pytest.approx(0.76), 0.4)
    # With the planner's summary, y is chests relative to the planner's chests.
    x, y = robustness.robustness_coordinates(
        summary(2.0, 1.5, 0.9), nk, best=summary(1.0, 2.0, 1.0), capability="keys"
    )
    assert (x, y) == (0.5, 0.75)
    # Pace: items per step relative to the reference's: (2 + 2) / 8 vs (4 + 1) / 10.
    x, _ = robustness.robustness_coordinates(summary(2.0, 2.0, 1.0, steps=8.0), nk, capability="pace")
    assert x == pytest.approx(0.5 / 0.5)
    # A reference that collected nothing gives NaN, not a ZeroDivisionError.
    x, y = robustness.robustness_coordinates(summary(1.0, 1.0, 1.0), summary(0.0, 0.0, 0.0))
    assert math.isnan(x) and y == 1.0
    with pytest.raises(ValueError, match="capability"):
        robustness.robustness_coordinates(nk, nk, capability="speed")


RESULTS = {
    "nearest_key": {"train": summary(1.4, 1.3, 0.99), "test": summary(7.0, 0.5, 0.34)},
    "key_then_chest": {"train": summary(1.39, 1.35, 1.0), "test": summary(2.0, 1.5, 1.0)},
    "ppo": {"train": summary(1.3, 1.25, 0.97), "test": summary(6.0, 0.45, 0.3)},
}


def test_robustness_plot_has_labels_legend_arrows_and_is_deterministic():
    ax = plots.robustness_2d(RESULTS)
    assert "capability" in ax.get_xlabel() and "nearest_key" in ax.get_xlabel()
    assert "objective" in ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:3] == list(RESULTS) and "on TRAIN" in labels and "on TEST" in labels
    arrows = [c for c in ax.texts if isinstance(c, matplotlib.text.Annotation)]
    assert len(arrows) == 3
    # The ppo agent's TEST point sits where robustness_coordinates puts it.
    test_x, test_y = robustness.robustness_coordinates(RESULTS["ppo"]["test"], RESULTS["nearest_key"]["test"])
    points = [tuple(np.ravel(line.get_xydata())) for line in ax.lines]
    assert any(np.allclose(p, (test_x, test_y)) for p in points if len(p) == 2)
    first = png(ax.figure)
    assert first == png(plots.robustness_2d(RESULTS).figure)


def test_robustness_plot_with_reference_summaries_and_pace():
    refs = RESULTS["nearest_key"]
    ax = plots.robustness_2d({"ppo": RESULTS["ppo"]}, reference=refs, capability="pace")
    assert "items per step" in ax.get_xlabel()


# ------------------------------------------------------------------------------------------------
# Policy fields


def test_nearest_key_field_points_to_the_key_in_a_corridor():
    level = corridor(key_col=7, agent_col=2)
    cells, probs = choices.field_probabilities(NearestKey(), level)
    assert sorted(map(tuple, cells)) == [(1, c) for c in range(1, 7)]  # the key's own cell is left out
    assert np.all(probs[:, Action.RIGHT] == 1.0) and probs.sum(axis=1).tolist() == [1.0] * len(cells)


def test_key_then_chest_field_depends_on_the_keys_held():
    level = corridor(key_col=7, chest_col=1, agent_col=4)
    cells, probs = choices.field_probabilities(KeyThenChest(), level, keys_held=1)
    assert (1, 1) not in set(map(tuple, cells))  # holding a key, the agent cannot stand on a chest
    assert np.all(probs.argmax(axis=1) == Action.LEFT)
    _, probs = choices.field_probabilities(KeyThenChest(), level, keys_held=0)
    assert np.all(probs.argmax(axis=1) == Action.RIGHT)


def test_random_field_is_uniform_and_stateful_policies_are_reset():
    level = episodes.level_for(TRAIN, 1)
    _, probs = choices.field_probabilities(RandomPolicy(0), level)
    assert np.allclose(probs, 0.25)
    wf = WallFollower(0)
    a = choices.field_probabilities(wf, level)[1]
    assert wf.heading is None  # left reset as it was made
    assert np.array_equal(a, choices.field_probabilities(wf, level)[1])


def test_torch_agent_field_is_softmax_of_its_logits_at_each_cell():
    torch = pytest.importorskip("torch")
    Agent = pytest.importorskip("mesalib.agents.ppo").Agent  # the PPO module lands with the agents issue
    from mesalib.agents.nets import make_network

    dist = TRAIN.replace(inventory_planes=2)
    torch.manual_seed(0)
    agent = Agent(make_network("mlp", dist.observation_shape, 32))
    level = episodes.level_for(dist, 4)
    cells, probs = choices.field_probabilities(agent, level, keys_held=1, dist=dist)
    assert probs.shape == (len(cells), 4) and np.allclose(probs.sum(axis=1), 1.0)
    obs = choices.observation_at(level, cells[3], dist, keys_held=1)
    assert obs[3, 8, 8] == 1 and obs[4].all() and not obs[5].any()  # agent in the middle; one key held
    expected = torch.softmax(agent.logits(obs[None]), dim=-1).numpy()[0]
    assert np.allclose(probs[3], expected, atol=1e-6)


def test_policy_field_draws_one_arrow_per_likely_action_with_a_legend():
    level = episodes.level_for(TEST, 2)
    ax = fields.policy_field(NearestKey(), level)
    quiver = next(c for c in ax.collections if isinstance(c, matplotlib.quiver.Quiver))
    assert quiver.N == len(choices.field_cells(level))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "key" in labels and any("probability" in label for label in labels)
    assert "nearest_key" in ax.get_title()
    assert png(ax.figure) == png(fields.policy_field("nearest_key", level).figure)


# ------------------------------------------------------------------------------------------------
# Episodes, animations


def test_record_episode_matches_the_rules_and_is_deterministic():
    ep = episodes.record_episode("key_then_chest", TEST, seed=5)
    again = episodes.record_episode(KeyThenChest(), TEST, seed=5)
    assert ep.actions == again.actions and ep.path == again.path
    assert len(ep.boards) == len(ep.infos) == ep.steps + 1
    assert ep.terminated or ep.truncated
    result = evaluate_levels(KeyThenChest(), [episodes.level_for(TEST, 5)], TEST, with_best=False)
    assert ep.chests_opened == result.records["chests_opened"][0]
    assert ep.keys_collected == result.records["keys_collected"][0]
    assert "step 0 / " in ep.describe(0) and "ended" in ep.describe(ep.steps)
    assert "-0" not in ep.describe(1)


SHORT = TRAIN.replace(size=5, keys=(1, 1), chests=(1, 1), max_steps=4)


def test_animation_saves_a_gif_with_a_frame_per_step_and_html(tmp_path):
    anim = replay.animate(NearestKey(), SHORT, seed=1, timeline=False, interval=200)
    frames = anim.episode.steps + 1
    assert frames > 1
    gif = replay.save_animation(anim, tmp_path / "episode.gif", dpi=40)
    with Image.open(gif) as im:
        assert im.n_frames == frames
    html = replay.save_animation(anim, tmp_path / "episode.html", dpi=40)
    text = html.read_text()
    assert "<script" in text and text.count("data:image/png;base64") == frames
    with pytest.raises(ValueError, match="gif"):
        replay.save_animation(anim, tmp_path / "episode.avi")


def test_episode_frame_and_timeline_are_deterministic():
    def draw(t):
        ep = episodes.record_episode("nearest_key", SHORT, 2)
        fig = style.new_figure((8, 3))
        a, b = fig.subplots(1, 2)
        replay.draw_frame(a, ep, t)
        replay.draw_timeline(b, ep, t)
        assert b.get_xlabel() == "step" and b.get_legend() is not None
        return png(fig)

    assert draw(1) == draw(1) != draw(2)


# ------------------------------------------------------------------------------------------------
# Training curves


def fake_history(n=12, eval_every=4):
    history = []
    for u in range(1, n + 1):
        r = {"update": u, "env_steps": 4096 * u, "return": 0.1 * u, "chests": 0.1 * u, "keys": 1.0 + 0.05 * u}
        if u % eval_every == 0 or u == n:
            r["train_eval"] = {"return": 0.1 * u, "chests_opened": 0.1 * u, "keys_collected": 1.2}
            r["test_eval"] = {"return": 0.02 * u, "chests_opened": 0.02 * u, "keys_collected": 0.5 * u}
        history.append(r)
    return history


def test_plot_history_one_axes_per_metric():
    axes = plots.plot_history(fake_history())
    assert len(axes) == 3
    for ax in axes:
        assert ax.get_xlabel() == "environment steps" and ax.get_ylabel()
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert any("TRAIN" in label for label in labels) and any("TEST" in label for label in labels)
    test_line = next(line for line in axes[2].lines if "TEST" in line.get_label())
    assert test_line.get_ydata().tolist() == [2.0, 4.0, 6.0]  # keys on TEST at updates 4, 8, 12


def test_plot_history_on_a_single_axes_and_bad_metric():
    _, ax = plt.subplots()
    axes = plots.plot_history(fake_history(), ax=ax, metrics=("chests_opened", "keys_collected"))
    assert axes == [ax] and len(ax.get_legend().get_texts()) == 6
    with pytest.raises(ValueError, match="metric"):
        plots.plot_history(fake_history(), metrics=("loss",))
