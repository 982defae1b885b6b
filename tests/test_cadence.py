"""The adaptive polling policy, as plain arithmetic over times (poll-interval 2 s)."""

from __future__ import annotations

from ecs_run_task.engine.cadence import FLOWING_POLL_FACTOR, READING_POLL_FACTOR, SUSTAINED, Cadence, backoff


def test_without_log_streams_status_is_polled_every_poll_interval() -> None:
    cadence = Cadence(2.0, next_poll=0.0)
    cadence.polled(0.0, reading=False)
    assert cadence.next_poll == 2.0
    cadence.read(1.0, got=True, behind=False, reading=False)
    cadence.polled(2.0, reading=False)
    assert cadence.next_poll == 4.0


def test_while_lines_flow_status_is_polled_less_often() -> None:
    cadence = Cadence(2.0, next_poll=0.0)
    cadence.read(0.0, got=True, behind=False, reading=True)
    cadence.polled(0.5, reading=True)
    assert cadence.next_poll == 0.5 + 2.0 * FLOWING_POLL_FACTOR
    assert cadence.next_tail == 2.0  # lines come: read again in LOG_INTERVAL


def test_quiet_streams_are_read_a_little_less_often_and_status_a_little_less() -> None:
    cadence = Cadence(2.0, next_poll=0.0)
    cadence.polled(0.0, reading=True)
    assert cadence.next_poll == 2.0 * READING_POLL_FACTOR
    tails = []
    for now in (0.0, 10.0, 20.0, 30.0):
        cadence.read(now, got=False, behind=False, reading=True)
        tails.append(cadence.next_tail - now)
    assert tails == [2.5, 2.5, 2.5, 2.5]  # 2 s x 1.25, capped: a sparse line waits ~1.25 s on average


def test_when_sustained_output_stops_status_is_polled_at_once_then_every_poll_interval() -> None:
    cadence = Cadence(2.0, next_poll=0.0)
    for i in range(SUSTAINED):
        cadence.read(i * 2.0, got=True, behind=False, reading=True)
    cadence.polled(6.5, reading=True)
    assert cadence.next_poll == 6.5 + 8.0
    cadence.read(8.0, got=False, behind=False, reading=True)
    assert cadence.next_poll == 8.0
    cadence.polled(8.1, reading=True)
    assert cadence.next_poll == 10.1  # the end is likely near: poll-interval, not stretched
    cadence.read(9.0, got=True, behind=False, reading=True)
    cadence.polled(10.1, reading=True)
    assert cadence.next_poll == 10.1 + 8.0  # lines again: alive after all


def test_a_short_burst_then_silence_tightens_without_an_extra_poll() -> None:
    cadence = Cadence(2.0, next_poll=0.0)
    cadence.read(0.0, got=True, behind=False, reading=True)
    cadence.polled(0.5, reading=True)
    assert cadence.next_poll == 8.5
    cadence.read(2.0, got=False, behind=False, reading=True)
    assert cadence.next_poll == 0.5 + 2.0 * READING_POLL_FACTOR  # back to the quiet pace, counted from the poll


def test_a_read_left_behind_at_its_page_budget_goes_on_at_once() -> None:
    cadence = Cadence(2.0, next_poll=0.0)
    cadence.read(3.0, got=True, behind=True, reading=True)
    assert cadence.next_tail == 3.0


def test_a_new_cadence_polls_and_reads_logs_from_its_first_poll() -> None:
    cadence = Cadence(2.0, next_poll=5.0)
    assert (cadence.next_poll, cadence.next_tail, cadence.last_poll) == (5.0, 5.0, 5.0)


def test_lines_that_keep_coming_keep_status_polls_at_the_flowing_pace() -> None:
    cadence = Cadence(2.0, next_poll=0.0)
    cadence.read(0.0, got=True, behind=False, reading=True)
    cadence.polled(0.5, reading=True)
    cadence.read(2.0, got=True, behind=False, reading=True)
    assert cadence.next_poll == 0.5 + 2.0 * FLOWING_POLL_FACTOR


def test_two_rounds_with_lines_then_silence_is_not_yet_sustained_output() -> None:
    cadence = Cadence(2.0, next_poll=0.0)
    cadence.read(0.0, got=True, behind=False, reading=True)
    cadence.read(2.0, got=True, behind=False, reading=True)
    cadence.polled(2.5, reading=True)
    cadence.read(4.0, got=False, behind=False, reading=True)
    assert (cadence.next_poll, cadence.ending) == (2.5 + 2.0 * READING_POLL_FACTOR, False)


def test_a_silent_round_starts_the_count_of_rounds_with_lines_again() -> None:
    cadence = Cadence(2.0, next_poll=0.0)
    for now, got in ((0.0, True), (2.0, True), (4.0, False), (6.0, True), (8.0, True)):
        cadence.read(now, got=got, behind=False, reading=True)
    cadence.polled(8.5, reading=True)
    cadence.read(10.0, got=False, behind=False, reading=True)  # 2 rounds with lines since the silence, not 4
    assert (cadence.next_poll, cadence.ending) == (8.5 + 2.0 * READING_POLL_FACTOR, False)


def test_a_back_off_doubles_up_to_its_cap_and_spreads_either_way() -> None:
    assert [backoff(1.0, n, 15.0, 0.5, spread=0.5) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 8.0, 15.0]
    assert backoff(3.0, 1, 60.0, 0.0, spread=0.25) == 2.25
    assert backoff(3.0, 1, 60.0, 1.0, spread=0.25) == 3.75
    assert backoff(2.0, 10_000, 15.0, 0.5, spread=0.5) == 15.0  # hours of an outage: no overflow
