"""Tests for mesalib.drawing.render: the RGB array, the matplotlib drawing and the text view."""

import dataclasses
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.lines import Line2D

from mesalib.drawing import render
from mesalib.env.levels import TRAIN

CELL = 12


def sample(dist, seed=0):
    return dist.sample(np.random.default_rng(seed), 1)[0]


@pytest.fixture(params=["room", "maze"])
def level(request):
    return sample(TRAIN.replace(layout=request.param, ghost_chests=True))


def tile(img, cell, size=CELL):
    r, c = cell
    return img[r * size : (r + 1) * size, c * size : (c + 1) * size]


def free_cell(level):
    """A floor cell with nothing on it, not the agent's."""
    busy = level.walls | level.keys | level.chests | level.ghosts
    for r, c in np.argwhere(~busy):
        if (r, c) != level.agent:
            return int(r), int(c)
    raise AssertionError("no free cell")


def test_rgb_array_shape_and_dtype(level):
    img = render.rgb_array(level)
    assert img.shape == (level.size * CELL, level.size * CELL, 3)
    assert img.dtype == np.uint8
    assert render.rgb_array(level, cell=5).shape == (level.size * 5, level.size * 5, 3)


def test_rgb_array_is_deterministic_and_writable(level):
    a = render.rgb_array(level, 2, show_ghosts=True)
    b = render.rgb_array(level, 2, show_ghosts=True)
    np.testing.assert_array_equal(a, b)
    a[:] = 0  # the caller owns the image; the cached sprites must not change
    np.testing.assert_array_equal(render.rgb_array(level, 2, show_ghosts=True), b)


def test_agent_cell_differs_from_floor(level):
    img = render.rgb_array(level)
    assert not np.array_equal(tile(img, level.agent), tile(img, free_cell(level)))


def test_key_appears_and_disappears(level):
    cell = free_cell(level)
    before = render.rgb_array(level)
    keys = level.keys.copy()
    keys[cell] = True
    after = render.rgb_array(dataclasses.replace(level, keys=keys))
    assert not np.array_equal(tile(before, cell), tile(after, cell))
    changed = np.any(before != after, axis=2)
    outside = changed.copy()
    r, c = cell
    outside[r * CELL : (r + 1) * CELL, c * CELL : (c + 1) * CELL] = False
    assert not outside.any(), "adding a key changed pixels outside its cell"
    # Taking an existing key away leaves plain floor.
    kr, kc = map(int, np.argwhere(level.keys)[0])
    keys = level.keys.copy()
    keys[kr, kc] = False
    gone = render.rgb_array(dataclasses.replace(level, keys=keys))
    np.testing.assert_array_equal(tile(gone, (kr, kc)), tile(before, cell))


def test_items_look_different(level):
    img = render.rgb_array(level, show_ghosts=True)
    key = tile(img, tuple(np.argwhere(level.keys)[0]))
    chest = tile(img, tuple(np.argwhere(level.chests & ~_agent_mask(level))[0]))
    ghost = tile(img, tuple(np.argwhere(level.ghosts & ~_agent_mask(level))[0]))
    wall = tile(img, (0, level.size - 1))
    floor = tile(img, free_cell(level))
    pictures = [key, chest, ghost, wall, floor]
    for i in range(len(pictures)):
        for j in range(i):
            assert not np.array_equal(pictures[i], pictures[j])


def _agent_mask(level):
    mask = np.zeros_like(level.walls)
    mask[level.agent] = True
    return mask


def test_ghosts_drawn_only_when_asked(level):
    assert level.ghosts.any()
    hidden = render.rgb_array(level)
    shown = render.rgb_array(level, show_ghosts=True)
    no_ghosts = render.rgb_array(dataclasses.replace(level, ghosts=np.zeros_like(level.ghosts)))
    np.testing.assert_array_equal(hidden, no_ghosts)
    for cell in map(tuple, np.argwhere(level.ghosts)):
        assert not np.array_equal(tile(hidden, cell), tile(shown, cell))


