"""Shared pieces of the synthetic generator: sizes, the calendar, seeded random streams,
identifier arithmetic and fast string columns.

Every random draw comes from a stream keyed by (seed, size, stream name, ...), so one table
can change how it draws without shifting the numbers of another, and no draw depends on the
clock.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

#: Bumped whenever the same inputs would give different files.
GENERATOR_VERSION = "1.0.0"

EPOCH = np.datetime64("1970-01-01", "D")


@dataclass(frozen=True)
class Size:
    """How big a sample is: claim volume, people, and how many problems to plant."""

    name: str
    #: Claims (initial submissions) in the latest month.
    claims_latest: int
    #: Established patients (with encounters) per claim of the latest month.
    patients_per_claim: float
    #: Patients without any encounter (outside prescriptions), share of established ones.
    outside_patient_share: float
    #: Prescribers on the entities' lists, and community prescribers on none.
    listed_prescribers: int
    community_prescribers: int
    #: Planted claims of each planted claim problem: in the latest month, and over history.
    planted_latest: int
    planted_history: int


SIZES = {
    "small": Size("small", 2_600, 2.0, 0.18, 480, 140, 2, 4),
    "large": Size("large", 1_000_000, 0.62, 0.15, 4_200, 1_600, 24, 96),
}

MONTHS = 24


def stream(seed: int, size: str, *keys: int | str) -> np.random.Generator:
    """A random generator for one purpose, independent of every other purpose's draws."""
    words = [int(seed) & 0xFFFFFFFF, int(seed) >> 32, zlib.crc32(size.encode())]
    for key in keys:
        words.append(zlib.crc32(key.encode()) if isinstance(key, str) else int(key))
    return np.random.default_rng(words)


class Calendar:
    """The 24 reporting months ending at ``end_month`` and date helpers in day numbers
    (days since 1970-01-01, int64)."""

    def __init__(self, end_month: str) -> None:
        last = np.datetime64(end_month, "M")
        self.months = last - np.arange(MONTHS - 1, -1, -1)
        self.labels = [str(m) for m in self.months]
        starts = self.months.astype("datetime64[D]")
        ends = (self.months + 1).astype("datetime64[D]") - 1
        self.start = (starts - EPOCH).astype(np.int64)
        self.end = (ends - EPOCH).astype(np.int64)
        self.days = self.end - self.start + 1
        #: Calendar month (1-12) of each reporting month.
        self.month_of_year = (self.months.astype(np.int64) % 12) + 1
        self.first_day = int(self.start[0])
        self.last_day = int(self.end[-1])

    def __len__(self) -> int:
        return MONTHS

    @property
    def latest(self) -> int:
        return MONTHS - 1

    def quarter_start_on_or_after(self, index: int) -> int:
        """Day number of the first calendar-quarter start at or after month ``index``
        (registrations in OPAIS take effect on the first day of a quarter)."""
        month = self.months[0] + index
        while (month.astype(np.int64) % 12) % 3:
            month += 1
        return day(month.astype("datetime64[D]"))

    def month_index(self, days: np.ndarray) -> np.ndarray:
        """Reporting-month index of each day number (-1 before, 24 after the window)."""
        index = np.searchsorted(self.start, days, side="right") - 1
        return np.where(days > self.last_day, MONTHS, index)


def day(value: str | np.datetime64) -> int:
    """Day number of an ISO date or a numpy datetime64."""
    return int((np.datetime64(value, "D") - EPOCH).astype(np.int64))


def quarter_start(days: np.ndarray) -> np.ndarray:
    """Day number of the first day of each day's calendar quarter."""
    months = (EPOCH + days.astype("timedelta64[D]")).astype("datetime64[M]").astype(np.int64)
    quarter_months = months - months % 3
    return (quarter_months.astype("datetime64[M]").astype("datetime64[D]") - EPOCH).astype(
        np.int64
    )


def iso(days: np.ndarray | int) -> np.ndarray:
    """ISO date text of day numbers."""
    return np.datetime_as_string(EPOCH + np.asarray(days).astype("timedelta64[D]"), unit="D")


