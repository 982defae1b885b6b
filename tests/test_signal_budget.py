"""The signal budget, said once: what a cancelled run does fits before GitHub's second signal, and at worst before
its SIGKILL."""

from __future__ import annotations

import pytest

from ecs_run_task import signal_budget as budget


def test_githubs_signals_as_design_md_says() -> None:
    assert (budget.TO_SIGTERM, budget.TO_SIGKILL) == (7.5, 10.0)
    assert budget.GONE_BY == 7.0


def test_a_stop_task_that_answers_at_once_leaves_the_whole_drain_before_the_second_signal() -> None:
    assert budget.drain_left(0.2) == budget.DRAIN == 1.5


@pytest.mark.parametrize(("elapsed", "left"), [(0.0, 1.5), (5.0, 1.5), (5.5, 1.0), (6.4, 0.1), (6.5, 0.0), (9.0, 0.0)])
def test_the_drain_gets_what_is_left_before_gone_by_less_the_report(elapsed: float, left: float) -> None:
    assert budget.drain_left(elapsed) == pytest.approx(left)


def test_stop_task_at_its_worst_still_ends_before_sigkill_with_the_report_to_spare() -> None:
    assert budget.STOP_AT_WORST == 2 * (1.0 + 2.5) + 1.0 == 8.0
    assert budget.STOP_AT_WORST + budget.REPORT < budget.TO_SIGKILL
    assert budget.STOP_CONNECT + budget.STOP_READ + budget.REPORT < budget.GONE_BY  # one slow answer: no SIGTERM
