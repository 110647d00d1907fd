"""World Café rotation: hard rules as properties, repeats against known optima and a random baseline."""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from itertools import combinations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.cafe.rotation import Seating, lower_bound_repeats, reseat, seat

Rounds = Sequence[Sequence[Sequence[str]]]


def recount(rounds: Rounds) -> int:
    """Repeats counted independently: a pair together in k rounds adds k - 1."""
    together = Counter(
        frozenset(pair) for tables in rounds for table in tables for pair in combinations(table, 2)
    )
    return sum(k - 1 for k in together.values())


def stays(seating: Seating) -> int:
    """Travellers (not hosts) at the same table number as in the round before."""
    hosts = {h for h in seating.hosts if h is not None}
    count = 0
    for r in range(1, len(seating.rounds)):
        before = {p: t for t, table in enumerate(seating.rounds[r - 1]) for p in table}
        count += sum(
            1
            for t, table in enumerate(seating.rounds[r])
            for p in table
            if p not in hosts and before.get(p) == t
        )
    return count


def random_rotation(
    people: list[str], hosts: list[str], tables: int, rounds: int, seed: int
) -> list[list[list[str]]]:
    """The baseline: hosts stay, everyone else is shuffled into balanced tables every round."""
    rng = random.Random(seed)
    travellers = [p for p in people if p not in hosts]
    q, r = divmod(len(people), tables)
    sizes = [q + 1] * r + [q] * (tables - r)
    plan = []
    for _ in range(rounds):
        rng.shuffle(travellers)
        queue = iter(travellers)
        round_tables = []
        for t in range(tables):
            table = [hosts[t]] if t < len(hosts) else []
            while len(table) < sizes[t]:
                table.append(next(queue))
            round_tables.append(table)
        plan.append(round_tables)
    return plan


def check_rules(seating: Seating, people: Sequence[str], hosts: Sequence[str], tables: int) -> None:
    """Every rule a seating must keep, whatever the optimisation did."""
    table_hosts = list(dict.fromkeys(hosts))[:tables]
    for tables_now in seating.rounds:
        assert len(tables_now) == tables
        seated = [p for table in tables_now for p in table]
        assert len(seated) == len(set(seated)), "someone sits at two tables"
        assert sorted(seated) == sorted(people), "someone is missing or unknown"
        sizes = [len(table) for table in tables_now]
        assert max(sizes) - min(sizes) <= 1, f"unbalanced tables {sizes}"
        for t, host in enumerate(table_hosts):
            assert tables_now[t][0] == host, "a host left their table (or is not listed first)"
        others = [p for table in tables_now for p in table[1:]]
        assert not set(others) & set(table_hosts)
    assert seating.repeats == recount(seating.rounds)
    assert seating.hosts == tuple(table_hosts) + (None,) * (tables - len(table_hosts))
    for r, tables_now in enumerate(seating.rounds):
        for t, table in enumerate(tables_now):
            for p in table:
                assert seating.table_of(r, p) == t


@st.composite
def cafes(draw: st.DrawFn) -> tuple[list[str], list[str], int, int, int]:
    n = draw(st.integers(1, 60))
    people = [f"u{i:02d}" for i in range(n)]
    draw(st.randoms(use_true_random=False)).shuffle(people)
    hosts = draw(st.lists(st.sampled_from(people), max_size=14))  # may repeat, may exceed the tables
    tables = draw(st.integers(1, 12))
    rounds = draw(st.integers(1, 6))
    seed = draw(st.integers(-(2**70), 2**70))
    return people, hosts, tables, rounds, seed


# -- hard rules ---------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cafes())
def test_seat_keeps_every_rule(cafe: tuple[list[str], list[str], int, int, int]) -> None:
    people, hosts, tables, rounds, seed = cafe
    seating = seat(people, hosts, tables, rounds, seed=seed)
    assert len(seating.rounds) == rounds
    check_rules(seating, people, hosts, tables)
    assert lower_bound_repeats(len(people), tables, rounds) <= seating.repeats  # the bound is valid
    assert seat(people, hosts, tables, rounds, seed=seed) == seating  # deterministic per seed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cafes(), st.data())
