"""Job-alike meet-up matching: each round splits the whole pool into pairs (some threes and fours) of
colleagues who share a role and a subject or programme, preferably from other schools and regions, whose
working hours overlap and who share a language.

Pure (no I/O, platform or clock: `on` says which day's time-zone offsets apply) and deterministic for a
seed (a numpy Generator seeded through `random.Random(seed)`; never global randomness).

Why the algorithm is what it is. Pairing for the most total weight is maximum-weight matching in a
general graph. The exact algorithm (Edmonds' blossoms, as in networkx) takes about a minute in Python at
1,000 members and is out of reach at 100,000. But the weights are a few small integers (a job-alike tier
plus a school and a region bonus), most members of a large pool can get their best tier, and only a few
of each member's possible partners matter. So:

1. Candidate partners. Terms are bitsets, hours UTC windows on a circular day, exclusions and recent
   pairs a hash set: every pair check is vectorised. Up to `_DENSE_MAX` members every pair is weighed and
   each member keeps its `_K_DENSE` best. Beyond, members are bucketed by (language, role, subject),
   (language, role, programme), (language, role) and language, sorted inside a bucket by UTC start, and
   sampled evenly over the stretch of the day where windows can overlap (coarser buckets only for members
   who saw few bucket-mates); each keeps its `_K_SAMPLED` best, over the whole pool, never per bucket.
2. Heaviest weight level first: a greedy matching among members still free, fewest options first
   (Karp–Sipser flavour), then augmenting paths through that level grown from all free members at once.
   Large pools need little else: at 100,000 everyone ends up paired at their best weight.
3. Local search: swaps between two pairs and short augmenting paths, vectorised.
4. Exchange cycles: Bellman–Ford on the "who takes whose partner" graph finds improving alternating
   cycles and paths of any length, the long chains that greedy and local moves miss in small, sparse
   pools (where they are worth 1-2% of the total). Walks around odd cycles (where blossoms would be
   needed) are cut or banned; small pools also search on random sides, where every walk is valid. The
   work is budgeted in arcs relaxed (deterministic), generous on small pools and shrinking on large ones.
5. Members still alone are checked against each other exactly (candidate lists are only samples).

A pair met in `recent` is forbidden outright: a penalty so strong that a repeat is never chosen.

Then groups: two pairs whose four members all accept four merge, greedily by cross weight, when all six
pairs are allowed and all four share a language and `min_overlap_minutes`. Each member still alone joins
a pair (or a three, when all four accept four) with which every pair is allowed and the whole group
shares a language and the overlap: preferably a group where everyone accepts the new size, then the one
gaining most weight; a pair whose members only accept two still takes an odd one out. Whoever is left
gets the first `Reason` that holds against the whole pool, in the order of the enum.

bench/meetups.py measures it: the pairing weighs at least 99.5% of networkx's exact optimum at 200, 500
and 1,000 members, and `match` takes well under a second at 10,000 members and a few at 100,000.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Words = npt.NDArray[np.uint64]

DAY = 1440  # minutes


@dataclass(frozen=True, slots=True)
class Candidate:
    """One member in the pool of a round."""

    member_id: int
    roles: frozenset[str]  # catalogue term ids, e.g. "examiner", "workshop-leader"
    subjects: frozenset[str]  # e.g. "biology", "physics"
    programmes: frozenset[str]  # "pyp" | "myp" | "dp" | "cp"
    languages: frozenset[str]  # e.g. "en", "es"; the caller guarantees non-empty
    school: str | None
    region: str | None
    timezone: str  # IANA name; invalid → treated as UTC
    work_start: int = 480  # minutes after local midnight
    work_end: int = 1200  # may be < work_start for a window crossing midnight; == work_start: no window
    max_group: int = 2  # 2..4: the largest group this member accepts
    excluded: frozenset[int] = frozenset()  # member ids never to be grouped with (hard; applies both ways)


@dataclass(frozen=True)
class MatchSettings:
    """The hard overlap minimum and the pair weights (integers, so optimum comparisons are exact; keep
    them >= 0: a pair is always better than being alone)."""

    min_overlap_minutes: int = 60
    role_subject: int = 20  # share a role AND a subject
    role_programme: int = 12  # share a role and a programme (no shared subject)
    role_only: int = 6  # share a role only
    base: int = 2  # no shared role: still better than being alone
    other_school: int = 2  # bonus when both schools are known and differ
    other_region: int = 4  # bonus when both regions are known and differ (cross-region learning)


class Reason(StrEnum):
    """Why a member sits out this round (the caller translates these). Computed against the whole pool,
    the first that applies in this order."""

    ALONE = "alone"  # nobody else in the pool
    NO_OVERLAP = "no_overlap"  # nobody whose working hours overlap theirs by >= min_overlap_minutes
    NO_LANGUAGE = "no_language"  # nobody overlapping in time who shares a language
    EXCLUDED = "excluded"  # only people on an exclusion list (theirs or the other's) were compatible
    RECENT = "recent"  # everyone compatible (and not excluded) was met in the recent rounds
    ODD_ONE_OUT = "odd_one_out"  # compatible people exist but all are in groups that cannot take them


@dataclass(frozen=True)
class Group:
    member_ids: tuple[int, ...]  # sorted ascending
    weight: int  # sum of pair weights over all pairs in the group


@dataclass(frozen=True)
class Unmatched:
    member_id: int
    reason: Reason


@dataclass(frozen=True)
class MatchResult:
    groups: tuple[Group, ...]  # sorted by member ids
    unmatched: tuple[Unmatched, ...]  # sorted by member id
    pairing_weight: int = 0  # total weight of the pairs of step 1, before merges and joins

    @property
    def pair_weight_total(self) -> int:
        """Sum of group weights (pairs inside groups of three and four included)."""
        return sum(g.weight for g in self.groups)


# --- windows ---------------------------------------------------------------------------------------------


def _offset(zone: str, on: datetime) -> int:
    when = on if on.tzinfo is not None else on.replace(tzinfo=UTC)
    try:
        offset = when.astimezone(ZoneInfo(zone)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        return 0
    return int(offset.total_seconds() // 60) if offset is not None else 0


def _length(start: int, end: int) -> int:
    if start == end:
        return 0
    length = (end - start) % DAY
    return length or DAY


def _window(c: Candidate, offset: int) -> tuple[int, int]:
    start = (c.work_start - offset) % DAY
    return start, start + _length(c.work_start, c.work_end)


def daily_window_utc(c: Candidate, on: datetime) -> tuple[int, int]:
    """The member's working window as UTC minutes of the day [start, end) using the zone's offset at `on`
    (DST-correct); end may exceed 1440 (wrap)."""
    return _window(c, _offset(c.timezone, on))


_FULL = (1 << DAY) - 1


def _arc(start: int, end: int) -> int:
    bits = ((1 << (end - start)) - 1) << start
    return (bits | (bits >> DAY)) & _FULL


def overlap_minutes(members: Sequence[Candidate], on: datetime) -> int:
    """Minutes per day that everyone's working windows overlap (circular day: handle windows that wrap past
    UTC midnight)."""
    common = _FULL
    for c in members:
        common &= _arc(*daily_window_utc(c, on))
    return common.bit_count() if members else 0


# --- pair weights ----------------------------------------------------------------------------------------


def _known_differ(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and a != b


def _weight(a: Candidate, b: Candidate, settings: MatchSettings) -> int:
    if a.roles & b.roles:
        if a.subjects & b.subjects:
            weight = settings.role_subject
        elif a.programmes & b.programmes:
            weight = settings.role_programme
        else:
            weight = settings.role_only
    else:
        weight = settings.base
    if _known_differ(a.school, b.school):
        weight += settings.other_school
    if _known_differ(a.region, b.region):
        weight += settings.other_region
    return weight


def pair_weight(
    a: Candidate,
    b: Candidate,
    on: datetime,
    *,
    recent: Collection[frozenset[int]] = (),
    settings: MatchSettings = MatchSettings(),
) -> int | None:
    """None when a hard rule forbids the pair: same member, exclusion either way, no shared language,
    overlap < min, or met recently (frozenset({a,b}) in recent). Else the weight."""
    if a.member_id == b.member_id or b.member_id in a.excluded or a.member_id in b.excluded:
        return None
    if not a.languages & b.languages:
        return None
    if overlap_minutes((a, b), on) < settings.min_overlap_minutes:
        return None
    if frozenset((a.member_id, b.member_id)) in recent:
        return None
    return _weight(a, b, settings)


# --- the pool as columns ---------------------------------------------------------------------------------


def _unique(x: Ints) -> Ints:
    """Sorted distinct values (np.unique's hashing path is slow on large integer arrays)."""
    x = np.sort(x)
    keep = np.ones(len(x), np.bool_)
    keep[1:] = x[1:] != x[:-1]
    out: Ints = x[keep]
    return out


def _first_of(x: Ints) -> tuple[Ints, Ints]:
    """Sorted distinct values and, for each, the index of its first occurrence in x."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    keep = np.ones(len(xs), np.bool_)
    keep[1:] = xs[1:] != xs[:-1]
    return xs[keep], order[keep]


class _Vocabulary:
    """Terms of one kind as small integers (sorted, so the numbering never depends on set order): each
    member's terms as (member, term) rows, and the terms they share with someone as 64-bit words of bits."""

    def __init__(self, sets: Sequence[frozenset[str]]) -> None:
        terms = sorted(set().union(*sets)) if sets else []
        index = {t: k for k, t in enumerate(terms)}
        self.size = len(terms)
        counts = np.fromiter(map(len, sets), np.int64, len(sets))
        self.rows: Ints = np.repeat(np.arange(len(sets), dtype=np.int64), counts)
        self.cols: Ints = np.fromiter(
            map(index.__getitem__, chain.from_iterable(sets)), np.int64, int(counts.sum())
        )
        self.offsets: Ints = np.concatenate(([0], np.cumsum(counts)))
        # bits only for terms that two members have: a term of one member alone can never be shared
        holders = np.bincount(self.cols, minlength=self.size)
        bit = np.cumsum(holders > 1) - 1
        shared = holders[self.cols] > 1
        rows, cols = self.rows[shared], bit[self.cols[shared]]
        words = max(1, (int(bit[-1]) + 1 + 63) // 64 if self.size else 1)
        self.bits: Words = np.zeros((len(sets), words), np.uint64)
        np.bitwise_or.at(
            self.bits, (rows, cols // 64), np.left_shift(np.uint64(1), (cols % 64).astype(np.uint64))
        )


def _codes(values: Iterable[str | None]) -> Ints:
    """Small integer per distinct non-empty value; -1 for unknown."""
    vocab: dict[str, int] = {}
    return np.fromiter((vocab.setdefault(v, len(vocab)) if v else -1 for v in values), np.int64)


class _PairSet:
    """A set of unordered index pairs with vectorised membership (open addressing, linear probing)."""

    _MUL = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, keys: Ints) -> None:
        keys = _unique(keys)
        size = 1 << max(4, int(2 * len(keys)).bit_length())
        self.mask = size - 1
        self.table: Ints = np.full(size, -1, np.int64)
        slot = self._hash(keys)
        pending = keys
        while len(pending):
            free = self.table[slot] < 0
            # among pending keys aiming at the same free slot, the first one takes it
            cand_slots, first = _first_of(slot[free])
            self.table[cand_slots] = pending[free][first]
            placed = np.zeros(len(pending), np.bool_)
            placed[np.flatnonzero(free)[first]] = True
            pending, slot = pending[~placed], (slot[~placed] + 1) & self.mask

    def _hash(self, keys: Ints) -> Ints:
        mixed = (keys.astype(np.uint64) * self._MUL) >> np.uint64(20)
        hashed: Ints = mixed.astype(np.int64) & self.mask
        return hashed

    def contains(self, keys: Ints) -> Bools:
        found = np.zeros(len(keys), np.bool_)
        todo = np.arange(len(keys))
        slot = self._hash(keys)
        while len(todo):
            seen = self.table[slot]
            hit = seen == keys[todo]
            found[todo[hit]] = True
            more = ~hit & (seen >= 0)
            todo, slot = todo[more], (slot[more] + 1) & self.mask
        return found


class _Pool:
    """Columns of the candidates for vectorised pair checks; index i is candidates[i]."""

    def __init__(
        self,
        candidates: Sequence[Candidate],
        on: datetime,
        recent: Collection[frozenset[int]],
        settings: MatchSettings,
    ) -> None:
        n = self.n = len(candidates)
        self.candidates = candidates
        self.settings = settings
        self.index = {c.member_id: i for i, c in enumerate(candidates)}
        if len(self.index) != n:
            raise ValueError("member ids must be unique")
        offsets = {z: _offset(z, on) for z in {c.timezone for c in candidates}}
        zone_offset = np.fromiter((offsets[c.timezone] for c in candidates), np.int64, n)
        local_start = np.fromiter((c.work_start for c in candidates), np.int64, n)
        local_end = np.fromiter((c.work_end for c in candidates), np.int64, n)
        length = np.where(local_start == local_end, 0, (local_end - local_start) % DAY)
        length[(length == 0) & (local_start != local_end)] = DAY
        self.start: Ints = (local_start - zone_offset) % DAY
        self.end: Ints = self.start + length
        self.roles = _Vocabulary([c.roles for c in candidates])
        self.subjects = _Vocabulary([c.subjects for c in candidates])
        self.programmes = _Vocabulary([c.programmes for c in candidates])
        self.languages = _Vocabulary([c.languages for c in candidates])
        self.school = _codes(c.school for c in candidates)
        self.region = _codes(c.region for c in candidates)
        self.max_group: Ints = np.fromiter((c.max_group for c in candidates), np.int64, n)
        excluded: list[int] = []
        for i, c in enumerate(candidates):
            for other in c.excluded:
                j = self.index.get(other)
                if j is not None and j != i:
                    excluded.append(min(i, j) * n + max(i, j))
        met: list[int] = []
        for pair in recent:
            if len(pair) == 2:
                a, b = (self.index.get(m) for m in pair)
                if a is not None and b is not None and a != b:
                    met.append(min(a, b) * n + max(a, b))
        self.excluded = _PairSet(np.array(excluded, np.int64))
        self.recent = _PairSet(np.array(met, np.int64))
        self.forbidden = _PairSet(np.array(excluded + met, np.int64)) if excluded or met else None

    # vectorised over index arrays i, j (same shape)

    @staticmethod
    def _share(vocab: _Vocabulary, i: Ints, j: Ints) -> Bools:
        out: Bools = np.zeros(i.shape, np.bool_)
        for w in range(vocab.bits.shape[1]):
            column = vocab.bits[:, w]
            out |= (column[i] & column[j]) != 0
        return out

    def overlap(self, i: Ints, j: Ints) -> Ints:
        s1, e1, s2, e2 = self.start[i], self.end[i], self.start[j], self.end[j]
        total: Ints = np.zeros(i.shape, np.int64)
        for shift in (-DAY, 0, DAY):
            total += np.maximum(0, np.minimum(e1, e2 + shift) - np.maximum(s1, s2 + shift))
        return total

    def allowed(self, i: Ints, j: Ints) -> Bools:
        ok = (i != j) & self._share(self.languages, i, j)
        ok &= self.overlap(i, j) >= self.settings.min_overlap_minutes
        if self.forbidden is not None:
            keys = np.minimum(i[ok], j[ok]) * self.n + np.maximum(i[ok], j[ok])
            ok[ok] = ~self.forbidden.contains(keys)
        result: Bools = ok
        return result

    def weight(self, i: Ints, j: Ints) -> Ints:
        """Pair weights, -1 where the pair is not allowed (in slices, to bound the temporaries)."""
        step = 1 << 19
        if len(i) <= step:
            return self._weight(i, j)
        return np.concatenate(
            [self._weight(i[k : k + step], j[k : k + step]) for k in range(0, len(i), step)]
        )

    def _weight(self, i: Ints, j: Ints) -> Ints:
        s = self.settings
        role = self._share(self.roles, i, j)
        subject = self._share(self.subjects, i, j)
        programme = self._share(self.programmes, i, j)
        w: Ints = np.where(
            role,
            np.where(subject, s.role_subject, np.where(programme, s.role_programme, s.role_only)),
            s.base,
        ).astype(np.int64)
        si, sj, ri, rj = self.school[i], self.school[j], self.region[i], self.region[j]
        w += s.other_school * ((si >= 0) & (sj >= 0) & (si != sj))
        w += s.other_region * ((ri >= 0) & (rj >= 0) & (ri != rj))
        return np.where(self.allowed(i, j), w, -1)


# --- candidate edges -------------------------------------------------------------------------------------


def _top_k(
    src: npt.NDArray[np.integer[Any]],
    dst: npt.NDArray[np.integer[Any]],
    w: npt.NDArray[np.integer[Any]],
    n: int,
    k: int,
    rng: np.random.Generator,
) -> tuple[Ints, Ints, Ints]:
    """Per source, its k best distinct allowed destinations (ties broken by a seeded shuffle); returned as
    an undirected edge list (u < v, unique)."""
    if not (w >= 0).all():
        keep = w >= 0
        src, dst, w = src[keep], dst[keep], w[keep]
    if not len(w):
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    levels = _unique(np.unique(w).astype(np.int64))
    rank = np.zeros(int(levels[-1]) + 1, np.int64)
    rank[levels] = np.arange(len(levels) - 1, -1, -1)  # heaviest first
    tie = rng.permutation(n).astype(np.int64)  # distinct per destination: equal keys are equal pairs
    nbits, lbits = max(1, n.bit_length()), max(1, len(levels).bit_length())
    # one sortable integer per pair: source, then heaviest first, then the shuffled destination (built in
    # place: at 100,000 members there are millions of pairs)
    key = src.astype(np.int64)
    key <<= nbits + lbits
    part = rank[w]
    part <<= nbits
    key |= part
    part = tie[dst]
    key |= part
    del part
    key.sort()
    fresh = np.ones(len(key), np.bool_)
    np.not_equal(key[1:], key[:-1], out=fresh[1:])
    key = key[fresh]
    source = key >> (nbits + lbits)
    np.not_equal(source[1:], source[:-1], out=fresh[1 : len(key)])
    starts = np.flatnonzero(fresh[: len(key)])
    del source, fresh
    ends = np.append(starts[1:], len(key))
    take = np.zeros(len(key), np.bool_)
    for j in range(k):  # the first k of each source
        at = starts + j
        take[at[at < ends]] = True
    chosen = key[take]
    del key, take
    a = chosen >> (nbits + lbits)
    b = np.argsort(tie)[chosen & ((1 << nbits) - 1)]
    weight = levels[len(levels) - 1 - ((chosen >> nbits) & ((1 << lbits) - 1))].astype(np.int64)
    u, v = np.minimum(a, b), np.maximum(a, b)
    pairs, at = _first_of(u * n + v)
    return pairs // n, pairs % n, weight[at]


def _dense_edges(pool: _Pool, k: int, rng: np.random.Generator) -> tuple[Ints, Ints, Ints]:
    """Every pair is looked at: each member's k best partners exactly (small pools)."""
    n = pool.n
    block = max(1, 1_000_000 // max(n, 1))
    srcs, dsts, ws = [], [], []
    every = np.arange(n, dtype=np.int64)
    for lo in range(0, n, block):
        rows = np.arange(lo, min(n, lo + block), dtype=np.int64)
        i = np.repeat(rows, n)
        j = np.tile(every, len(rows))
        upper = i < j
        i, j = i[upper], j[upper]
        w = pool.weight(i, j)
        keep = w >= 0
        srcs += [i[keep], j[keep]]
        dsts += [j[keep], i[keep]]
        ws += [w[keep], w[keep]]
    return _top_k(np.concatenate(srcs), np.concatenate(dsts), np.concatenate(ws), n, k, rng)


# Samples per (member, bucket) for the bucket kinds (language, role, subject), (language, role, programme),
# (language, role) and (language,): the finer the bucket, the better its members fit. A coarser kind is
# only sampled for members who have not yet seen `_ENOUGH` bucket-mates in the finer ones.
_SAMPLES = (16, 8, 8, 8)
_ENOUGH = 24


def _cross(members: Ints, codes: Ints, vocab: _Vocabulary) -> tuple[Ints, Ints]:
    """Each (member, code) row once per term the member has in `vocab`, the code extended by the term."""
    lo = vocab.offsets[members]
    count = vocab.offsets[members + 1] - lo
    at = np.repeat(lo - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
    return np.repeat(members, count), np.repeat(codes, count) * vocab.size + vocab.cols[at]


def _memberships(pool: _Pool) -> list[tuple[Ints, Ints]]:
    """(member, bucket code) rows for each bucket kind, finest first."""
    lang = (pool.languages.rows, pool.languages.cols)
    lang_role = _cross(*lang, pool.roles)
    return [_cross(*lang_role, pool.subjects), _cross(*lang_role, pool.programmes), lang_role, lang]


def _bucket_edges(pool: _Pool, k: int, rng: np.random.Generator) -> tuple[Ints, Ints, Ints]:
    """Each member's k best partners among bucket-mates sampled across the stretch of the day when their
    working windows can overlap (large pools)."""
    seen = np.zeros(pool.n, np.int64)
    srcs, dsts, ws = [], [], []
    chunk = max(1, 500_000 // max(_SAMPLES))
    for (members, codes), m in zip(_memberships(pool), _SAMPLES, strict=True):
        wanted = seen[members] < _ENOUGH
        members, codes = members[wanted], codes[wanted]
        if not len(members):
            continue
        rows = _bucket_rows(pool, members, codes)
        for lo in range(0, len(members), chunk):
            src, dst = _sample_rows(rows, lo, lo + chunk, m, rng)
            w = pool.weight(src, dst)
            keep = w >= 0
            srcs.append(src[keep].astype(np.int32))
            dsts.append(dst[keep].astype(np.int32))
            ws.append(w[keep].astype(np.int16))
            seen += np.bincount(src[keep], minlength=pool.n)
    if not srcs:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    return _top_k(np.concatenate(srcs), np.concatenate(dsts), np.concatenate(ws), pool.n, k, rng)


@dataclass(frozen=True)
class _Rows:
    """(member, bucket) rows sorted by bucket then UTC start, with the stretch of each bucket that can
    overlap the member: positions lo .. lo + size (circular within the bucket)."""

    members: Ints
    first: Ints  # where the row's bucket starts
    count: Ints  # how many the row's bucket holds
    lo: Ints
    size: Ints


def _bucket_rows(pool: _Pool, members: Ints, codes: Ints) -> _Rows:
    start = pool.start[members]
    order = np.lexsort((members, start, codes))
    members, codes, start = members[order], codes[order], start[order]
    first = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    size = np.diff(np.r_[first, len(codes)])
    bucket = np.repeat(np.arange(len(first)), size)
    length = (pool.end - pool.start)[members]
    longest = np.maximum.reduceat(length, first)[bucket]
    key = bucket * DAY + start
    need = pool.settings.min_overlap_minutes
    back = longest - need
    fwd = length - need
    off, k = first[bucket], size[bucket]

    def count_below(x: Ints) -> Ints:
        wraps, rest = np.divmod(x, DAY)
        below: Ints = k * wraps + np.searchsorted(key, bucket * DAY + rest) - off
        return below

    whole = back + fwd + 1 >= DAY
    lo = np.where(whole, 0, count_below(start - back))
    hi = np.where(whole, k, count_below(start + fwd + 1))
    return _Rows(members, off, k, lo, np.clip(hi - lo, 0, k))


def _sample_rows(rows: _Rows, a: int, b: int, m: int, rng: np.random.Generator) -> tuple[Ints, Ints]:
    """For rows a..b: up to m bucket-mates whose working windows can overlap the member's, spread evenly
    over that stretch of the day (all of them when there are at most m)."""
    members = rows.members[a:b]
    r = rows.size[a:b, None]
    cols = np.arange(m, dtype=np.int64)
    u = rng.random(len(members))[:, None]
    pos = np.where(r <= m, cols, np.floor((cols + u) * (r / m)).astype(np.int64)) + rows.lo[a:b, None]
    valid = (cols < r) & (r > 1)
    dst = rows.members[rows.first[a:b, None] + pos % rows.count[a:b, None]]
    src = np.broadcast_to(members[:, None], dst.shape)
    return src[valid], dst[valid]


# --- pairing ---------------------------------------------------------------------------------------------


def _best_free(n: int, a: Ints, c: Ints, w: Ints, free: Bools) -> tuple[Ints, Ints, Ints, Ints]:
    """Per node: its best and second-best free candidate (-1 when none) and their weights."""
    keep = free[c]
    a, c, w = a[keep], c[keep], w[keep]
    order = np.lexsort((c, -w, a))
    a, c, w = a[order], c[order], w[order]
    best, best_w = np.full(n, -1, np.int64), np.zeros(n, np.int64)
    second, second_w = np.full(n, -1, np.int64), np.zeros(n, np.int64)
    if len(a):
        first = np.ones(len(a), np.bool_)
        first[1:] = a[1:] != a[:-1]
        best[a[first]], best_w[a[first]] = c[first], w[first]
        nxt = np.zeros(len(a), np.bool_)
        nxt[1:] = first[:-1] & ~first[1:]
        second[a[nxt]], second_w[a[nxt]] = c[nxt], w[nxt]
    return best, best_w, second, second_w


def _improve(
    pool: _Pool,
    eu: Ints,
    ev: Ints,
    ew: Ints,
    mate: Ints,
    mw: Ints,
    rng: np.random.Generator,
    passes: int = 100,
) -> None:
    """Local search over the candidate edges until no move gains: swaps between two pairs
    ((a,b),(c,d) → (a,c),(b,d)) and short augmenting paths (free u – a, a's mate b – free z)."""
    n = pool.n
    a_all = np.concatenate((eu, ev))
    c_all = np.concatenate((ev, eu))
    w_all = np.concatenate((ew, ew))
    for _ in range(passes):
        matched = mate >= 0
        # swaps (each candidate pair once: a→c and c→a give the same swap)
        sel = matched[eu] & matched[ev] & (mate[eu] != ev)
        a, c, w = eu[sel], ev[sel], ew[sel]
        b, d = mate[a], mate[c]
        wbd = pool.weight(b, d)
        gain = w + np.maximum(wbd, 0) - mw[a] - mw[c]
        good = gain > 0
        swap_moves = np.stack((a[good], c[good], b[good], d[good], wbd[good], w[good]), axis=1)
        swap_gain = gain[good]
        # augmenting: free u – x (mate y) ; y – best free z != u
        best, best_w, second, second_w = _best_free(n, a_all, c_all, w_all, ~matched)
        sel = ~matched[a_all] & matched[c_all]
        u, x, w = a_all[sel], c_all[sel], w_all[sel]
        y = mate[x]
        z = np.where(best[y] == u, second[y], best[y])
        zw = np.where(best[y] == u, second_w[y], best_w[y])
        gain2 = w - mw[x] + zw
        good = gain2 > 0
        aug_moves = np.stack((u[good], x[good], y[good], z[good], zw[good], w[good]), axis=1)
        aug_gain = gain2[good]
        kinds = np.concatenate((np.zeros(len(swap_gain), np.int64), np.ones(len(aug_gain), np.int64)))
        allm = np.concatenate((swap_moves, aug_moves))
        allg = np.concatenate((swap_gain, aug_gain))
        if not len(allg):
            break
        order = np.lexsort((rng.random(len(allg)), -allg))
        touched = np.zeros(n, np.bool_)
        applied = 0
        for kind, (p, q, r, s, wrs, wpq) in zip(kinds[order].tolist(), allm[order].tolist(), strict=True):
            nodes = (p, q, r) if s < 0 else (p, q, r, s)
            if any(touched[t] for t in nodes):
                continue
            touched[list(nodes)] = True
            applied += 1
            if kind == 0:  # (p,r),(q,s) -> (p,q),(r,s)
                mate[p], mate[q], mw[p], mw[q] = q, p, wpq, wpq
                if wrs >= 0:
                    mate[r], mate[s], mw[r], mw[s] = s, r, wrs, wrs
                else:
                    mate[r] = mate[s] = -1
                    mw[r] = mw[s] = 0
            else:  # free p – q (mate r) ; r – free s
                mate[p], mate[q], mw[p], mw[q] = q, p, wpq, wpq
                if s >= 0:
                    mate[r], mate[s], mw[r], mw[s] = s, r, wrs, wrs
                else:
                    mate[r], mw[r] = -1, 0
        if not applied:
            break


_NEG = -(1 << 40)
_ROUND_COST = 1_000  # a round's fixed cost, in arcs relaxed


def _cancel_cycles(
    n: int,
    eu: Ints,
    ev: Ints,
    ew: Ints,
    mate: Ints,
    mw: Ints,
    rng: np.random.Generator,
    budget: int,
    floor: int | None = None,
    linger: int = 0,
    break_pairs: bool = True,
    side: Ints | None = None,
) -> int:
    """Improve the matching along positive alternating cycles and paths found by Bellman–Ford on the
    exchange graph, until none is left or `budget` arcs have been relaxed. Returns the arcs relaxed.

    Exchange graph: an arc p → q means "p takes z, whose partner q is left to find someone else", with
    gain w(p, z) - w(z, q). A walk starts at a free member, or (`break_pairs`) at a matched one who leaves
    their partner alone, and ends when someone takes a free member or stays alone; walks close through a
    virtual node. A positive closed walk that uses each member once is an improving alternating cycle or
    path. Walks that are not (around an odd cycle, where blossom shrinking would be needed) are cut to
    their best valid part or their offending arc is banned. With `side` (0/1 per member, partners on
    opposite sides), only walks where side-0 members take side-1 partners are searched: every such walk
    is valid, so nothing gets banned; random sides recover what the bans hid. Walks start from members
    who have a better candidate than their partner; partial walks losing more than `floor` (default: the
    heaviest weight) are dropped."""
    omega, sink = n, n + 1
    p_all = np.concatenate((eu, ev))
    z_all = np.concatenate((ev, eu))
    w_all = np.concatenate((ew, ew))
    used = 0
    banned: set[int] = set()
    improved_since_clear = False
    steps = max(1, int(np.ceil(np.log2(n + 2))))
    everyone = np.arange(n, dtype=np.int64)
    best_option = np.zeros(n, np.int64)
    np.maximum.at(best_option, p_all, w_all)
    if floor is None:
        floor = -int(w_all.max()) if len(w_all) else 0
    while used < budget:
        matched = mate >= 0
        sel = z_all != mate[p_all]
        p, z, w = p_all[sel], z_all[sel], w_all[sel]
        zm = matched[z]
        # p takes matched z, freeing mate[z]; p takes free z, ending the chain; p stays free, ending it;
        # a chain starts at a free member, or at a matched one who leaves their mate alone
        starts = everyone if break_pairs else np.flatnonzero(~matched)
        src = np.concatenate((p[zm], p[~zm], everyone, np.full(len(starts), omega)))
        dst = np.concatenate((mate[z[zm]], np.full(int((~zm).sum()), omega), np.full(n, omega), starts))
        via = np.concatenate(
            (z[zm], z[~zm], np.full(n, -1), np.where(matched[starts], -2 - mate[starts], -1))
        )
        gain = np.concatenate((w[zm] - mw[z[zm]], w[~zm], np.zeros(n, np.int64), -mw[starts]))
        wpz = np.concatenate((w[zm], w[~zm], np.zeros(n + len(starts), np.int64)))
        if side is not None:  # members seek on side 0, partners are taken on side 1: no pair used twice
            seeker = np.ones(n + 1, np.bool_)
            seeker[:n] = side == 0
            taken = np.concatenate((side[z[zm]] == 1, side[z[~zm]] == 1, np.ones(n + len(starts), np.bool_)))
            keep = seeker[src] & taken & (seeker[dst] | (dst == omega))
            src, dst, via, gain, wpz = src[keep], dst[keep], via[keep], gain[keep], wpz[keep]
        order = np.lexsort((rng.random(len(src)), src))
        src, dst, via, gain, wpz = src[order], dst[order], via[order], gain[order], wpz[order]
        aux = np.where(via >= 0, via, np.where(via <= -2, -2 - via, sink))
        if banned:
            gain[np.isin(_arc_keys(src, via, dst, n), np.array(sorted(banned), np.int64))] = _NEG
        used += len(src)
        first_arc = np.searchsorted(src, np.arange(n + 2))
        seeds = np.append(np.flatnonzero(best_option > mw), omega)
        frozen = np.zeros(n + 2, np.bool_)
        applied = restart = converged = False
        since = 0
        while used < budget:
            if restart or not since:  # (re)start from the seeds
                dist = np.full(n + 2, _NEG, np.int64)
                pred = np.full(n + 2, -1, np.int64)
                active = seeds[~frozen[seeds]]
                dist[active] = 0
                rounds, restart = 0, False
            since += 1
            if applied and since > linger:
                break
            rounds += 1
            if rounds > 2 * n + 8:  # no cycle surfaced in as many rounds as a simple path can take
                converged = True
                break
            lo, hi = first_arc[active], first_arc[active + 1]
            count = hi - lo
            arcs = np.repeat(lo - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
            used += len(arcs) + _ROUND_COST
            arcs = arcs[(gain[arcs] > _NEG) & ~frozen[aux[arcs]] & ~frozen[dst[arcs]]]
            cand = dist[src[arcs]] + gain[arcs]
            best = dist.copy()
            np.maximum.at(best, dst[arcs], np.maximum(cand, _NEG))
            best[frozen] = dist[frozen]
            hit = arcs[(cand == best[dst[arcs]]) & (cand > dist[dst[arcs]]) & (cand >= floor)]
            if not len(hit):
                converged = True
                break
            targets, at = _first_of(dst[hit])
            dist[targets] = best[targets]
            pred[targets] = hit[at]
            active = targets
            # cycles of the predecessor graph: follow pointers n times (by doubling) and see where we land
            follow = np.full(n + 2, sink, np.int64)
            live = (pred >= 0) & ~frozen
            follow[live] = src[pred[live]]
            for _ in range(steps):
                follow = follow[follow]
            landing = _unique(follow[follow != sink])
            if not len(landing):
                continue
            seen: set[int] = set()
            for start in landing.tolist():
                if start in seen:
                    continue
                cycle = _walk_back(start, pred, src, seen)
                if not cycle:  # broken by a cycle applied just before
                    continue
                changed, offending = _apply_cycle(cycle, src, via, dst, gain, wpz, mate, mw, frozen, n)
                if changed:
                    applied = improved_since_clear = True
                    frozen[changed] = True
                    pred[changed] = -1
                    active = active[~frozen[active]]
                if (
                    offending[0] >= 0
                ):  # brings a member in twice: not an alternating cycle; drop the later arc
                    arc = offending[0]
                    banned.add(int(_arc_keys(src[arc], via[arc], dst[arc], n)))
                    gain[arc] = _NEG
                    pred[dst[arc]] = -1
                    restart = True
                elif not changed:  # stale (someone in it already moved this phase) or not positive
                    gain[cycle[-1]] = _NEG
                    pred[dst[cycle[-1]]] = -1
            if restart and applied:
                break
            # else an invalid walk inflated the distances downstream: start again without it
        if applied:
            continue
        if converged and banned and improved_since_clear:
            banned.clear()
            improved_since_clear = False
            continue
        break
    return used


def _arc_keys(src: Any, via: Any, dst: Any, n: int) -> Any:
    """One integer per arc (arrays or scalars), to remember banned arcs across rebuilds."""
    return (src * (n + 3) + via + 2) * (n + 3) + dst


def _walk_back(start: int, pred: Ints, src: Ints, seen: set[int]) -> list[int]:
    """The predecessor cycle through `start` as arcs in forward order; [] when it no longer closes."""
    cycle: list[int] = []
    x = start
    while True:
        if x in seen:
            return []
        seen.add(x)
        arc = int(pred[x])
        if arc < 0:
            return []
        cycle.append(arc)
        x = int(src[arc])
        if x == start:
            cycle.reverse()
            return cycle


def _apply_cycle(
    cycle: list[int],
    src: Ints,
    via: Ints,
    dst: Ints,
    gain: Ints,
    wpz: Ints,
    mate: Ints,
    mw: Ints,
    frozen: Bools,
    n: int,
) -> tuple[list[int], tuple[int, int]]:
    """Apply an exchange walk when it is a valid alternating cycle, or path from a free member, with a
    positive gain. A path that turns invalid (it takes a partner already in it, as around an odd cycle)
    is cut at its best valid prefix, whose last member stays alone. Returns the members changed ([] when
    nothing was applied) and, when invalid, the two arcs that bring the same member in (else -1, -1)."""
    omega = n
    srcs = [int(src[a]) for a in cycle]
    path = omega in srcs
    if path:
        k = srcs.index(omega)
        cycle, srcs = cycle[k:] + cycle[:k], srcs[k:] + srcs[:k]
    involved = {srcs[0]: cycle[-1]}  # member -> the arc that brought them into the walk
    left_alone = -1
    new_pairs: list[tuple[int, int, int]] = []
    total, offending = 0, (-1, -1)
    best_total, best_end = 0, 0  # a prefix of the path: arcs before best_end, then its last member alone
    for step, (a, s) in enumerate(zip(cycle, srcs, strict=True)):
        z, d = int(via[a]), int(dst[a])
        if z <= -2:  # the walk starts with d leaving their partner alone
            z = left_alone = -2 - z
        if z >= 0:
            if z in involved:
                offending = (a, involved[z])
                break
            involved[z] = a
            if z != left_alone:
                new_pairs.append((s, z, int(wpz[a])))
        if step < len(cycle) - 1:
            if d in involved:
                offending = (a, involved[d])
                break
            involved[d] = a
        total += int(gain[a])
        if path and 0 < step < len(cycle) - 1 and total > best_total:
            best_total, best_end = total, step + 1
    else:
        best_total, best_end = total, len(cycle)
    if best_total <= 0:
        return [], offending
    keep = cycle[:best_end]
    members = {int(src[a]) for a in keep} - {omega}
    pairs = [p for p in new_pairs if p[0] in members]
    changed = members | {z for _, z, _ in pairs} | ({left_alone} if left_alone >= 0 else set())
    if best_end < len(cycle):
        changed.add(int(dst[keep[-1]]))  # the last one freed stays alone
    if any(frozen[x] for x in changed):
        return [], offending
    for x in changed:
        mate[x], mw[x] = -1, 0
    for s, z, w in pairs:
        mate[s], mate[z], mw[s], mw[z] = z, s, w, w
    return sorted(changed), offending


def _csr(a: Ints, b: Ints, n: int) -> tuple[Ints, Ints]:
    """Arcs a→b sorted by a; returns (targets, offsets) with offsets of length n + 1."""
    order = np.argsort(a, kind="stable")
    offsets = np.searchsorted(a[order], np.arange(n + 1))
    return b[order], offsets


def _gather(offsets: Ints, nodes: Ints) -> Ints:
    """Arc indices of all arcs leaving `nodes` (CSR)."""
    lo, hi = offsets[nodes], offsets[nodes + 1]
    count = hi - lo
    idx: Ints = np.repeat(lo - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
    return idx


def _by_levels(n: int, eu: Ints, ev: Ints, ew: Ints, rng: np.random.Generator) -> tuple[Ints, Ints]:
    """Heaviest level first: within each weight level, a greedy matching among the members still free
    (fewest options first), grown by augmenting paths through that level's pairs."""
    mate = np.full(n, -1, np.int64)
    mw = np.zeros(n, np.int64)
    for t in sorted(set(ew.tolist()), reverse=True):
        sel = ew == t
        u, v = eu[sel], ev[sel]
        free_u, free_v = mate[u] < 0, mate[v] < 0
        _level_greedy(n, u[free_u & free_v], v[free_u & free_v], t, mate, mw, rng)
        keep = (mw[u] == t) | (mate[u] < 0)
        keep &= (mw[v] == t) | (mate[v] < 0)
        _level_augment(n, u[keep], v[keep], t, mate, mw, rng)
    return mate, mw


def _level_greedy(n: int, u: Ints, v: Ints, t: int, mate: Ints, mw: Ints, rng: np.random.Generator) -> None:
    """Greedy matching of free members over pairs of one level, members with the fewest options first
    (Karp–Sipser flavour). Computed in rounds of locally best pairs, which gives the same result as the
    sequential greedy in that order."""
    if not len(u):
        return
    degree = np.bincount(np.concatenate((u, v)), minlength=n)
    order = np.lexsort((rng.random(len(u)), np.minimum(degree[u], degree[v])))
    u, v = u[order], v[order]
    rank = np.arange(len(u), dtype=np.int64)
    none = len(u)
    best = np.full(n, none, np.int64)
    while len(u):
        best[u] = none
        best[v] = none
        np.minimum.at(best, u, rank)
        np.minimum.at(best, v, rank)
        chosen = (best[u] == rank) & (best[v] == rank)
        cu, cv = u[chosen], v[chosen]
        mate[cu], mate[cv] = cv, cu
        mw[cu] = mw[cv] = t
        alive = (mate[u] < 0) & (mate[v] < 0)
        u, v, rank = u[alive], v[alive], rank[alive]


def _level_augment(
    n: int, u: Ints, v: Ints, t: int, mate: Ints, mw: Ints, rng: np.random.Generator, phases: int = 50
) -> None:
    """Augmenting paths (alternating between new and matched pairs of this level, from a free member to a
    free member) found by growing alternating trees from every free member at once; blossoms are not
    shrunk, so a few paths can be missed."""
    if not len(u):
        return
    a = np.concatenate((u, v))
    b = np.concatenate((v, u))
    targets, offsets = _csr(a, b, n)
    nodes = _unique(a)
    for _ in range(phases):
        label = np.zeros(n, np.int8)  # 1 outer, 2 inner
        root = np.full(n, -1, np.int64)
        parent = np.full(n, -1, np.int64)
        roots = nodes[mate[nodes] < 0]
        if len(roots) < 2:
            return
        label[roots] = 1
        root[roots] = roots
        frontier = roots
        while len(frontier):
            arcs = _gather(offsets, frontier)
            x = np.repeat(frontier, offsets[frontier + 1] - offsets[frontier])
            y = targets[arcs]
            sel = label[y] == 0
            x, y = x[sel], y[sel]
            if not len(y):
                break
            shuffle = rng.permutation(len(y))
            x, y = x[shuffle], y[shuffle]
            y, first = _first_of(y)
            x = x[first]
            pick = np.zeros(n, np.bool_)
            pick[y] = True
            alone = ~pick[mate[y]] | (y < mate[y])  # both of a pair reached at once: take one as inner
            x, y = x[alone], y[alone]
            label[y] = 2
            parent[y] = x
            root[y] = root[x]
            frontier = mate[y]
            label[frontier] = 1
            parent[frontier] = y
            root[frontier] = root[x]
        outer = np.flatnonzero(label == 1)
        arcs = _gather(offsets, outer)
        x = np.repeat(outer, offsets[outer + 1] - offsets[outer])
        y = targets[arcs]
        cross = (label[y] == 1) & (root[x] != root[y])
        x, y = x[cross], y[cross]
        if not len(x):
            return
        shuffle = rng.permutation(len(x))
        used: set[int] = set()
        for p, q in zip(x[shuffle].tolist(), y[shuffle].tolist(), strict=True):
            rp, rq = int(root[p]), int(root[q])
            if rp in used or rq in used:
                continue
            used.add(rp)
            used.add(rq)
            for end in (p, q):
                # flip the tree path end → root: inner i takes its parent (outer), whose old mate is next
                o = end
                while parent[o] >= 0:
                    i = int(parent[o])
                    o = int(parent[i])
                    mate[i], mate[o] = o, i
                    mw[i] = mw[o] = t
            mate[p], mate[q] = q, p
            mw[p] = mw[q] = t


# --- the whole pairing -----------------------------------------------------------------------------------

_DENSE_MAX = 1_000  # up to here every pair is weighed; beyond, bucket-mates are sampled
_K_DENSE, _K_SAMPLED = 16, 12  # candidate partners kept per member
_CYCLE_BUDGET = 20_000_000  # arcs relaxed by the cycle search (scaled down beyond _DENSE_MAX)
_QUIET = 8  # searches on random sides without a gain before giving up
_SIDED_MAX = 300  # pools up to this size also get those searches


def _pair_up(
    pool: _Pool, rng: np.random.Generator, *, sampled: bool | None = None
) -> tuple[Ints, Ints, tuple[Ints, Ints]]:
    """Step 1: pairs maximising total weight over the whole pool. Returns mate (-1 alone) and pair weight
    per member, and the candidate partnerships looked at."""
    n = pool.n
    if sampled is None:
        sampled = n > _DENSE_MAX
    if sampled:
        eu, ev, ew = _bucket_edges(pool, _K_SAMPLED, rng)
    else:
        eu, ev, ew = _dense_edges(pool, _K_DENSE, rng)
    mate, mw = _by_levels(n, eu, ev, ew, rng)
    _improve(pool, eu, ev, ew, mate, mw, rng)
    # the cycle search pays off most on small pools (sparse job-alike graphs); on large ones the levels
    # already reach the bound, and one pass over the exchange graph would cost more than the budget
    budget = int(_CYCLE_BUDGET * min(1.0, _DENSE_MAX / n) * min(1.0, 5 * _DENSE_MAX / n))
    if 2 * (len(eu) + n) < budget:
        budget -= _cancel_cycles(n, eu, ev, ew, mate, mw, rng, budget=budget, break_pairs=not sampled)
        quiet = 0
        tries = 0
        while n <= _SIDED_MAX and quiet < _QUIET and 2 * (len(eu) + n) < budget:
            tries += 1
            side = _sides(n, eu, ev, mate, rng) if tries % 2 else None
            if side is None:
                side = rng.integers(0, 2, n)
                paired = np.flatnonzero(mate >= 0)
                side[paired] = np.where(paired < mate[paired], side[paired], 1 - side[mate[paired]])
            before = int(mw.sum())
            budget -= _cancel_cycles(
                n, eu, ev, ew, mate, mw, rng, budget=budget, break_pairs=not sampled, side=side
            )
            quiet = 0 if mw.sum() > before else quiet + 1
    _pair_leftovers(pool, mate, mw, rng)
    return mate, mw, (eu, ev)


def _sides(n: int, eu: Ints, ev: Ints, mate: Ints, rng: np.random.Generator) -> Ints:
    """Sides for a searched exchange: alternating trees grown (in a random order) from the free members,
    seekers on side 0 and the partners they would take on side 1; pairs nobody reaches get random sides."""
    side = np.full(n, -1, np.int64)
    a = np.concatenate((eu, ev))
    b = np.concatenate((ev, eu))
    targets, offsets = _csr(a, b, n)
    roots = np.flatnonzero(mate < 0)
    roots = roots[rng.permutation(len(roots))]
    frontier = roots
    side[frontier] = 0
    while len(frontier):
        arcs = _gather(offsets, frontier)
        z = targets[arcs]
        z = z[(side[z] < 0) & (mate[z] >= 0)]
        z = z[rng.permutation(len(z))]
        z, _ = _first_of(z)
        reached = np.zeros(n, np.bool_)
        reached[z] = True
        z = z[~reached[mate[z]] | (z < mate[z])]  # both of a pair reached: one is taken, one seeks
        side[z] = 1
        frontier = mate[z]
        side[frontier] = 0
    left = np.flatnonzero(side < 0)
    side[left] = rng.integers(0, 2, len(left))
    paired = left[mate[left] >= 0]
    side[paired] = np.where(paired < mate[paired], side[paired], 1 - side[mate[paired]])
    return side


def _pair_leftovers(pool: _Pool, mate: Ints, mw: Ints, rng: np.random.Generator) -> None:
    """Members still alone are checked against each other exactly (candidate lists are only samples):
    any allowed pair among them is formed, heaviest first."""
    alone = np.flatnonzero(mate < 0)
    if len(alone) < 2:
        return
    alone = alone[rng.permutation(len(alone))]
    found: list[tuple[Ints, Ints, Ints]] = []
    block = max(1, 1_000_000 // len(alone))
    for lo in range(0, len(alone), block):
        rows = np.arange(lo, min(len(alone), lo + block))
        i = np.repeat(rows, len(alone))
        j = np.tile(np.arange(len(alone)), len(rows))
        upper = i < j
        i, j = i[upper], j[upper]
        w = pool.weight(alone[i], alone[j])
        ok = w >= 0
        found.append((w[ok], i[ok], j[ok]))
    w, i, j = (np.concatenate(x) for x in zip(*found, strict=True))
    for k in np.lexsort((j, i, -w)).tolist():  # heaviest first, then the seeded order
        a, b = int(alone[i[k]]), int(alone[j[k]])
        if mate[a] < 0 and mate[b] < 0:
            mate[a], mate[b] = b, a
            mw[a] = mw[b] = int(w[k])


# --- groups of three and four ----------------------------------------------------------------------------


def _group_fits(pool: _Pool, groups: Ints, chunk: int = 2048) -> tuple[Bools, Ints]:
    """For candidate groups (rows of member indices): whether every pair is allowed, all share a language
    and all overlap by the minimum; and the sum of pair weights."""
    g, size = groups.shape
    ok = np.ones(g, np.bool_)
    total = np.zeros(g, np.int64)
    for x in range(size):
        for y in range(x + 1, size):
            w = pool.weight(groups[:, x], groups[:, y])
            ok &= w >= 0
            total += np.maximum(w, 0)
    common = pool.languages.bits[groups[:, 0]].copy()
    for x in range(1, size):
        common &= pool.languages.bits[groups[:, x]]
    ok &= (common != 0).any(axis=1)
    minute = np.arange(DAY, dtype=np.int32)[None, :]
    start, length = pool.start.astype(np.int32), (pool.end - pool.start).astype(np.int32)
    for lo in range(0, g, chunk):  # minute by minute, a block of groups at a time
        rows = groups[lo : lo + chunk]
        together = np.ones((len(rows), DAY), np.bool_)
        for x in range(size):
            together &= (minute - start[rows[:, x], None]) % DAY < length[rows[:, x], None]
        ok[lo : lo + chunk] &= together.sum(axis=1) >= pool.settings.min_overlap_minutes
    return ok, total


def _merge_fours(pool: _Pool, groups: Ints, links: tuple[Ints, Ints], rng: np.random.Generator) -> Ints:
    """Step 2: pairs whose members all accept four merge two by two, greedily by cross weight. `groups` has
    one row per group (member indices, -1 padded to four)."""
    is_pair = groups[:, 2] < 0
    four = np.flatnonzero(is_pair & (pool.max_group[groups[:, 0]] >= 4) & (pool.max_group[groups[:, 1]] >= 4))
    if len(four) < 2:
        return groups
    group_of = np.full(pool.n, -1, np.int64)
    group_of[groups[four, 0]] = np.arange(len(four))
    group_of[groups[four, 1]] = np.arange(len(four))
    if len(four) <= 300:
        a, b = np.triu_indices(len(four), 1)
    else:  # pairs of pairs linked by a candidate partnership
        x, y = group_of[links[0]], group_of[links[1]]
        keep = (x >= 0) & (y >= 0) & (x != y)
        keys = _unique(np.minimum(x[keep], y[keep]) * len(four) + np.maximum(x[keep], y[keep]))
        a, b = keys // len(four), keys % len(four)
    pairs = groups[four, :2]
    ok, total = _group_fits(pool, np.concatenate((pairs[a], pairs[b]), axis=1))
    inside = pool.weight(pairs[:, 0], pairs[:, 1])
    cross = total - inside[a] - inside[b]
    sel = np.flatnonzero(ok)
    order = sel[np.lexsort((rng.random(len(sel)), -cross[sel]))]
    taken = np.zeros(len(four), np.bool_)
    merged: list[list[int]] = []
    for k in order.tolist():
        if not taken[a[k]] and not taken[b[k]]:
            taken[a[k]] = taken[b[k]] = True
            merged.append([*pairs[a[k]].tolist(), *pairs[b[k]].tolist()])
    if not merged:
        return groups
    keep_rows = np.ones(len(groups), np.bool_)
    keep_rows[four[taken]] = False
    return np.concatenate((groups[keep_rows], np.array(merged, np.int64)))


def _join_groups(pool: _Pool, groups: Ints, alone: list[int], rng: np.random.Generator) -> list[int]:
    """Step 3: each member still alone joins a pair (making three) or, when everyone accepts four, a
    three (making four). Preferred: groups where everyone accepts the new size, then the highest added
    weight. `groups` is updated in place; returns who is still alone."""
    left: list[int] = []
    w_u = np.full(pool.n, -1, np.int64)
    for u in alone:
        size = (groups >= 0).sum(axis=1)
        open_members = groups[(size == 2) | (size == 3)].ravel()
        open_members = open_members[open_members >= 0]
        if not len(open_members):
            left.append(u)
            continue
        w_u[open_members] = pool.weight(np.full(len(open_members), u, np.int64), open_members)
        best: tuple[int, int, float, int] | None = None
        for s in (2, 3):
            rows = np.flatnonzero(size == s)
            members = groups[rows, :s]
            fits = (w_u[members] >= 0).all(axis=1)
            rows, members = rows[fits], members[fits]
            if not len(rows):
                continue
            ok, _ = _group_fits(pool, np.concatenate((members, np.full((len(rows), 1), u)), axis=1))
            accepts = (pool.max_group[members] >= s + 1).all(axis=1) & (pool.max_group[u] >= s + 1)
            if s == 3:
                ok &= accepts  # a fourth only when everyone accepts four
            added = w_u[members].sum(axis=1)
            ties = rng.random(len(rows))
            for j in np.flatnonzero(ok).tolist():
                key = (int(accepts[j]), int(added[j]), float(ties[j]), int(rows[j]))
                if best is None or key[:3] > best[:3]:
                    best = key
        if best is None:
            left.append(u)
        else:
            row = best[3]
            groups[row, int(size[row])] = u
    return left


# --- reasons and the entry point -------------------------------------------------------------------------


def _reasons(pool: _Pool, left: list[int]) -> list[Reason]:
    """Why each of `left` sits out, against the whole pool: the first filter that leaves nobody."""
    n = pool.n
    if n == 1:
        return [Reason.ALONE] * len(left)
    out: list[Reason] = []
    everyone = np.arange(n, dtype=np.int64)
    block = max(1, 1_000_000 // n)
    for lo in range(0, len(left), block):
        rows = np.array(left[lo : lo + block], np.int64)
        me, them = np.repeat(rows, n), np.tile(everyone, len(rows))
        shape = (len(rows), n)
        ok = (me != them) & (pool.overlap(me, them) >= pool.settings.min_overlap_minutes)
        overlapping = ok.reshape(shape).any(axis=1)
        ok &= pool._share(pool.languages, me, them)
        speaking = ok.reshape(shape).any(axis=1)
        keys = np.minimum(me, them) * n + np.maximum(me, them)
        ok &= ~pool.excluded.contains(keys)
        allowed = ok.reshape(shape).any(axis=1)
        ok &= ~pool.recent.contains(keys)
        fresh = ok.reshape(shape).any(axis=1)
        for o, s, a, f in zip(overlapping, speaking, allowed, fresh, strict=True):
            if not o:
                out.append(Reason.NO_OVERLAP)
            elif not s:
                out.append(Reason.NO_LANGUAGE)
            elif not a:
                out.append(Reason.EXCLUDED)
            elif not f:
                out.append(Reason.RECENT)
            else:
                out.append(Reason.ODD_ONE_OUT)
    return out


def _seed(seed: int) -> np.random.Generator:
    return np.random.default_rng(random.Random(seed).getrandbits(64))


def match(
    candidates: Sequence[Candidate],
    *,
    on: datetime,
    seed: int,
    recent: Collection[frozenset[int]] = (),
    settings: MatchSettings = MatchSettings(),
) -> MatchResult:
    """One round: the whole pool in groups of two to four (member ids unique; `on` naive means UTC), and a
    reason for everyone left out. Same input and seed, same result."""
    return _match(candidates, on=on, seed=seed, recent=recent, settings=settings)


def _match(
    candidates: Sequence[Candidate],
    *,
    on: datetime,
    seed: int,
    recent: Collection[frozenset[int]],
    settings: MatchSettings,
    sampled: bool | None = None,
) -> MatchResult:
    tiers = (settings.role_subject, settings.role_programme, settings.role_only, settings.base)
    if min(*tiers, settings.other_school, settings.other_region) < 0:
        raise ValueError("pair weights must not be negative")
    cands = list(candidates)
    if not cands:
        return MatchResult((), ())
    pool = _Pool(cands, on, recent, settings)
    rng = _seed(seed)
    mate, mw, links = _pair_up(pool, rng, sampled=sampled)
    pairing_weight = int(mw.sum()) // 2
    first = np.flatnonzero(mate > np.arange(pool.n))
    groups = np.full((len(first), 4), -1, np.int64)
    groups[:, 0], groups[:, 1] = first, mate[first]
    groups = _merge_fours(pool, groups, links, rng)
    alone = np.flatnonzero(mate < 0)
    left = _join_groups(pool, groups, alone[rng.permutation(len(alone))].tolist(), rng)
    weights = np.zeros(len(groups), np.int64)
    for x in range(4):
        for y in range(x + 1, 4):
            both = (groups[:, x] >= 0) & (groups[:, y] >= 0)
            weights[both] += np.maximum(pool.weight(groups[both, x], groups[both, y]), 0)
    ids = np.array([c.member_id for c in cands], np.int64)
    out = sorted(
        (tuple(sorted(ids[row[row >= 0]].tolist())), int(w)) for row, w in zip(groups, weights, strict=True)
    )
    return MatchResult(
        groups=tuple(Group(members, w) for members, w in out),
        unmatched=tuple(
            sorted(
                (Unmatched(int(ids[u]), why) for u, why in zip(left, _reasons(pool, left), strict=True)),
                key=lambda x: x.member_id,
            )
        ),
        pairing_weight=pairing_weight,
    )