def test_keys_held_changes_the_image(level):
    images = [render.rgb_array(level, k) for k in (0, 1, 2)]
    assert not np.array_equal(images[0], images[1])
    assert not np.array_equal(images[1], images[2])
    # Only the top wall row shows the inventory; the cap is one pip per column.
    assert np.array_equal(images[0][CELL:], images[2][CELL:])
    np.testing.assert_array_equal(render.rgb_array(level, level.size), render.rgb_array(level, 100))


def test_rgb_array_rejects_bad_arguments(level):
    with pytest.raises(ValueError, match="keys_held"):
        render.rgb_array(level, -1)
    with pytest.raises(ValueError, match="cell"):
        render.rgb_array(level, cell=2)


def test_rgb_array_does_not_import_matplotlib():
    code = (
        "import sys, numpy as np; from mesalib.env.levels import TRAIN; "
        "from mesalib.drawing.render import rgb_array; "
        "rgb_array(TRAIN.sample(np.random.default_rng(0), 1)[0], 1); "
        "assert 'matplotlib' not in sys.modules, 'rgb_array imported matplotlib'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_text_round_trip(level):
    out = render.text(level, keys_held=1)
    lines = out.splitlines()
    grid, last = lines[:-1], lines[-1]
    assert last == "keys held: 1"
    assert len(grid) == level.size and all(len(row) == level.size for row in grid)
    board = "".join(grid)
    assert board.count("k") == level.keys.sum()
    assert board.count("A") == 1
    assert board.count("g") == 0
    r, c = level.agent
    assert grid[r][c] == "A"
    assert grid[0] == grid[-1] == "#" * level.size
    assert all(row[0] == row[-1] == "#" for row in grid)
    assert board.count("#") == level.walls.sum()
    assert set(board) <= set("#.kcAg")


def test_text_shows_ghosts_only_when_asked(level):
    shown = render.text(level, show_ghosts=True)
    ghosts_not_under_agent = (level.ghosts & ~_agent_mask(level)).sum()
    assert shown.count("g") == ghosts_not_under_agent > 0
    for symbol in "#.kcAg":
        assert symbol in render.LEGEND


def test_draw_has_legend_title_and_board():
    level = sample(TRAIN.replace(ghost_chests=True))
    fig, ax = plt.subplots()
    out = render.draw(ax, level, keys_held=2, show_ghosts=True, title="a level")
    assert out is ax
    legend = ax.get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    for name in ("wall", "key", "chest", "agent"):
        assert name in labels
    assert any("ghost" in label for label in labels)
    assert "2" in ax.get_title() and "keys held" in ax.get_title() and "a level" in ax.get_title()
    assert ax.get_xticks().size == 0 and ax.get_yticks().size == 0
    bottom, top = ax.get_ylim()
    assert top < bottom, "row 0 should be at the top"
    fig.canvas.draw()  # everything must actually render
    plt.close(fig)


def test_draw_without_ghosts_has_no_ghost_legend(level):
    fig, ax = plt.subplots()
    render.draw(ax, level)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert not any("ghost" in label for label in labels)
    assert "keys held: 0" in ax.get_title()
    plt.close(fig)


def test_trajectory_adds_a_line(level):
    r, c = level.agent
    path = [(r, c)]
    for _ in range(6):  # walk down until a wall, then stay
        nr = path[-1][0] + 1
        path.append((nr, c) if not level.walls[nr, c] else path[-1])
    fig, (a, b) = plt.subplots(1, 2)
    render.draw(a, level)
    render.draw(b, level, trajectory=path)
    plain = [artist for artist in a.get_children() if isinstance(artist, Line2D)]
    lines = [artist for artist in b.get_children() if isinstance(artist, Line2D)]
    assert len(lines) > len(plain)
    traced = [line for line in lines if len(line.get_xdata()) == len(path)]
    assert traced, "the trajectory should be one line through every cell"
    np.testing.assert_array_equal(traced[0].get_xdata(), [p[1] for p in path])
    np.testing.assert_array_equal(traced[0].get_ydata(), [p[0] for p in path])
    fig.canvas.draw()
    plt.close(fig)


def test_draw_makes_a_figure_when_ax_is_none(level):
    ax = render.draw(None, level, 1)
    assert "1" in ax.get_title()
    plt.close(ax.figure)
