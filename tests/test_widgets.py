"""Tests for mesalib.drawing.widgets, driven from code the way a learner drives them with the mouse:
click buttons (`button.click()`), set values, and check the state and the redrawn picture."""

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from PIL import Image

from mesalib.agents.heuristics import KeyThenChest, NearestKey
from mesalib.agents.planner import Planner
from mesalib.drawing import plots, render, widgets
from mesalib.env.levels import TEST, TRAIN
from mesalib.env.rules import MOVES, Action

SHORT = TRAIN.replace(size=6, keys=(1, 2), chests=(2, 3), max_steps=6)


def decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def free_move(game) -> Action:
    """A move that does not walk into a wall, so that the board must change."""
    r, c = game.agent
    return next(a for a in Action if not game.walls[r + MOVES[a][0], c + MOVES[a][1]])


# ------------------------------------------------------------------------------------------------
# play


def test_play_buttons_move_the_agent_and_update_the_labels():
    p = widgets.play(TRAIN, seed=0)
    assert p.steps == 0 and "step 0 / 20" in p.status_text() and "step 0 / 20" in p.status.value
    assert np.array_equal(decode(p.image.value), render.rgb_array(p.level, 0, cell=widgets.BOARD_CELL))
    before, start = p.image.value, p.game.agent
    move = free_move(p.game)
    p.buttons[move].click()
    assert p.steps == 1 and p.moves == [move] and p.game.agent != start
    assert p.image.value != before
    assert "step 1 / 20" in p.status.value and f"moved {move.name}" in p.status.value


def test_play_keyboard_box_counts_only_new_letters():
    p = widgets.play(TRAIN, seed=0)  # agent at (4, 1); a key at (7, 1)
    p.keyboard.value = "ss"
    assert p.steps == 2 and p.game.agent == (6, 1)
    p.keyboard.value = "sss"  # one letter more: one move more
    assert p.steps == 3 and p.keys_held == 1 and "keys held 1" in p.status.value
    p.keyboard.value = "ss"  # deleting letters does nothing
    assert p.steps == 3
    p.keyboard.value = "ssxr"  # unknown letters are ignored, r restarts
    assert p.steps == 0 and p.game.agent == p.level.agent


def test_play_same_seed_same_picture_and_pickers_change_the_level():
    a, b = widgets.play(TRAIN, seed=7), widgets.play(TRAIN, seed=7)
    assert a.image.value == b.image.value
    a.seed_box.value = 8
    assert a.image.value != b.image.value and a.level.keys.sum() <= 2
    a.dist_picker.value = TEST
    assert a.dist is TEST and a.level.keys.sum() >= 6 and a.steps == 0
    assert a.image.value == widgets.play(TEST, seed=8).image.value
    a.next_button.click()
    assert a.seed == 9
    a.reset(seed=7, dist=TRAIN)
    assert a.image.value == b.image.value


def test_play_restart_returns_to_the_start():
    p = widgets.play(TEST, seed=3)
    first = p.image.value
    p.press(free_move(p.game))
    assert p.image.value != first
    p.reset_button.click()
    assert p.image.value == first and p.steps == 0 and p.episode_return == 0


def test_play_episode_end_disables_the_buttons():
    p = widgets.play(TRAIN, seed=2)
    plan = Planner(max_steps=TRAIN.max_steps).plan(p.game.boards())
    for action in plan.actions:
        p.press(action)
    while not p.done:
        p.press(free_move(p.game))
    assert p.episode_return == p.game.chests_opened > 0
    assert "episode over" in p.status_text()
    assert all(button.disabled for button in p.buttons.values())
    steps = p.steps
    assert p.press("up") == 0.0 and p.steps == steps  # ignored
    p.reset()
    assert not any(button.disabled for button in p.buttons.values())


def test_play_custom_distribution_and_action_names():
    p = widgets.play(SHORT, seed=1)
    assert p.dist_picker.options[0] == ("custom", SHORT)
    assert widgets.parse_action("w") == Action.UP and widgets.parse_action("left") == Action.LEFT
    assert widgets.parse_action(2) == Action.DOWN
    with pytest.raises(ValueError):
        widgets.parse_action("jump")


def test_widgets_display_as_their_container():
    p = widgets.play(SHORT, seed=1)
    bundle = p._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == p.widget.model_id


# ------------------------------------------------------------------------------------------------
# replay and compare


def test_replay_slider_and_player_redraw_frames():
    r = widgets.replay("nearest_key", SHORT, seed=3)
    ep = r.episode
    assert r.slider.max == r.player.max == ep.steps > 1
    first = r.image.value
    assert "step 0 /" in r.status.value
    r.slider.value = 1
    assert r.image.value != first and "step 1 /" in r.status.value and "action" in r.status_text()
    r.player.value = ep.steps  # play/pause drives the slider
    assert r.t == ep.steps and "ended" in r.status_text()
    r.show(0)
    assert r.image.value == first  # cached frame, same picture
    assert widgets.replay(NearestKey(), SHORT, seed=3).image.value == first


