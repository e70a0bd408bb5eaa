"""The intentional stance, made quantitative: which objective best explains what an agent does?

Dennett's intentional stance predicts a system's behaviour by treating it as a rational agent with
beliefs and desires. Here the "desires" are candidate objectives (`Candidate`: an `Objective` from
`agents.objectives`, and what the modelled agent believes about the keys it holds), and "rational" is
softened into *Boltzmann rationality*: in state s the agent picks action a with probability

    P(a | s)  proportional to  exp(beta * Q_obj(s, a)),

where Q_obj(s, a) is what action a achieves under the objective, scored by the planner's exact search.
beta says how reliably the agent acts on that objective (0: uniformly random; large: always a best
action).

The pieces, one module each, in the order lesson 06 uses them:

- `preferences`: `preference_level` puts one key and one chest on opposite sides of the agent at
  chosen distances; `preference_probabilities` reads a policy's move probabilities there (through
  `analysis.choices`: `observations`, `action_probabilities`), with or without a key in hand;
- `trajectories`: `record`, the states a policy visits on some levels and the actions it takes there;
- `candidates`: the hypotheses (`CANDIDATES`: chests, keys, nothing; `BOTH`; `BLIND_CHESTS`) and
  `action_values` / `q_values`, Q_obj for every action in every recorded state;
- `likelihood`: `log_likelihood`, `likelihood_table`, `fit`: the softmax-rational model and the
  maximum-likelihood choice of objective and beta on a grid (`BETAS`);
- `explanation`: `explain`, all of it at once, returning an `Explanation` with a printable table,
  per-decision log-likelihoods and a bootstrap over episodes.

Every name is importable from `mesalib.analysis.stance` itself. This package imports torch only
through the agent it is given, and no plotting library.
"""

from mesalib.analysis.choices import action_probabilities, observations
from mesalib.analysis.stance.candidates import (
    BLIND_CHESTS,
    BOTH,
    CANDIDATES,
    HASTE,
    HORIZON,
    Candidate,
    action_values,
    best_moves,
    q_values,
)
from mesalib.analysis.stance.explanation import Explanation, explain
from mesalib.analysis.stance.likelihood import BETAS, fit, likelihood_table, log_likelihood
from mesalib.analysis.stance.preferences import Preferences, preference_level, preference_probabilities
from mesalib.analysis.stance.trajectories import Trajectories, record

__all__ = [
    "BETAS",
    "BLIND_CHESTS",
    "BOTH",
    "CANDIDATES",
    "HASTE",
    "HORIZON",
    "Candidate",
    "Explanation",
    "Preferences",
    "Trajectories",
    "action_probabilities",
    "action_values",
    "best_moves",
    "explain",
    "fit",
    "likelihood_table",
    "log_likelihood",
    "observations",
    "preference_level",
    "preference_probabilities",
    "q_values",
    "record",
]
