"""Tests for the figures (mesalib.drawing: plots, fields, grids, replay, style), the numbers they show
(mesalib.analysis: robustness, choices, episodes), and what lesson 02 prints about them."""

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from mesalib.agents.heuristics import KeyThenChest, NearestKey, RandomPolicy, WallFollower
from mesalib.analysis import choices, episodes, robustness
from mesalib.analysis.evaluate import evaluate_levels
from mesalib.drawing import fields, grids, plots, render, replay, style
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


def legend_colors(ax) -> dict[str, str]:
    return {
        t.get_text(): matplotlib.colors.to_hex(h.get_color()).upper()
        for t, h in zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles)
        if not t.get_text().startswith("on ")
    }


def test_an_agent_has_one_colour_in_every_figure_whatever_comes_with_it():
    alone = legend_colors(
        plots.robustness_2d({"key_then_chest": RESULTS["key_then_chest"]}, reference=RESULTS["nearest_key"])
    )
    together = legend_colors(plots.robustness_2d(RESULTS))
    assert alone["key_then_chest"] == together["key_then_chest"] == style.OKABE_ITO["bluish_green"]
    assert together["nearest_key"] == style.OKABE_ITO["vermillion"]
    # "ppo" has no colour of its own: it takes one that no agent of this figure has.
    assert together["ppo"] not in (together["nearest_key"], together["key_then_chest"])
    assert len(set(together.values())) == 3


def test_agent_colours_come_from_the_palette_and_accept_the_usual_spellings():
    assert set(style.COLOR_BY_AGENT.values()) <= set(style.OKABE_ITO.values())
    assert len(set(style.COLOR_BY_AGENT.values())) == len(style.COLOR_BY_AGENT)  # no two share one
    for name in ("default agent", "default", "Default"):
        assert style.agent_color(name) == style.OKABE_ITO["blue"]
    assert style.agent_color("NearestKey") == style.agent_color("nearest_key")
    assert style.agent_color("Planner(CHESTS)") == style.agent_color("planner") == style.OKABE_ITO["black"]
    assert style.agent_color("alpha0.4") is None
    many = style.agent_colors(["default agent", *[f"run {i}" for i in range(5)]])
    assert many["default agent"] == style.OKABE_ITO["blue"] and len(set(many.values())) == 6


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
    middle = dist.view // 2
    assert obs[3, middle, middle] == 1  # the agent in the middle
    assert obs[4].all() and not obs[5].any()  # one key held
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


# ------------------------------------------------------------------------------------------------
# Numbers on grids: legible at the size a learner sees them, nothing drawn over anything else


def drawn_texts(fig) -> list:
    """The texts the figure draws: titles, axis and tick labels, texts on the axes, legends."""
    from matplotlib.text import Text

    fig.canvas.draw()
    texts = list(fig.texts)  # the suptitle is one of them
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        texts += ax.get_xticklabels() + ax.get_yticklabels()
    for legend in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
        texts += legend.get_texts()
    unique = list({id(t): t for t in texts}.values())
    return [t for t in unique if isinstance(t, Text) and t.get_visible() and t.get_text().strip()]


def overlap(a, b, slack: float = 0.5) -> bool:
    """Two display-space boxes share more than `slack` pixels each way."""
    return a.x0 < b.x1 - slack and b.x0 < a.x1 - slack and a.y0 < b.y1 - slack and b.y0 < a.y1 - slack


def overlapping_texts(fig) -> list[tuple[str, str]]:
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in drawn_texts(fig)]
    return [(a, b) for i, (a, box) in enumerate(boxes) for b, other in boxes[i + 1 :] if overlap(box, other)]


def legend_clashes(legend) -> list[tuple[str, str]]:
    """(handle's label, text) for every legend swatch that covers a label, its own or another's."""
    renderer = legend.figure.canvas.get_renderer()
    texts = legend.get_texts()
    return [
        (own.get_text(), text.get_text())
        for handle, own in zip(legend.legend_handles, texts)
        for text in texts
        if overlap(handle.get_window_extent(renderer), text.get_window_extent(renderer))
    ]


def random_values(level: Level, seed: int = 0) -> np.ndarray:
    values = np.random.default_rng(seed).uniform(0.8, 1.95, level.walls.shape)
    values[level.walls] = np.nan
    return values


def test_value_maps_numbers_are_legible_and_legend_swatches_clear_of_labels():
    level = episodes.level_for(TRAIN, 3)
    maps = {"default agent": random_values(level, 0), "inventory agent": random_values(level, 1)}
    peaks = {name: np.isfinite(v) & (v > 1.8) for name, v in maps.items()}
    fig = grids.value_maps(maps, level, peaks=peaks)
    fig.suptitle("V after stepping onto each cell (framed: local maxima)")
    numbers = [t for ax in fig.axes for t in ax.texts]
    assert len(numbers) == 2 * np.isfinite(maps["default agent"]).sum()
    assert {t.get_text() for t in numbers} >= {f"{v:.2f}" for v in maps["default agent"][~level.walls]}
    assert style.small_texts(fig) == []
    assert (
        min(style.shown_text_px(t, fig, style.display_scale(fig)) for t in numbers[:3]) >= style.MIN_TEXT_PX
    )
    assert overlapping_texts(fig) == []
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()][-1] == "local maximum"
    assert legend_clashes(legend) == []
    assert len(fig.axes[0].collections[-1].get_paths()) == peaks["default agent"].sum()  # the frames