class _Wire:
    """A comm that hands each message to the test's `Browser`. Every widget of the scrubber gets its
    own, so what is sent does not depend on which comm implementation the process happens to have
    (ipywidgets sends only over a comm whose `kernel` is set; importing ipykernel elsewhere changes
    the default comm)."""

    kernel = True

    def __init__(self, browser: "Browser", widget):
        self.browser, self.widget = browser, widget
        self.comm_id = getattr(widget.comm, "comm_id", f"wire-{id(widget)}")  # the widget's model id

    def send(self, data=None, metadata=None, buffers=None):
        self.browser.receive(self.widget, data, buffers)

    def on_msg(self, callback):  # messages from the browser: the test calls set_state itself
        pass

    def close(self, *args, **kwargs):
        pass


class Browser:
    """What the browser shows of a scrubber, updated message by message as the kernel sends them
    (each widget's comm recorded), so that a test sees every intermediate state a learner could see."""

    def __init__(self, scrubber, monkeypatch):
        self.scrubber = scrubber
        self.number, self.picture = scrubber.slider.value, scrubber.image.value
        self.status = scrubber.status.value
        self.disagreements: list[str] = []
        for widget in (scrubber.slider, scrubber.player, scrubber.image, scrubber.status):
            monkeypatch.setattr(widget, "comm", _Wire(self, widget))

    def receive(self, widget, msg, buffers) -> None:
        if msg.get("method") != "update":  # an echo of what the browser itself sent changes nothing
            return
        state = msg.get("state", {})
        if widget is self.scrubber.image and ["value"] in msg.get("buffer_paths", []):
            self.picture = bytes(buffers[msg["buffer_paths"].index(["value"])])  # bytes travel as buffers
        elif widget is self.scrubber.status and "value" in state:
            self.status = state["value"]
        elif widget is self.scrubber.slider and "value" in state:
            self.number = state["value"]
            self.check(f"when the slider showed {self.number}")

    def check(self, when: str) -> None:
        """The picture and the status line are those of the step the slider's number says."""
        if self.picture != self.scrubber.png(self.number) or f"step {self.number} /" not in self.status:
            self.disagreements.append(when)


@pytest.mark.parametrize(
    "make",
    [
        lambda: widgets.replay("nearest_key", SHORT, seed=3),
        lambda: widgets.compare(["nearest_key", "key_then_chest"], SHORT, seed=3),
    ],
    ids=["replay", "compare"],
)
def test_the_slider_number_never_runs_ahead_of_the_picture(make, monkeypatch):
    scrubber = make()
    last = scrubber.slider.max
    assert last >= 3
    browser = Browser(scrubber, monkeypatch)
    for t in range(1, last + 1):  # play: the browser's Play widget counts up, the kernel follows
        scrubber.player.set_state({"value": t})
        browser.check(f"after play reached {t}")
    for t in (0, last, 1):  # a learner drags the slider (the browser shows the number at once)
        scrubber.slider.set_state({"value": t})
        browser.number = t
        browser.check(f"after dragging to {t}")
    for t in (2, 0):  # code (and the step buttons) move it
        scrubber.show(t)
        browser.check(f"after show({t})")
    assert browser.disagreements == []
    assert scrubber.t == scrubber.slider.value == scrubber.player.value == 0


def test_replay_of_an_untrained_torch_agent():
    pytest.importorskip("torch")
    Agent = pytest.importorskip("mesalib.agents.ppo").Agent  # the PPO module lands with the agents issue
    from mesalib.agents.nets import make_network

    agent = Agent(make_network("mlp", SHORT.observation_shape, 16))
    r = widgets.replay(agent, SHORT, seed=0)
    assert r.episode.policy == "ppo" and r.episode.steps >= 1


def test_compare_steps_policies_together():
    c = widgets.compare({"keys": NearestKey(), "intended": KeyThenChest()}, TEST.replace(max_steps=8), seed=4)
    assert [ep.policy for ep in c.episodes] == ["keys", "intended"]
    assert c.episodes[0].boards[0].agent == c.episodes[1].boards[0].agent  # the same level
    first = c.image.value
    c.step_button.click()
    assert c.t == 1 and c.image.value != first and "step 1 /" in c.status.value
    c.step_button.click()
    c.back_button.click()
    assert c.t == 1
    c.slider.value = c.slider.max
    lines = c.status_text().splitlines()
    assert len(lines) == 3 and all("chests opened" in line for line in lines[1:])
    assert any("finished at step" in line for line in lines[1:])
    for _ in range(3):
        c.step_button.click()  # clamped at the end
    assert c.t == c.slider.max
    c.start_button.click()
    assert c.t == 0 and c.image.value == first
    assert c.frame(1, 0) == c.episodes[1].infos[0]


# ------------------------------------------------------------------------------------------------
# policy field explorer


def test_field_explorer_redraws_on_keys_held_and_seed():
    f = widgets.field_explorer("key_then_chest", TEST, seed=1)
    first = f.image.value
    f.keys_slider.value = 1
    assert f.image.value != first
    f.keys_slider.value = 0
    assert f.image.value == first
    f.seed_box.value = 2
    assert f.image.value != first