def test_reseat_keeps_the_past_and_every_rule(
    cafe: tuple[list[str], list[str], int, int, int], data: st.DataObject
) -> None:
    people, hosts, tables, rounds, seed = cafe
    seating = seat(people, hosts, tables, rounds, seed=seed)
    at = data.draw(st.integers(0, rounds), label="round_index")
    left = data.draw(st.lists(st.sampled_from(people), max_size=5, unique=True), label="left")
    joined = data.draw(
        st.lists(st.sampled_from(["n1", "n2", "n3", "n4", *people]), max_size=4), label="joined"
    )
    again = reseat(seating, at, joined, left, seed=seed + 1)
    assert again.rounds[:at] == seating.rounds[:at]
    assert again.repeats == recount(again.rounds)
    assert again == reseat(seating, at, joined, left, seed=seed + 1)
    if at == rounds:
        assert again == seating
        return
    now = [p for p in people if p not in left] + [p for p in dict.fromkeys(joined) if p not in people]
    stayed_hosts = [h if h is not None and h not in left else None for h in seating.hosts]
    assert again.hosts == tuple(stayed_hosts)
    for tables_now in again.rounds[at:]:
        seated = [p for table in tables_now for p in table]
        assert sorted(seated) == sorted(now)
        sizes = [len(table) for table in tables_now]
        assert max(sizes) - min(sizes) <= 1
        for t, host in enumerate(stayed_hosts):
            if host is not None:
                assert tables_now[t][0] == host


def test_reseat_counts_the_past_as_met() -> None:
    people = [f"p{i}" for i in range(20)]
    seating = seat(people, people[:5], 5, 4, seed=3)
    assert seating.repeats == 0
    again = reseat(seating, 2, ["late1", "late2"], ["p7", "p1"], seed=3)
    assert again.rounds[:2] == seating.rounds[:2]
    assert again.hosts == ("p0", None, "p2", "p3", "p4")
    assert again.repeats == recount(again.rounds) <= 2
    assert again.table_of(3, "late1") in range(5)
    with pytest.raises(KeyError):
        again.table_of(3, "p7")
    assert again.table_of(1, "p7") == seating.table_of(1, "p7")  # was there before leaving


def test_small_and_degenerate_cafes() -> None:
    assert seat([], [], 3, 2, seed=0) == Seating(rounds=(((), (), ()),) * 2, repeats=0, hosts=(None,) * 3)
    assert seat(["a", "b"], [], 2, 0, seed=0).rounds == ()
    one_table = seat(["a", "b", "c"], ["b"], 1, 3, seed=0)
    assert one_table.rounds == ((("b", "a", "c"),),) * 3 and one_table.repeats == 6
    sparse = seat(["a", "b", "c"], ["c", "a"], 5, 2, seed=0)
    check_rules(sparse, ["a", "b", "c"], ["c", "a"], 5)
    assert sorted(len(t) for t in sparse.rounds[0]) == [0, 0, 1, 1, 1]
    extra_hosts = seat(list("abcdefgh"), list("hgfe"), 2, 3, seed=1)
    assert extra_hosts.hosts == ("h", "g")  # the first two hosts keep a table, the others travel
    check_rules(extra_hosts, list("abcdefgh"), list("hgfe"), 2)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="tables"):
        seat(["a"], [], 0, 1, seed=0)
    with pytest.raises(ValueError, match="rounds"):
        seat(["a"], [], 1, -1, seed=0)
    with pytest.raises(ValueError, match="duplicate"):
        seat(["a", "a"], [], 1, 1, seed=0)
    with pytest.raises(ValueError, match="hosts must be participants"):
        seat(["a"], ["z"], 1, 1, seed=0)
    with pytest.raises(ValueError, match="round_index"):
        reseat(seat(["a"], [], 1, 2, seed=0), 3, [], [], seed=0)


def test_different_seeds_give_different_seatings() -> None:
    people = [f"p{i}" for i in range(24)]
    plans = {seat(people, [], 6, 4, seed=s).rounds for s in range(5)}
    assert len(plans) > 1


