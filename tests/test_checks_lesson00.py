"""Lesson 00's check rejects plausible wrong answers."""

from mesalib.teaching import checks

EX = checks.lesson00.discounted_return


def test_reference_in_own_words_passes():
    def answer(rewards, gamma):
        return sum(gamma**t * r for t, r in enumerate(rewards))

    assert EX.run(answer).ok


def test_mutants_are_rejected():
    mutants = {
        "no discount": lambda rewards, gamma: float(sum(rewards)),
        "discount starts at gamma": lambda rewards, gamma: sum(
            gamma ** (t + 1) * r for t, r in enumerate(rewards)
        ),
        "reversed discount": lambda rewards, gamma: sum(
            gamma**t * r for t, r in enumerate(reversed(rewards))
        ),
        "only the last reward": lambda rewards, gamma: (
            gamma ** (len(rewards) - 1) * rewards[-1] if rewards else 0.0
        ),
        "returns a list": lambda rewards, gamma: [gamma**t * r for t, r in enumerate(rewards)],
    }
    for name, mutant in mutants.items():
        assert not EX.run(mutant).ok, name