def test_heatmaps_numbers_are_legible_and_nothing_overlaps():
    grid = np.where(np.tri(5, dtype=bool)[::-1], np.linspace(-1, 1, 25).reshape(5, 5), np.nan)
    titles = [
        "default agent\n(0 or 1 key: it cannot tell)",
        "inventory, 0 keys",
        "inventory, 1 key",
        "b",
        "c",
    ]
    fig = grids.heatmaps(
        {t: grid for t in titles}, label="P(to chest) - P(to key)", xlabel="chest distance", ylabel="key"
    )
    numbers = [t for ax in fig.axes for t in ax.texts]
    assert len(numbers) == 5 * np.isfinite(grid).sum() and numbers[0].get_text() == f"{grid[0, 0]:+.1f}"
    assert style.small_texts(fig) == []
    assert overlapping_texts(fig) == []
    assert sum(ax.get_visible() for ax in fig.axes) == 5 + 1  # five panels and the colour bar


def test_the_legibility_checks_catch_the_old_pictures():
    """The lessons' old figures: lesson 06's five heat maps in one row 16 inches wide with 8 pt numbers,
    lesson 09's value maps with 6.5 pt numbers and a 27 pt legend swatch. The checks above reject them."""
    grid = np.linspace(-1, 1, 25).reshape(5, 5)
    fig, axes = plt.subplots(1, 5, figsize=(16, 3.9), layout="constrained")
    for ax in axes:
        ax.imshow(grid, cmap="PuOr_r")
        for (i, j), v in np.ndenumerate(grid):
            ax.text(j, i, f"{v:+.1f}", ha="center", va="center", fontsize=8)
    assert {text for text, _ in style.small_texts(fig)} >= {"+1.0", "-1.0"}  # about 6 px on screen

    level = episodes.level_for(TRAIN, 3)
    values = random_values(level)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
    for ax in axes:
        render.draw(ax, level, title="default agent: V after stepping onto each cell")
        for r, c in np.argwhere(~np.isnan(values)):
            ax.text(c, r + 0.33, f"{values[r, c]:.2f}", ha="center", va="center", fontsize=6.5)
        ax.plot(
            [1],
            [1],
            linestyle="none",
            marker="s",
            markersize=27,
            markerfacecolor="none",
            label="local maximum",
        )
        handles, _ = ax.get_legend_handles_labels()
        ax.legend(
            handles=ax.get_legend().legend_handles + handles[-1:], loc="upper left", bbox_to_anchor=(1.02, 1)
        )
    assert {text for text, _ in style.small_texts(fig)} >= {f"{v:.2f}" for v in values[~level.walls]}
    assert ("local maximum", "local maximum") in legend_clashes(axes[0].get_legend())


# ------------------------------------------------------------------------------------------------
# What lesson 02 prints about the learner's policies


def lesson02_output(tmp_path, monkeypatch, capsys, learner: bool) -> str:
    """Run lesson 02's code cells (the learner's version, with stubs, or the solution) in one namespace,
    on 10 levels per split instead of 500, and return what they printed. Check cells and widgets are left
    out: this is about what the lesson prints when the cells after them use `yours_or_reference`."""
    import nbformat

    from mesalib.teaching.lessons import strip_solutions

    monkeypatch.chdir(tmp_path)
    nb = nbformat.read(Path(__file__).parents[1] / "solutions" / "02_heuristics.ipynb", as_version=4)
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or "_ = checks." in cell.source or "widgets." in cell.source:
            continue
        source = strip_solutions(cell.source) if learner else cell.source
        exec(
            compile(source.replace("EPISODES, SEED = 500, 0", "EPISODES, SEED = 10, 0"), "cell", "exec"),
            namespace,
        )
    plt.close("all")
    return capsys.readouterr().out


def test_lesson02_says_when_it_compares_the_librarys_policy_with_itself(tmp_path, monkeypatch, capsys):
    learner = lesson02_output(tmp_path, monkeypatch, capsys, learner=True)
    assert "plays like" not in learner  # no "True" for a comparison of the library with itself
    for mine, library in (("my_nearest_key", "nearest_key"), ("my_key_then_chest", "key_then_chest")):
        assert f"{mine} vs {library}: skipped, your {library} is not done yet" in learner
    solved = lesson02_output(tmp_path, monkeypatch, capsys, learner=False)
    assert "my_nearest_key plays like nearest_key on all 20 levels: True" in solved
    assert "my_key_then_chest plays like key_then_chest on all 20 levels: True" in solved
    assert "skipped" not in solved