# ------------------------------------------------------------------------------------------------
# training dashboard


def records(n=6, eval_every=3):
    out = []
    for u in range(1, n + 1):
        r = {
            "update": u,
            "env_steps": 1000 * u,
            "steps_per_s": 5000.0,
            "return": 0.1 * u,
            "chests": 0.1 * u,
            "keys": 1.0,
        }
        if u % eval_every == 0:
            r["train_eval"] = {"return": 0.2 * u, "chests_opened": 0.2 * u, "keys_collected": 1.0}
            r["test_eval"] = {"return": 0.05 * u, "chests_opened": 0.05 * u, "keys_collected": 1.5 * u}
        out.append(r)
    return out


def test_dashboard_text_fallback_prints_lines(capsys):
    assert not widgets.in_notebook()
    dash = widgets.TrainingDashboard(total_steps=6000)
    assert dash.mode == "text"
    for r in records():
        assert not dash.update(r)  # never asks training to stop
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3  # the first record and the two evaluations (the last is also the end)
    assert out[0].startswith("update 1 | 1,000 / 6,000 steps (17%)")
    assert "TEST chests 0.30 keys 9.00" in out[-1] and "(100%)" in out[-1]
    assert dash.lines == out and len(dash.history) == 6


@pytest.mark.slow
def test_dashboard_widget_mode_updates_progress_label_and_curves():
    dash = widgets.TrainingDashboard(total_steps=6000, mode="widget", redraw_seconds=1e9)
    dash._displayed = True  # as if shown in a notebook
    rs = records()
    dash.update(rs[0])
    assert dash.progress.value == pytest.approx(1 / 6) and "update 1" in dash.label.value
    assert dash.redraws == 1  # the first record draws (no earlier drawing)
    dash.update(rs[1])
    assert dash.redraws == 1  # throttled
    dash.update(rs[2])
    assert dash.redraws == 2  # an evaluation record always redraws
    picture = dash.image.value
    for r in rs[3:]:
        dash.update(r)
    assert dash.progress.value == 1.0 and dash.progress.bar_style == "success"
    assert dash.image.value != picture and "TEST chests 0.30" in dash.label.value


def test_dashboard_as_a_real_training_callback():
    pytest.importorskip("torch")
    ppo = pytest.importorskip("mesalib.agents.ppo")  # the PPO module lands with the agents issue

    config = ppo.PPOConfig(
        dist=TRAIN.replace(size=6, keys=(1, 1), chests=(2, 2), max_steps=6, view=None),
        num_envs=8,
        num_steps=16,
        hidden=16,
        total_steps=512,
        eval_every=2,
        eval_episodes=8,
        threads=1,
    )
    lines = io.StringIO()
    dash = widgets.TrainingDashboard(config, file=lines)
    _, history = ppo.train(config, progress=False, callback=dash.update)
    assert dash.history == history and dash.total_steps == 512
    text = lines.getvalue().splitlines()
    assert len(text) >= 2 and "TEST chests" in text[-1] and "(100%)" in text[-1]
    axes = plots.plot_history(history)
    assert len(axes[0].lines) == 3


# ------------------------------------------------------------------------------------------------
# play records what was played


def play_through(p, policy, moves=None):
    """Press `policy`'s moves in the widget until the episode ends (or `moves` moves are made)."""
    while not p.done and (moves is None or len(p.moves) < moves):
        p.press(int(policy(None, p.game.boards())[0]))


def test_play_records_every_level_played_with_its_boards_and_moves(tmp_path):
    from mesalib.analysis.episodes import level_for
    from mesalib.analysis.recorded_play import load_play
    from mesalib.analysis.stance import record
    from mesalib.env.levels import LevelBatch

    p = widgets.play(TEST, seed=0, save_to=str(tmp_path / "mine.json"))
    play_through(p, NearestKey())
    p.next_button.click()  # seed 1
    play_through(p, NearestKey())
    p.reset(seed=5, dist=TRAIN)
    p.reset()  # no move made on this level: nothing recorded for it
    play_through(p, KeyThenChest(), moves=3)
    p.reset_button.click()  # left after three moves: recorded as played
    p.press(free_move(p.game))  # the current episode is part of the recording too
    rec = p.recording()
    assert [(e.levels, e.seed, len(e.moves)) for e in rec.episodes][2:] == [("TRAIN", 5, 3), ("TRAIN", 5, 1)]
    levels = LevelBatch.stack([level_for(TEST, s) for s in (0, 1)])
    expected = record(NearestKey(), TEST, 2, levels=levels)
    got = rec.trajectories("TEST")
    assert np.array_equal(got.actions, expected.actions) and np.array_equal(
        got.steps_left, expected.steps_left
    )
    assert np.array_equal(got.boards.keys, expected.boards.keys)
    assert np.array_equal(got.boards.keys_held, expected.boards.keys_held)
    p.save_button.click()
    back = load_play(tmp_path / "mine.json")
    assert [e.moves for e in back.episodes] == [e.moves for e in rec.episodes]
    assert "saved 4 episodes" in p.status.value