def scatter(n: int, count: int, offset: int = 0) -> np.ndarray:
    """``n`` distinct numbers in [offset, offset + count), spread so they look random, by an
    affine map modulo ``count`` (cheap and collision-free, unlike drawing and deduplicating)."""
    if n > count:
        raise ValueError(f"cannot spread {n} numbers over {count}")
    multiplier = 48_271
    while np.gcd(multiplier, count) != 1:
        multiplier += 2
    i = np.arange(n, dtype=np.int64)
    return offset + (i * multiplier + 12_345) % count


def npi_check_digit(base9: np.ndarray) -> np.ndarray:
    """Luhn check digit of NPIs: over the prefix 80840 and the first nine digits."""
    base9 = np.asarray(base9, dtype=np.int64)
    digits = (base9[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    # Counting from the right of the nine digits, the 1st, 3rd, ... are doubled.
    doubled = digits[:, 0::2] * 2
    total = (doubled // 10 + doubled % 10).sum(1) + digits[:, 1::2].sum(1) + 24
    return (10 - total % 10) % 10


def make_npis(base9: np.ndarray) -> np.ndarray:
    """Ten-digit NPIs (as int64) from nine-digit bases."""
    base9 = np.asarray(base9, dtype=np.int64)
    return base9 * 10 + npi_check_digit(base9)


def digits_array(prefix: str, numbers: np.ndarray, width: int) -> pa.StringArray:
    """Strings ``prefix`` + ``numbers`` zero-padded to ``width`` digits, built straight into an
    Arrow buffer (a million ids in milliseconds, with no Python string per row)."""
    numbers = np.asarray(numbers, dtype=np.int64)
    n = len(numbers)
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    length = len(head) + width
    matrix = np.empty((n, length), dtype=np.uint8)
    matrix[:, : len(head)] = head
    rest = numbers.copy()
    for position in range(length - 1, len(head) - 1, -1):
        rest, digit = np.divmod(rest, 10)
        matrix[:, position] = digit + 48
    offsets = np.arange(0, (n + 1) * length, length, dtype=np.int32)
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(matrix.tobytes())
    )


def take_text(dictionary: list[str] | pa.Array, codes: np.ndarray) -> pa.DictionaryArray:
    """Text column from integer codes into ``dictionary``; a negative code is a blank (null).

    The column stays dictionary-encoded: Parquet writes it as its own dictionary pages
    without materializing a million strings, and (written without the Arrow schema, see
    :func:`write_parquet`) it reads back as plain text.
    """
    codes = np.asarray(codes)
    values = dictionary if isinstance(dictionary, pa.Array) else pa.array(dictionary,
                                                                          pa.string())
    # Parquet writes a dictionary as is only when its values are distinct (else it falls
    # back to plain text, several times larger): fold repeated values together.
    encoded = values.dictionary_encode()
    if len(encoded.dictionary) < len(values):
        inverse = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        codes = np.where(codes < 0, -1, inverse[np.maximum(codes, 0)])
        values = encoded.dictionary
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, values)


def write_parquet(table: pa.Table, path, statistics: list[str]) -> None:
    """Write a table so that every reader sees plain types: text columns held as
    dictionaries are written as Parquet dictionary pages, and the Arrow schema is not
    stored (it would make readers return pandas categoricals)."""
    import pyarrow.parquet as pq

    dictionary = [name for name in table.column_names
                  if pa.types.is_dictionary(table.schema.field(name).type)]
    pq.write_table(table, path, compression="snappy", use_dictionary=dictionary,
                   write_statistics=statistics, store_schema=False)


def choose_within_groups(
    rng: np.random.Generator, groups: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """For each row, an item drawn with the weights of the row's group.

    ``weights`` is (number of groups x number of items); every group used must have a
    positive total. One uniform draw per row and one ``searchsorted`` do all the groups at
    once: each group's cumulative weights are scaled into [group, group + 1).
    """
    weights = np.asarray(weights, dtype=np.float64)
    totals = weights.sum(1, keepdims=True)
    used = np.unique(groups)
    if (totals[used] <= 0).any():
        raise ValueError("a group with no positive weight was drawn from")
    cumulative = np.cumsum(weights / np.where(totals > 0, totals, 1), axis=1)
    cumulative[:, -1] = 1.0
    flat = (cumulative + np.arange(len(weights))[:, None]).ravel()
    u = groups + rng.random(len(groups)) * (1 - 1e-12)
    items = np.searchsorted(flat, u, side="right") - groups * weights.shape[1]
    return np.minimum(items, weights.shape[1] - 1)


def spread_within_groups(
    rng: np.random.Generator, groups: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Like :func:`choose_within_groups`, but each group's items are dealt out in
    proportion to their weights (systematic sampling): an item expected 7.4 times in a
    group gets 7 or 8 rows, not anywhere from 2 to 14. Which rows get which item is random.
    """
    weights = np.asarray(weights, dtype=np.float64)
    n_items = weights.shape[1]
    totals = weights.sum(1, keepdims=True)
    cumulative = np.cumsum(weights / np.where(totals > 0, totals, 1), axis=1)
    cumulative[:, -1] = 1.0
    flat = (cumulative + np.arange(len(weights))[:, None]).ravel()
    order = shuffled_order(rng, groups)
    sorted_groups = groups[order]
    starts = np.searchsorted(sorted_groups, np.arange(len(weights)))
    sizes = np.bincount(groups, minlength=len(weights))
    rank = np.arange(len(groups)) - starts[sorted_groups]
    offset = rng.random(len(weights))
    position = (offset[sorted_groups] + rank) / np.maximum(sizes[sorted_groups], 1)
    items = np.searchsorted(flat, sorted_groups + position * (1 - 1e-12), side="right")
    result = np.empty(len(groups), dtype=np.int64)
    result[order] = np.minimum(items - sorted_groups * n_items, n_items - 1)
    return result


def shuffled_order(rng: np.random.Generator, groups: np.ndarray) -> np.ndarray:
    """An ordering of the rows by group, in random order within each group (one argsort
    of a combined integer key, cheaper than a two-key lexsort)."""
    key = (np.asarray(groups, dtype=np.int64) << 40) | rng.integers(0, 1 << 40, len(groups))
    return np.argsort(key)


class Lottery:
    """Weighted draws from pools by table lookup: each member fills slots in proportion to
    its weight, so a draw is one random integer (no search through a million cumulative
    weights)."""

    def __init__(self, pool_of_member: np.ndarray, weight: np.ndarray, pools: int,
                 slots_per_member: int = 6) -> None:
        members = np.argsort(pool_of_member, kind="stable")
        slots = np.zeros(len(weight), dtype=np.int64)
        for p in range(pools):
            rows = members[pool_of_member[members] == p]
            if len(rows):
                w = weight[rows]
                # Every member keeps at least one slot: nobody's chance rounds to zero.
                slots[rows] = np.maximum(1, np.round(w / w.mean() * slots_per_member))
        self.table = np.repeat(members, slots[members])
        self.sizes = np.bincount(pool_of_member[self.table], minlength=pools)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])

    def draw(self, rng: np.random.Generator, pools: np.ndarray) -> np.ndarray:
        """One member per row, from the row's pool."""
        pick = (rng.random(len(pools)) * self.sizes[pools]).astype(np.int64)
        return self.table[self.offsets[pools] + pick]


def choose_in_pools(
    rng: np.random.Generator, pools: np.ndarray, pool_offsets: np.ndarray,
    cumulative: np.ndarray,
) -> np.ndarray:
    """For each row, a member of the row's pool drawn by weight.

    Members of all pools lie in one array sorted by pool; ``pool_offsets`` (length pools + 1)
    bounds each pool, and ``cumulative`` holds, per member, its pool index plus the running
    share of its pool's weight (so each pool spans [pool, pool + 1)).
    """
    u = pools + rng.random(len(pools)) * (1 - 1e-12)
    members = np.searchsorted(cumulative, u, side="right")
    return np.clip(members, pool_offsets[pools], pool_offsets[pools + 1] - 1)


def pooled_cumulative(pool_of_member: np.ndarray, weight: np.ndarray, pools: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and scaled cumulative weights for :func:`choose_in_pools` (members must be
    sorted by pool)."""
    offsets = np.searchsorted(pool_of_member, np.arange(pools + 1))
    cumulative = np.empty(len(weight), dtype=np.float64)
    for p in range(pools):
        lo, hi = offsets[p], offsets[p + 1]
        if hi > lo:
            run = np.cumsum(weight[lo:hi], dtype=np.float64)
            cumulative[lo:hi] = p + run / run[-1] * (1 - 1e-12)
    return offsets, cumulative
