"""Fast tests of the torch agent: the two formulas, the networks, a tiny training run, checkpoints."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from mesalib.agents.agent import CHECKPOINT_FORMAT, Agent
from mesalib.agents.heuristics import KeyThenChest
from mesalib.agents.nets import CNNActorCritic, MLPActorCritic, make_network, sample_actions, use_threads
from mesalib.agents.ppo import clipped_policy_loss, compute_gae, train
from mesalib.agents.ppo_config import PPOConfig, dist_from_dict, dist_to_dict, matching_test
from mesalib.agents.training_log import PROFILE_PARTS, first_episode_metrics
from mesalib.analysis.evaluate import evaluate
from mesalib.env.levels import TEST, TRAIN, mix
from mesalib.env.vecenv import VecChestsAndKeys

# A trivially easy distribution: a 3x3 room, two keys, four chests, small observation.
EASY = TRAIN.replace(size=5, keys=(2, 2), chests=(4, 4), max_steps=8, view=None)


def tiny_config(**changes) -> PPOConfig:
    base = dict(
        dist=EASY,
        test_dist=EASY.replace(keys=(4, 4), chests=(2, 2)),
        num_envs=16,
        num_steps=32,
        hidden=64,
        total_steps=20_000,
        eval_every=0,
        eval_episodes=64,
        threads=1,
        seed=3,
    )
    base.update(changes)
    return PPOConfig(**base)


# ------------------------------------------------------------------------------------------------
# GAE


def test_gae_hand_computed_with_done():
    gamma, lam = 0.9, 0.8
    rewards = np.array([1.0, 0.0, 2.0], np.float32)
    values = np.array([0.5, 1.0, 1.5], np.float32)
    dones = np.array([False, True, False])
    last_value = np.float32(4.0)
    # Step 2 bootstraps from last_value; step 1 ended an episode (no bootstrap, no carry-over).
    d2 = 2.0 + gamma * 4.0 - 1.5  # 4.1
    a2 = d2
    d1 = 0.0 - 1.0  # -1.0 (done: next value ignored)
    a1 = d1  # nothing carried across the episode boundary
    d0 = 1.0 + gamma * 1.0 - 0.5  # 1.4
    a0 = d0 + gamma * lam * a1  # 1.4 - 0.72 = 0.68
    adv, ret = compute_gae(rewards, values, dones, last_value, gamma, lam)
    assert isinstance(adv, np.ndarray)
    np.testing.assert_allclose(adv, [a0, a1, a2], rtol=1e-6)
    np.testing.assert_allclose(ret, np.array([a0, a1, a2]) + values, rtol=1e-6)


def test_gae_batched_torch_matches_columns():
    rng = np.random.default_rng(0)
    r = rng.normal(size=(5, 3)).astype(np.float32)
    v = rng.normal(size=(5, 3)).astype(np.float32)
    d = rng.random((5, 3)) < 0.3
    last = rng.normal(size=3).astype(np.float32)
    adv, ret = compute_gae(torch.tensor(r), torch.tensor(v), torch.tensor(d), torch.tensor(last), 0.97, 0.95)
    assert isinstance(adv, torch.Tensor) and adv.shape == (5, 3)
    for b in range(3):
        col, _ = compute_gae(r[:, b], v[:, b], d[:, b], last[b], 0.97, 0.95)
        np.testing.assert_allclose(adv[:, b].numpy(), col, rtol=1e-5, atol=1e-6)


def test_gae_lambda_one_is_discounted_return_minus_value():
    r = np.array([1.0, 1.0, 1.0], np.float32)
    v = np.zeros(3, np.float32)
    adv, ret = compute_gae(r, v, np.zeros(3), 0.0, gamma=0.5, lam=1.0)
    np.testing.assert_allclose(ret, [1.75, 1.5, 1.0])


# ------------------------------------------------------------------------------------------------
# Clipped loss


def test_clipped_loss_hand_computed():
    clip = 0.2
    ratios = torch.tensor([1.5, 0.5, 1.1, 0.7])
    adv = torch.tensor([2.0, 1.0, -1.0, -3.0])
    old = torch.zeros(4)
    new = torch.log(ratios)
    # min(r*A, clip(r)*A): 1.5*2=3 vs 1.2*2=2.4 -> 2.4; 0.5*1=.5 vs .8 -> .5; -1.1 vs -1.1 -> -1.1;
    # 0.7*-3=-2.1 vs 0.8*-3=-2.4 -> -2.4.
    expected = -(2.4 + 0.5 - 1.1 - 2.4) / 4
    loss = clipped_policy_loss(new, old, adv, clip)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_clipped_loss_gradient_zero_outside_clip_region():
    old = torch.zeros(4)
    new = torch.log(torch.tensor([1.5, 0.5, 1.1, 0.7])).requires_grad_()
    adv = torch.tensor([2.0, 1.0, -1.0, -3.0])
    clipped_policy_loss(new, old, adv, 0.2).backward()
    g = new.grad
    assert g[0] == 0.0  # ratio above 1+clip with positive advantage: clipped, no push further
    assert g[3] == 0.0  # ratio below 1-clip with negative advantage: clipped
    # Inside the region (or on the pessimistic side), d/dlogp of -r*A/N = -r*A/N.
    assert g[1].item() == pytest.approx(-0.5 * 1.0 / 4)
    assert g[2].item() == pytest.approx(-1.1 * -1.0 / 4)


# ------------------------------------------------------------------------------------------------
# Networks


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
@pytest.mark.parametrize("shape", [(4, 17, 17), (4, 9, 9), (6, 7, 7), (5, 3, 3), (4, 11, 11)])
def test_network_shapes(kind, shape):
    net = make_network(kind, shape, hidden=32)
    obs = torch.randint(0, 2, (5, *shape), dtype=torch.uint8)
    logits, value = net(obs)
    assert logits.shape == (5, 4) and value.shape == (5,)
    assert net.features(obs.numpy()).shape == (5, 32)
    assert isinstance(net, MLPActorCritic if kind == "mlp" else CNNActorCritic)


def test_untrained_policy_is_near_uniform_and_sampling_is_seeded():
    net = make_network("mlp", (4, 9, 9))
    obs = torch.randint(0, 2, (256, 4, 9, 9), dtype=torch.uint8)
    logits, _ = net(obs)
    probs = torch.softmax(logits, -1)
    assert torch.allclose(probs, torch.full_like(probs, 0.25), atol=0.02)
    a1 = sample_actions(logits, torch.Generator().manual_seed(1))
    a2 = sample_actions(logits, torch.Generator().manual_seed(1))
    assert torch.equal(a1, a2) and set(a1.tolist()) == {0, 1, 2, 3}


def test_gumbel_sampling_matches_softmax():
    logits = torch.log(torch.tensor([[0.1, 0.2, 0.3, 0.4]])).expand(40_000, 4)
    counts = torch.bincount(sample_actions(logits, torch.Generator().manual_seed(0)), minlength=4)
    np.testing.assert_allclose(counts.numpy() / 40_000, [0.1, 0.2, 0.3, 0.4], atol=0.01)


# ------------------------------------------------------------------------------------------------
# Config


def test_every_config_field_has_a_docstring():
    tree = ast.parse(inspect.getsource(PPOConfig))
    body = tree.body[0].body
    documented = set()
    for node, nxt in zip(body, body[1:]):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            documented.add(node.target.id)
    assert documented == {f.name for f in dataclasses.fields(PPOConfig)}


def test_config_round_trips_through_plain_data():
    cfg = PPOConfig(dist=mix(TRAIN, TEST, 0.25), test_dist=TEST.replace(view=9), seed=7)
    data = cfg.to_dict()
    assert PPOConfig.from_dict(data) == cfg
    assert PPOConfig.from_dict(PPOConfig().to_dict()) == PPOConfig()


def test_distributions_round_trip_through_plain_data():
    for dist in (TRAIN, TEST.replace(view=None, ghost_chests=True), mix(TRAIN, TEST, 0.1)):
        assert dist_from_dict(dist_to_dict(dist)) == dist
    with pytest.raises(ValueError, match="Not a serialised level distribution"):
        dist_from_dict({"type": "Grid", "fields": {}})


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="network"):
        PPOConfig(network="transformer")
    with pytest.raises(ValueError, match="divisible"):
        PPOConfig(num_envs=10, num_steps=3, minibatches=4)


def test_config_with_levels_too_small_for_test_counts_asks_for_test_dist():
    with pytest.raises(ValueError, match="test_dist"):
        PPOConfig(dist=EASY)


def test_matching_test_keeps_observation_settings():
    d = TRAIN.replace(view=9, max_steps=25)
    t = matching_test(d)
    assert (t.view, t.max_steps, t.keys, t.chests) == (9, 25, TEST.keys, TEST.chests)


# ------------------------------------------------------------------------------------------------
# Training


@pytest.fixture(scope="module")
def tiny_run():
    return train(tiny_config(), progress=False)


@pytest.mark.slow  # about 4 s or more
def test_tiny_training_is_deterministic(tiny_run):
    agent, history = tiny_run
    agent2, history2 = train(tiny_config(), progress=False)
    assert [h["return"] for h in history] == [h["return"] for h in history2]
    assert [h["policy_loss"] for h in history] == [h["policy_loss"] for h in history2]
    for p1, p2 in zip(agent.net.parameters(), agent2.net.parameters()):
        assert torch.equal(p1, p2)
    _, history3 = train(tiny_config(seed=4, total_steps=2_000), progress=False)
    assert [h["return"] for h in history3] != [h["return"] for h in history[: len(history3)]]


def test_tiny_training_improves_over_untrained(tiny_run):
    agent, history = tiny_run
    untrained = Agent(make_network("mlp", EASY.observation_shape, 64), greedy=False)
    agent.greedy = False
    before = first_episode_metrics(untrained, EASY, 500, seed=11)["return"]
    after = first_episode_metrics(agent, EASY, 500, seed=11)["return"]
    agent.greedy = True
    assert after > before + 0.3, (before, after)
    assert history[-1]["return"] > history[0]["return"]


def test_history_has_metrics_and_speed(tiny_run):
    agent, history = tiny_run
    last = history[-1]
    for key in (
        "update",
        "env_steps",
        "return",
        "chests",
        "keys",
        "policy_loss",
        "value_loss",
        "entropy",
        "approx_kl",
        "env_time_share",
        "steps_per_s",
    ):
        assert key in last
    for split in ("train_eval", "test_eval"):
        assert set(last[split]) >= {"return", "chests_opened", "keys_collected"}
    assert 0 < agent.stats["env_time_share"] < 1 and agent.stats["steps_per_s"] > 0
    assert last["env_steps"] >= 20_000
    profile = agent.stats["profile_s"]  # where the run's wall time went, part by part
    assert tuple(profile) == PROFILE_PARTS
    assert all(profile[part] > 0 for part in ("inference", "env", "update", "eval"))
    assert abs(sum(profile.values()) - agent.stats["wall_time_s"]) < 1e-6


def test_periodic_eval_and_callback_stop():
    seen = []
    _, history = train(
        tiny_config(total_steps=5_000, eval_every=2),
        progress=False,
        callback=lambda rec: seen.append(rec["update"]) or rec["update"] == 5,
    )
    assert seen == [1, 2, 3, 4, 5] and len(history) == 5
    assert ["test_eval" in h for h in history] == [False, True, False, True, False]


def test_training_sets_its_thread_count_and_puts_the_old_one_back():
    before = torch.get_num_threads()
    seen = []
    train(
        tiny_config(total_steps=512, threads=3),
        progress=False,
        callback=lambda rec: seen.append(torch.get_num_threads()),
    )
    assert seen == [3] and torch.get_num_threads() == before


def test_use_threads_follows_mesalib_threads_only_when_it_is_set(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.delenv("MESALIB_THREADS", raising=False)
        assert use_threads() == before and torch.get_num_threads() == before  # unset: torch's choice stays
        monkeypatch.setenv("MESALIB_THREADS", "3")
        assert use_threads() == before and torch.get_num_threads() == 3
        assert use_threads(2) == 3 and torch.get_num_threads() == 2  # an explicit count wins
        monkeypatch.setenv("MESALIB_THREADS", "zero")
        with pytest.raises(ValueError, match="MESALIB_THREADS"):
            use_threads()
    finally:
        torch.set_num_threads(before)


@pytest.mark.slow  # about 4 s or more
def test_importing_the_networks_leaves_torch_threads_alone():
    code = (
        "import torch; n = torch.get_num_threads(); import mesalib.agents.nets; "
        "print(n == torch.get_num_threads())"
    )
    env = {**os.environ, "MESALIB_THREADS": "3"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


# ------------------------------------------------------------------------------------------------
# The evaluation during training


def test_first_episode_metrics_agrees_with_the_full_evaluation():
    # Both play one episode on each of the levels `seed` draws; only the records kept differ.
    summary = evaluate(KeyThenChest(), TEST, 40, seed=5, with_best=False).summary()
    quick = first_episode_metrics(KeyThenChest(), TEST, 40, seed=5)
    assert list(quick) == ["return", "chests_opened", "keys_collected", "ghost_chests_opened", "steps"]
    for name, value in quick.items():
        assert value == pytest.approx(summary[name]), name


def test_first_episode_metrics_restarts_a_sampling_agent(tiny_run):
    agent, _ = tiny_run
    agent.greedy = False
    try:
        first = first_episode_metrics(agent, EASY, 50, seed=2)
        assert first_episode_metrics(agent, EASY, 50, seed=2) == first  # reset(None) reseeds the sampler
    finally:
        agent.greedy = True


# ------------------------------------------------------------------------------------------------
# Agent and checkpoints


def test_agent_follows_policy_protocol(tiny_run):
    agent, _ = tiny_run
    env = VecChestsAndKeys(EASY, 8, seed=0)
    actions = agent(env.observe(), env.boards())
    assert actions.shape == (8,) and actions.dtype == np.int64
    agent.reset(np.ones(8, bool))
    assert isinstance(agent.name, str)


def test_checkpoint_round_trip(tiny_run, tmp_path):
    agent, _ = tiny_run
    path = tmp_path / "agent.pt"
    agent.save(path)
    loaded = Agent.load(path)
    obs = torch.randint(0, 2, (64, *EASY.observation_shape), dtype=torch.uint8).numpy()
    np.testing.assert_array_equal(agent(obs), loaded(obs))
    agent.greedy, loaded.greedy = False, False
    agent.seed(5), loaded.seed(5)
    np.testing.assert_array_equal(agent(obs), loaded(obs))
    agent.greedy = True
    data = torch.load(path, weights_only=True)
    assert data["config"]["seed"] == 3 and data["config"]["dist"]["fields"]["size"] == 5
    assert data["network"] == {"kind": "mlp", "obs_shape": [4, 5, 5], "hidden": 64}
    assert loaded.ppo_config() == tiny_config()
    assert loaded.stats["env_steps"] == agent.stats["env_steps"]


def test_default_sized_checkpoint_is_small(tmp_path):
    cfg = PPOConfig()
    net = make_network(cfg.network, cfg.dist.observation_shape, cfg.hidden)
    Agent(net, cfg).save(tmp_path / "default.pt")
    assert (tmp_path / "default.pt").stat().st_size < 1_000_000


def test_loading_bad_files_raises_value_error(tiny_run, tmp_path):
    agent, _ = tiny_run
    good = tmp_path / "good.pt"
    agent.save(good)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:500])
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"this is not a checkpoint" * 10)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    for path in (truncated, garbage, other):
        with pytest.raises(ValueError, match="checkpoint"):
            Agent.load(path)
    mismatched = tmp_path / "mismatched.pt"
    data = torch.load(good, weights_only=True)
    data["network"]["hidden"] = 32
    torch.save(data, mismatched)
    with pytest.raises(ValueError, match="does not match"):
        Agent.load(mismatched)
    with pytest.raises(FileNotFoundError):
        Agent.load(tmp_path / "missing.pt")


def test_checkpoint_holds_no_pickled_classes(tiny_run, tmp_path):
    # weights_only loading refuses arbitrary classes; a checkpoint that needed them would fail here.
    agent, _ = tiny_run
    agent.save(tmp_path / "a.pt")
    data = torch.load(tmp_path / "a.pt", weights_only=True)
    assert data["format"] == CHECKPOINT_FORMAT


def test_an_interrupted_save_leaves_the_old_checkpoint_and_no_partial_file(tiny_run, tmp_path, monkeypatch):
    agent, _ = tiny_run
    target = tmp_path / "a.pt"
    agent.save(target)
    before = target.read_bytes()

    def crash(data, where):
        open(where, "wb").write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        agent.save(target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pt"]


def test_the_course_adam_is_torch_adam_bit_for_bit_and_imports_no_compiler():
    """`agents.adam.Adam` exists only to skip TorchDynamo's import; it must give torch's exact numbers."""
    from mesalib.agents.adam import Adam

    torch.manual_seed(3)
    nets = [make_network("mlp", TRAIN.observation_shape, 16) for _ in range(2)]
    nets[1].load_state_dict(nets[0].state_dict())
    ours, theirs = (
        Adam(nets[0].parameters(), lr=3e-3, eps=1e-5),
        torch.optim.Adam(nets[1].parameters(), lr=3e-3, eps=1e-5),
    )
    obs = torch.from_numpy(VecChestsAndKeys(TRAIN, 32, seed=0).observe())
    for step in range(6):
        for net, opt in zip(nets, (ours, theirs)):
            opt.zero_grad()
            logits, value = net(obs)
            (logits.logsumexp(-1).mean() + value.pow(2).mean()).backward()
            opt.step()
        ours.lr = 3e-3 * (1 - step / 6)  # a schedule, as `anneal_learning_rate` does
        for group in theirs.param_groups:
            group["lr"] = ours.lr
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        assert torch.equal(a, b)
    script = (
        "import sys, torch; from mesalib.agents.adam import Adam; p = torch.zeros(3, requires_grad=True); "
        "opt = Adam([p], lr=0.1); p.sum().backward(); opt.step(); print('torch._dynamo' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
