"""World Café rotation: who sits at which table in every round.

Goals, in order:

1. Hard rules: everyone sits at exactly one table per round; table sizes differ by at most one in every
   round; each table host (at most one per table) stays at their table in every round.
2. Meet new people: minimise ``repeats``, the number of times a pair sits together again (a pair that
   shares a table in k rounds adds k - 1).
3. Move: among equally good seatings, prefer that everyone but the hosts changes table between rounds
   (so they read another table's tablecloth). This never costs a repeat: a traveller who must stay
   simply acts as that table's memory.

Algorithm (deterministic for a given seed; no wall clock):

* Sizes are balanced with "ghost" seats: every table gets ``ceil(n / tables)`` seats, and the
  ``tables * ceil(n / tables) - n`` spare seats hold ghosts, at most one per table. A ghost swapping with
  a person moves that person to a smaller table, so the search may change which tables are the small
  ones without ever unbalancing a round.
* Starting seating: the better of two.
  - Greedy, round by round: hosts first, then everyone else in a seeded random order, each to the open
    table where they have met the fewest people (then: not the table they just left, then the emptiest).
  - When the number of tables q is a prime power (2, 3, 4, 5, 7, 8, 9, 11, …) and n <= q², the affine
    plane over GF(q): people fill a grid (row a, column b) and sit at table a·r + b in round r. Two people
    in different rows meet in exactly one of q rounds and two in one row never, so the first q rounds
    have no repeat at all; row 0 never moves and holds the hosts. (Greedy continues after round q.)
    This gives 0 for the square cases (16 people at 4 tables, 25 at 5, 35 or 49 at 7) that local search
    alone finds hard.
* Tabu search over all rounds at once (the classic approach to the "social golfer" problem): each step
  evaluates every swap of two people (or a person and a ghost) at different tables of the same round,
  for every round, with numpy (cost change in O(1) per swap from per-person, per-table sums), and makes
  the best one that is not tabu (moving a person back to a table they just left in that round stays
  forbidden for a few steps, unless it gives a new best). Only swaps that involve someone in conflict (a
  repeat or a stay) are considered. It stops at a known optimum (repeats at ``lower_bound_repeats`` and
  no stays), after ``PATIENCE`` steps without fewer repeats (``STAY_PATIENCE`` without fewer stays once
  the repeats are at the bound), or after ``MAX_STEPS`` steps.
* Relabelling, before and after the search: each round's tables are renumbered (same groups, so the same
  repeats; host tables keep their number) so that as few travellers as possible keep their table number.

The cost is ``weight * repeats + stays``, with ``weight`` larger than any possible number of stays, so
stays only ever break ties between seatings with the same number of repeats. 60 people at 10 tables
over 5 rounds take about 20-30 ms; the worst case (60 people, few big tables, 6 rounds) about 200 ms.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]

MAX_STEPS = 400  # tabu steps at most
PATIENCE = 100  # stop after this many steps without fewer repeats
STAY_PATIENCE = 20  # once repeats reach the lower bound: stop after this many steps without fewer stays
TABU_TENURE = (2, 8)  # steps a reversed move stays forbidden, drawn per move


@dataclass(frozen=True)
class Seating:
    rounds: tuple[tuple[tuple[str, ...], ...], ...]  # rounds[r][table] = participant ids (hosts first)
    repeats: int  # total number of repeated table-mate pairs across rounds
    hosts: tuple[str | None, ...] = ()  # hosts[table] = that table's host, or None

    def table_of(self, round_index: int, participant: str) -> int:
        """The table `participant` sits at in round `round_index`; KeyError if not seated then."""
        for table, people in enumerate(self.rounds[round_index]):
            if participant in people:
                return table
        raise KeyError(participant)

    @property
    def tables(self) -> int:
        return len(self.hosts) if self.hosts else (len(self.rounds[0]) if self.rounds else 0)


def seat(
    participants: Sequence[str], hosts: Sequence[str], tables: int, rounds: int, *, seed: int
) -> Seating:
    """Seat `participants` at `tables` tables for `rounds` rounds.

    hosts ⊆ participants, at most one host per table: the first `tables` distinct hosts get tables 0, 1,
    … in order and stay there; extra hosts become ordinary participants. Sizes are balanced (differ by
    at most 1) in every round; the result is deterministic per seed; repeated table-mates are minimised.
    Raises ValueError for tables < 1, rounds < 0, a duplicate participant or a host who is not a
    participant.
    """
    people = list(participants)
    if tables < 1:
        raise ValueError(f"tables must be at least 1, got {tables}")
    if rounds < 0:
        raise ValueError(f"rounds must be at least 0, got {rounds}")
    if len(set(people)) != len(people):
        raise ValueError("duplicate participant")
    present = set(people)
    strangers = [h for h in hosts if h not in present]
    if strangers:
        raise ValueError(f"hosts must be participants: {strangers!r}")
    chosen = list(dict.fromkeys(hosts))[:tables]
    host_of: tuple[str | None, ...] = tuple(chosen) + (None,) * (tables - len(chosen))
    planned = _plan(people, host_of, rounds, history=(), seed=seed)
    return Seating(rounds=planned, repeats=_count_repeats(planned), hosts=host_of)


def reseat(
    seating: Seating, round_index: int, joined: Sequence[str], left: Sequence[str], *, seed: int
) -> Seating:
    """Someone joins or leaves mid-session.

    Rounds before `round_index` stay exactly as they were; from `round_index` on, the people of that
    round minus `left` plus `joined` are seated again (hosts who stay keep their tables; a host who
    leaves leaves their table without a host), counting the earlier rounds as already met. Unknown ids in
    `left` and ids in `joined` who are already seated are ignored; an id in both counts as left.
    """
    total = len(seating.rounds)
    if not 0 <= round_index <= total:
        raise ValueError(f"round_index must be from 0 to {total}, got {round_index}")
    if round_index == total:
        return seating
    gone = set(left)
    current = [p for table in seating.rounds[round_index] for p in table]
    seated = set(current)
    people = [p for p in current if p not in gone]
    people += [p for p in dict.fromkeys(joined) if p not in seated and p not in gone]
    host_of = seating.hosts or (None,) * len(seating.rounds[0])
    host_of = tuple(h if h is not None and h not in gone and h in seated else None for h in host_of)
    history = seating.rounds[:round_index]
    planned = history + _plan(people, host_of, total - round_index, history=history, seed=seed)
    return Seating(rounds=planned, repeats=_count_repeats(planned), hosts=host_of)


def lower_bound_repeats(n: int, tables: int, rounds: int) -> int:
    """A valid lower bound on `repeats` for n people at balanced tables (hosts ignored).

    The larger of: (1) pair counting: the rounds seat rounds * Σ C(size, 2) pairs but there are only
    C(n, 2) distinct pairs; (2) pigeonhole: from round 2 on, a table of s people drawn from `tables`
    tables of the previous round holds at least Σ C(k_i, 2) pairs who sat together then (k_i as even as
    possible). 0 means a zero-repeat seating may exist (not that it does).
    """
    if n < 2 or tables < 1 or rounds < 2:
        return 0
    sizes = _sizes(n, tables)
    per_round = sum(s * (s - 1) // 2 for s in sizes)
    counting = rounds * per_round - n * (n - 1) // 2
    pigeonhole = (rounds - 1) * sum(_spread_pairs(s, tables) for s in sizes)
    return max(0, counting, pigeonhole)


# -- internals --------------------------------------------------------------------------------------


def _sizes(n: int, tables: int) -> list[int]:
    q, r = divmod(n, tables)
    return [q + 1] * r + [q] * (tables - r)


def _spread_pairs(s: int, bins: int) -> int:
    """Fewest same-bin pairs when s items go into `bins` bins."""
    return sum(k * (k - 1) // 2 for k in _sizes(s, bins))


def _count_repeats(rounds: Sequence[Sequence[Sequence[str]]]) -> int:
    together: dict[tuple[str, str], int] = {}
    for tables in rounds:
        for table in tables:
            people = sorted(table)
            for i, a in enumerate(people):
                for b in people[i + 1 :]:
                    together[(a, b)] = together.get((a, b), 0) + 1
    return sum(k - 1 for k in together.values())


def _plan(
    people: list[str],
    host_of: tuple[str | None, ...],
    n_rounds: int,
    *,
    history: Sequence[Sequence[Sequence[str]]],
    seed: int,
) -> tuple[tuple[tuple[str, ...], ...], ...]:
    """Seat `people` for `n_rounds` rounds after the rounds in `history` (already sat, counted as met)."""
    tables = len(host_of)
    if n_rounds <= 0:
        return ()
    if not people:
        return tuple(((),) * tables for _ in range(n_rounds))
    planner = _Planner(people, host_of, n_rounds, history, random.Random(seed))
    planner.start()
    planner.relabel()
    planner.search()
    planner.relabel()
    return planner.result()


class _Planner:
    def __init__(
        self,
        people: list[str],
        host_of: tuple[str | None, ...],
        n_rounds: int,
        history: Sequence[Sequence[Sequence[str]]],
        rng: random.Random,
    ) -> None:
        self.people = people
        self.rng = rng
        self.T = len(host_of)
        self.K = n_rounds
        self.m = m = len(people)
        self.cap = -(-m // self.T)
        self.N = n = self.cap * self.T  # people, then ghosts
        index = {p: i for i, p in enumerate(people)}
        self.fixed = np.full(n, -1, dtype=np.int64)
        for table, host in enumerate(host_of):
            if host is not None and host in index:
                self.fixed[index[host]] = table
        self.ghost = np.arange(n) >= m
        self.movable = self.fixed < 0  # ghosts and ordinary participants
        self.travellers = self.movable & ~self.ghost
        # C[i, j]: rounds i and j share a table (history + planned); zero for ghosts and the diagonal.
        self.C = np.zeros((n, n), dtype=np.int64)
        for past in history:
            for table_people in past:
                ids = [index[p] for p in table_people if p in index]
                self.C[np.ix_(ids, ids)] += 1
        np.fill_diagonal(self.C, 0)
        self.C_history = self.C.copy()
        self.prev0 = np.full(n, -1, dtype=np.int64)  # table in the round before the first planned one
        if history:
            for table, table_people in enumerate(history[-1]):
                for p in table_people:
                    if p in index:
                        self.prev0[index[p]] = table
        self.base_repeats = int(np.maximum(self.C[:m, :m] - 1, 0).sum() // 2)
        self.X = np.full((self.K, n), -1, dtype=np.int64)
        self.weight = 2 * self.K * n + 1  # one repeat outweighs every possible stay
        self.target_repeats = self.base_repeats + (
            lower_bound_repeats(m, self.T, self.K) if not history else 0
        )

    # -- starting seatings ---------------------------------------------------------------------------

    def start(self) -> None:
        """The better of a greedy seating and, when it applies, the affine-plane construction."""
        self.greedy(0)
        rows = self.field_rounds()
        if rows is None:
            return
        greedy_cost, greedy_X = self.cost(), self.X.copy()
        self._load(rows)
        self.greedy(len(rows))
        if self.cost() > greedy_cost:
            self._load(greedy_X)

    def _load(self, rows: IntArray) -> None:
        self.C = self.C_history.copy()
        self.X = np.full((self.K, self.N), -1, dtype=np.int64)
        for k, x in enumerate(rows):
            self.X[k] = x
            self._add_round(x, +1)

    def field_rounds(self) -> IntArray | None:
        """Zero-repeat rounds from the affine plane over GF(q), q = tables, when q is a prime power and
        ceil(n / q) <= q: person at row a, column b sits at table a·r + b in round r (r = 0, 1, … < q).

        Two people in different rows meet in exactly one of the q rounds, two in one row never; row 0
        never moves, so it holds the hosts (each in the column of their table) and, when they fit, the
        ghosts; other rows are filled in order, the last one from column 0, so every round is balanced
        with at most one ghost per table.
        """
        T, cap = self.T, self.cap
        field = _field(T)
        if field is None or cap > T:
            return None
        add, mul = field
        cells = np.full((cap, T), -1, dtype=np.int64)
        for host in np.flatnonzero(self.fixed >= 0):
            cells[0, self.fixed[host]] = host
        travellers = [int(p) for p in np.flatnonzero(self.travellers)]
        self.rng.shuffle(travellers)
        row0 = [(0, b) for b in range(T) if cells[0, b] < 0]
        free = row0 + [(a, b) for a in range(1, cap) for b in range(T)]
        ghosts = [int(g) for g in np.flatnonzero(self.ghost)]
        if len(free) != len(travellers) + len(ghosts):  # pragma: no cover - sizes always agree
            return None
        # Ghosts in row 0 when they fit (they never move anyway, so fewer travellers are stuck there);
        # else row 0 is all people and the ghosts end the last row (a row's columns: distinct tables).
        order = ghosts + travellers if len(ghosts) <= len(row0) else travellers + ghosts
        for (a, b), p in zip(free, order, strict=True):
            cells[a, b] = p
        rows = np.full((min(self.K, T), self.N), -1, dtype=np.int64)
        for r in range(len(rows)):
            for a in range(cap):
                for b in range(T):
                    rows[r, cells[a, b]] = add[mul[a][r]][b]
        return rows

    def greedy(self, first: int) -> None:
        """Rounds `first`…: hosts, then everyone else (seeded order) at the open table where they have met
        the fewest people, then not the table they just left, then the emptiest table."""
        m, T, cap = self.m, self.T, self.cap
        full_limit = m % T or T  # tables that may hold `cap` people
        hosts = [int(h) for h in np.flatnonzero(self.fixed >= 0)]
        rotate_base = np.arange(T)
        tie_scale = (T * cap + 1) * T  # (met, stay) first, then count, then the seeded rotation
        for k in range(first, self.K):
            x = np.full(self.N, -1, dtype=np.int64)
            count = np.zeros(T, dtype=np.int64)
            known = (self.C >= 1).astype(np.int64)
            met = np.zeros((self.N, T), dtype=np.int64)  # met[p, t]: people at t whom p has met
            for host in hosts:
                x[host] = self.fixed[host]
                count[x[host]] += 1
                met[:, x[host]] += known[:, host]
            prev = self.X[k - 1] if k else self.prev0
            order = [int(p) for p in np.flatnonzero(self.travellers)]
            self.rng.shuffle(order)
            rotate = (rotate_base - self.rng.randrange(T)) % T
            for p in order:
                limit = cap if int((count == cap).sum()) < full_limit else cap - 1
                key = (2 * met[p] + (rotate_base == prev[p])) * tie_scale + count * T + rotate
                table = int(np.argmin(np.where(count < limit, key, np.iinfo(np.int64).max)))
                x[p] = table
                count[table] += 1
                met[:, table] += known[:, p]
            ghosts = iter(np.flatnonzero(self.ghost))
            for table in range(T):
                for _ in range(cap - int(count[table])):
                    x[next(ghosts)] = table
            self.X[k] = x
            self._add_round(x, +1)

    def relabel(self) -> None:
        """Renumber the tables of each round (same groups, so the same repeats) so that as few travellers
        as possible sit at the table number they just left; a table with a host keeps its number."""
        T = self.T
        hosts = np.flatnonzero(self.fixed >= 0)
        for k in range(self.K):
            x = self.X[k]
            prev = self.X[k - 1] if k else self.prev0
            movers = self.travellers & (prev >= 0)
            stay = np.zeros((T, T), dtype=np.int64)  # stay[g, t]: travellers of group g who sat at t before
            np.add.at(stay, (x[movers], prev[movers]), 1)
            free = [g for g in range(T) if g not in set(x[hosts].tolist())]
            label = np.arange(T)
            improved = True
            while improved:  # pairwise exchanges until none helps (each one lowers the stays)
                improved = False
                for i, g in enumerate(free):
                    for h in free[i + 1 :]:
                        now = stay[g, label[g]] + stay[h, label[h]]
                        if stay[g, label[h]] + stay[h, label[g]] < now:
                            label[g], label[h] = label[h], label[g]
                            improved = True
            self.X[k] = label[x]

    def _add_round(self, x: IntArray, sign: int) -> None:
        real = ~self.ghost
        for table in range(self.T):
            ids = np.flatnonzero((x == table) & real)
            self.C[np.ix_(ids, ids)] += sign
        np.fill_diagonal(self.C, 0)

    # -- cost ---------------------------------------------------------------------------------------

    def repeats(self) -> int:
        m = self.m
        return int(np.maximum(self.C[:m, :m] - 1, 0).sum() // 2)

    def stays(self) -> int:
        moves = np.vstack([self.prev0[None, :], self.X])
        same = (moves[1:] == moves[:-1]) & self.travellers[None, :]
        return int(same.sum())

    def cost(self) -> int:
        return self.weight * self.repeats() + self.stays()

    # -- tabu search --------------------------------------------------------------------------------

    def search(self) -> None:
        K, N, T = self.K, self.N, self.T
        if T < 2 or not self.movable.any():
            return
        tables = np.arange(T)
        ghost = self.ghost
        pair_ok = self.movable[:, None] & self.movable[None, :] & ~(ghost[:, None] & ghost[None, :])
        tabu = np.zeros((K, N, T))  # [k, a, t]: a may move to table t of round k from this step on
        cost = self.cost()
        best_cost, best_X = cost, self.X.copy()
        best_step = repeats_step = 0  # last new best; last new best number of repeats
        w = float(self.weight)
        travellers = self.travellers[None, :, None]
        no_next = np.full((1, N), -1, dtype=np.int64)
        # float64 throughout: BLAS matmul, and every value is a small integer, so exact.
        for step in range(1, MAX_STEPS + 1):
            best_repeats = best_cost // self.weight
            if best_cost == self.weight * self.target_repeats or step - repeats_step > PATIENCE:
                break
            if best_repeats == self.target_repeats and step - best_step > STAY_PATIENCE:
                break
            X = self.X
            P = (self.C >= 1).astype(np.float64)
            Q = (self.C >= 2).astype(np.float64)
            onehot = (X[:, :, None] == tables).astype(np.float64)  # K×N×T
            across = onehot.transpose(0, 2, 1)
            prev = np.vstack([self.prev0[None, :], X[:-1]])
            nxt = np.vstack([X[1:], no_next])
            stay_prev = (prev[:, :, None] == tables) & travellers
            pen = stay_prev.astype(np.float64) + ((nxt[:, :, None] == tables) & travellers)  # stays
            inflow = w * np.matmul(P, onehot) + pen  # [k, a, t]: cost of a joining table t
            outflow = w * np.matmul(Q, onehot) + pen  # [k, a, t]: saving of a leaving table t
            G = np.matmul(inflow, across)  # [k, a, b] = inflow[k, a, X[k, b]]
            h = (outflow * onehot).sum(axis=2)  # [k, a] = outflow[k, a, X[k, a]]
            D = G + G.transpose(0, 2, 1) - h[:, :, None] - h[:, None, :] - 2 * w * P[None, :, :]
            ghost_at = np.matmul(across, ghost.astype(np.float64)) > 0  # [k, t]: a ghost sits at t
            ghost_there = np.take_along_axis(ghost_at, X, axis=1)  # [k, a]: a ghost sits at a's table
            conflict = h > 0
            valid = (
                pair_ok[None, :, :]
                & (X[:, :, None] != X[:, None, :])
                & ~(ghost[None, :, None] & ghost_there[:, None, :])
                & ~(ghost[None, None, :] & ghost_there[:, :, None])
                & (conflict[:, :, None] | conflict[:, None, :])
            )
            tabu_to = np.matmul(tabu, across) > step  # [k, a, b]: a may not move to b's table yet
            allowed = valid & (~(tabu_to | tabu_to.transpose(0, 2, 1)) | (cost + D < best_cost))
            if not allowed.any():
                break
            masked = np.where(allowed, D, np.inf)
            low = int(masked.min())
            choices = np.flatnonzero(masked == low)
            k, rest = divmod(int(choices[self.rng.randrange(len(choices))]), N * N)
            a, b = divmod(rest, N)
            ta, tb = int(X[k, a]), int(X[k, b])
            self._swap(k, a, b)
            cost += low
            tabu[k, a, ta] = step + 1 + self.rng.randint(*TABU_TENURE)
            tabu[k, b, tb] = step + 1 + self.rng.randint(*TABU_TENURE)
            if cost < best_cost:
                if cost // self.weight < best_cost // self.weight:
                    repeats_step = step
                best_cost, best_X, best_step = cost, X.copy(), step
        if not np.array_equal(best_X, self.X):
            for k in range(K):
                self._add_round(self.X[k], -1)
                self._add_round(best_X[k], +1)
            self.X = best_X

    def _swap(self, k: int, a: int, b: int) -> None:
        """Exchange the tables of a and b in planned round k, keeping the meeting counts C up to date."""
        x = self.X[k]
        real = ~self.ghost
        ta, tb = x[a], x[b]
        with_a = ((x == ta) & real).astype(np.int64)  # a's old table-mates (and a)
        with_b = ((x == tb) & real).astype(np.int64)
        with_a[a] = with_b[b] = 0
        for p, old, new in ((a, with_a, with_b), (b, with_b, with_a)):
            if real[p]:
                change = new - old
                self.C[p] += change
                self.C[:, p] += change
        x[a], x[b] = tb, ta

    # -- output -------------------------------------------------------------------------------------

    def result(self) -> tuple[tuple[tuple[str, ...], ...], ...]:
        rounds = []
        for k in range(self.K):
            x = self.X[k]
            round_tables = []
            for table in range(self.T):
                ids = [int(p) for p in np.flatnonzero((x == table) & ~self.ghost)]
                ids.sort(key=lambda p: (self.fixed[p] != table, p))  # host first, then input order
                round_tables.append(tuple(self.people[p] for p in ids))
            rounds.append(tuple(round_tables))
        return tuple(rounds)


@functools.cache
def _field(q: int) -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]] | None:
    """Addition and multiplication tables of GF(q) on elements 0…q-1, or None if q is not a prime power.

    An element's base-p digits are its polynomial coefficients (lowest first); multiplication is modulo
    the first monic irreducible polynomial of degree k (found by trial division), q = p**k.
    """
    if q < 2 or q > 256:
        return None
    p = next(d for d in range(2, q + 1) if q % d == 0)
    k, rest = 0, q
    while rest % p == 0:
        rest //= p
        k += 1
    if rest != 1:
        return None

    def digits(e: int, n: int = k) -> list[int]:
        return [(e // p**i) % p for i in range(n)]

    def number(coeffs: Sequence[int]) -> int:
        return sum(c * p**i for i, c in enumerate(coeffs))

    def remainder(num: list[int], den: list[int]) -> list[int]:  # den monic
        num = num[:]
        for shift in range(len(num) - len(den), -1, -1):
            factor = num[shift + len(den) - 1]
            if factor:
                for i, c in enumerate(den):
                    num[shift + i] = (num[shift + i] - factor * c) % p
        return num[: len(den) - 1]

    def monic(degree: int) -> list[list[int]]:
        return [[*digits(e, degree), 1] for e in range(p**degree)]

    modulus = next(
        f
        for f in monic(k)
        if not any(not any(remainder(f, g)) for d in range(1, k // 2 + 1) for g in monic(d))
    )

    def times(x: int, y: int) -> int:
        a, b = digits(x), digits(y)
        product = [0] * (2 * k - 1)
        for i, ai in enumerate(a):
            for j, bj in enumerate(b):
                product[i + j] = (product[i + j] + ai * bj) % p
        return number(remainder(product, modulus) if k > 1 else product)

    add = tuple(
        tuple(number([(u + v) % p for u, v in zip(digits(x), digits(y), strict=True)]) for y in range(q))
        for x in range(q)
    )
    mul = tuple(tuple(times(x, y) for y in range(q)) for x in range(q))
    return add, mul