# -- repeats ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "tables", "rounds"),
    [
        (6, 3, 5),  # a 1-factorisation of K6
        (8, 4, 7),  # a 1-factorisation of K8
        (9, 3, 4),  # the affine plane of order 3
        (16, 4, 4),
        (16, 4, 5),  # the affine plane of order 4 (all five parallel classes)
        (20, 5, 4),
        (25, 5, 6),  # the affine plane of order 5
        (35, 7, 5),
        (36, 6, 3),  # a Latin square pair of order 6
        (49, 7, 5),
        (60, 10, 5),
    ],
)
def test_zero_repeats_where_a_zero_repeat_seating_exists(n: int, tables: int, rounds: int) -> None:
    people = [f"p{i}" for i in range(n)]
    for seed in range(3):
        assert seat(people, [], tables, rounds, seed=seed).repeats == 0
    if rounds <= tables:  # with more rounds than tables, someone meets a host again
        hosts = people[: tables // 2]
        assert seat(people, hosts, tables, rounds, seed=0).repeats <= 1


def test_close_to_optimal_where_search_is_hard() -> None:
    # Kirkman's schoolgirls: 15 people, 5 tables of 3, 7 rounds (a zero-repeat seating exists).
    kirkman = [seat([f"p{i}" for i in range(15)], [], 5, 7, seed=s).repeats for s in range(4)]
    assert min(kirkman) == 0 and max(kirkman) <= 6
    # 30 at 6 tables of 5 over 5 rounds: no construction applies (6 is not a prime power).
    assert seat([f"p{i}" for i in range(30)], [], 6, 5, seed=0).repeats <= 5


def test_lower_bound() -> None:
    assert lower_bound_repeats(16, 4, 5) == 0
    assert lower_bound_repeats(1, 1, 6) == lower_bound_repeats(10, 3, 1) == 0
    assert lower_bound_repeats(8, 2, 2) == 4  # 2 tables of 4: each new table holds 2 pairs from one old table
    assert lower_bound_repeats(4, 1, 3) == 12  # one table: every pair, every extra round
    for n, tables, rounds in [(8, 2, 2), (4, 1, 3), (10, 2, 3), (12, 3, 4)]:
        people = [f"p{i}" for i in range(n)]
        assert seat(people, [], tables, rounds, seed=0).repeats >= lower_bound_repeats(n, tables, rounds)
    assert seat([f"p{i}" for i in range(8)], [], 2, 2, seed=0).repeats == 4  # reaches the bound


SCENARIOS = [
    # (people, tables, rounds, hosts): realistic cafés
    (20, 5, 4, 0),
    (20, 5, 4, 5),
    (24, 6, 5, 2),
    (30, 6, 4, 6),
    (35, 7, 5, 0),
    (35, 7, 5, 7),
    (60, 10, 5, 10),
]


def test_scenarios_beat_a_random_rotation() -> None:
    """Print the table of repeats (run with -s); the plan must beat random rotation by a wide margin."""
    heads = ("people", "tables", "rounds", "hosts", "ours", "random", "bound", "stays")
    lines = [" ".join(f"{head:>6}" for head in heads)]
    for n, tables, rounds, n_hosts in SCENARIOS:
        people = [f"p{i}" for i in range(n)]
        hosts = people[:n_hosts]
        ours = seat(people, hosts, tables, rounds, seed=0)
        baseline = statistics.mean(
            recount(random_rotation(people, hosts, tables, rounds, seed)) for seed in range(30)
        )
        bound = lower_bound_repeats(n, tables, rounds)
        lines.append(
            f"{n:>6} {tables:>6} {rounds:>6} {n_hosts:>6} {ours.repeats:>6} {baseline:>6.1f} {bound:>6} "
            f"{stays(ours):>6}"
        )
        assert ours.repeats <= max(1, baseline / 10)
        assert stays(ours) <= n * (rounds - 1) // 10  # nearly every traveller changes table each round
    print("\n" + "\n".join(lines))
    people = [f"p{i}" for i in range(20)]
    assert seat(people, [], 5, 4, seed=0).repeats == 0
    assert seat([f"p{i}" for i in range(35)], [], 7, 5, seed=0).repeats == 0


def test_sixty_people_ten_tables_five_rounds_is_fast() -> None:
    people = [f"p{i}" for i in range(60)]
    seat(people, [], 10, 5, seed=99)  # warm up numpy
    timings = []
    for seed in range(3):
        start = time.perf_counter()
        seating = seat(people, people[:10], 10, 5, seed=seed)
        timings.append(time.perf_counter() - start)
        assert seating.repeats == 0
    assert statistics.median(timings) < 0.25  # about 20-30 ms here; generous for slow CI machines


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(8, 60), st.integers(2, 10), st.integers(2, 5), st.integers(0, 2**32))
def test_never_worse_than_random_rotation(n: int, tables: int, rounds: int, seed: int) -> None:
    assume(n >= 2 * tables)
    people = [f"p{i}" for i in range(n)]
    ours = seat(people, [], tables, rounds, seed=seed).repeats
    baseline = statistics.mean(recount(random_rotation(people, [], tables, rounds, s)) for s in range(10))
    assert ours <= baseline
