"""Statistical disclosure control of the figures analysts see: the cell-key method.

Every record a table counts (a case, a referral, an unmet need, an institution, a person of a
household, a move of a case) carries a fixed random record key: the first two bytes of
HMAC-SHA256 of its id under a secret only reporting holds, so a rebuild gives every record the
same key again. A cell's key is the sum of its records' keys modulo `KEY_RANGE`; its published
value is a deterministic function of (true count, cell key) through the published perturbation
table below. The same set of records therefore gets the same figure however it is reached (any
filter, grouping, table, period, as-of day), and subtracting one figure from another yields
noise, not a count.

Totals are cells of their own: the records of the total, with their own key, never sums of
perturbed rows. Counts from 1 to the threshold - 1 are withheld, and so are some counts just
above it (by the cell key), so that a withheld mark does not say "fewer than the threshold";
zero stays zero; nothing below the threshold is published other than the withheld mark.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

SUPPRESSED_MARK = "#"  # GUS's sign for figures withheld to keep statistical confidentiality
KEY_BYTES = 2
KEY_RANGE = 256**KEY_BYTES  # record and cell keys are 0..65535
NOISE_KEYS = 256  # the low byte of a cell key picks the noise, the high byte the withholding
MAX_NOISE = 2  # no published count differs from the true one by more than this
# Counts from the threshold to threshold + WITHHELD_BAND - 1 are withheld for some cell keys:
# for threshold + i, the high byte of the key below (WITHHELD_BAND - i) * 256 / (WITHHELD_BAND
# + 1). A withheld figure is then anything from 1 to threshold + WITHHELD_BAND - 1.
WITHHELD_BAND = 6

# The perturbation table: for a true count n, how many of the 256 values of the cell key's low
# byte give each noise value (in order: values 0..c0-1 the first noise value, and so on). "big"
# is every n >= threshold + 2; n == threshold and threshold + 1 may not go below the threshold. Each
# row's noise has (nearly) zero mean, except at the threshold itself, where it cannot go down.
# The extremes are rare on purpose: an attacker can only use the bound (±2), and pinning a
# withheld count needs several published figures at their extremes at once.
_BIG = ((-2, 3), (-1, 61), (0, 128), (1, 61), (2, 3))
_ABOVE_BY_ONE = ((-1, 64), (0, 128), (1, 61), (2, 3))
_AT_THRESHOLD = ((0, 190), (1, 63), (2, 3))


def noise_row(n: int, threshold: int) -> tuple[tuple[int, int], ...]:
    """The row of the perturbation table for a shown count n (n >= threshold)."""
    if n >= threshold + 2:
        return _BIG
    if n == threshold + 1:
        return _ABOVE_BY_ONE
    return _AT_THRESHOLD


for _row in (_BIG, _ABOVE_BY_ONE, _AT_THRESHOLD):
    assert sum(share for _, share in _row) == NOISE_KEYS


def withheld_share(n: int, threshold: int) -> int:
    """Of the 256 values of the cell key's high byte, how many withhold a count n."""
    if n <= 0:
        return 0
    if n < threshold:
        return 256
    above = n - threshold
    if above >= WITHHELD_BAND:
        return 0
    return (WITHHELD_BAND - above) * 256 // (WITHHELD_BAND + 1)


def noise(n: int, cell_key: int, threshold: int) -> int:
    """The noise the table gives a shown count n with this cell key."""
    position = cell_key % NOISE_KEYS
    for value, share in noise_row(n, threshold):
        if position < share:
            return value
        position -= share
    raise AssertionError("the perturbation table's rows cover every key")


def protect(n: int, cell_key: int, threshold: int) -> int | None:
    """The published value of a count: 0 stays 0, 1..threshold-1 is withheld (None) and so is a
    count just above it when its key says so; anything else is n plus its noise, never below
    the threshold."""
    if n <= 0:
        return 0
    if (cell_key // NOISE_KEYS) % 256 < withheld_share(n, threshold):
        return None
    return n + noise(n, cell_key, threshold)


def withheld_up_to(threshold: int) -> int:
    """The largest count that may be withheld."""
    return threshold + WITHHELD_BAND - 1


# --- record keys ----------------------------------------------------------------------------


def record_key(secret: bytes, record: UUID, suffix: bytes = b"") -> int:
    """A record's key: HMAC-SHA256 of its id (16 bytes, plus a suffix for a record that is
    part of another, e.g. a person of a household) under the secret, its first two bytes."""
    digest = hmac.new(secret, record.bytes + suffix, hashlib.sha256).digest()
    return int.from_bytes(digest[:KEY_BYTES], "big")


def cell_key(record_keys: Sequence[int]) -> int:
    return sum(record_keys) % KEY_RANGE


def hmac_pads(secret: bytes) -> tuple[bytes, bytes]:
    """The inner and outer keys of HMAC-SHA256 (RFC 2104), so that the database computes the same
    record keys as `record_key`: sha256(outer || sha256(inner || message))."""
    if len(secret) > 64:
        secret = hashlib.sha256(secret).digest()
    block = secret.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


# --- figures derived from protected counts ------------------------------------------------


def share(part: int | None, whole: int | None, threshold: int) -> float | None:
    """A percentage of two published counts, to one decimal; withheld when either count is, or
    when the whole is below the threshold. Capped at 100."""
    if part is None or whole is None or whole < threshold:
        return None
    return min(100.0, round(100 * part / whole, 1))


def share_error_bound(whole: int, part_noise: int = MAX_NOISE) -> float:
    """The largest difference in percentage points between a share of published counts and the
    true share, for a published whole W: with s <= c the true counts and |d| the noise,
    |(s + d1)/W - s/c| = |d1·c - s·d2| / (c·W) <= (part_noise + MAX_NOISE) / W. The part's noise
    is MAX_NOISE for one count, twice that for a sum of two."""
    if whole <= 0:
        return 100.0
    return min(100.0, 100 * (part_noise + MAX_NOISE) / whole)


@dataclass(frozen=True)
class Quantile:
    value: float | None
    spread: float | None  # the largest possible error: the range of the values averaged


def protected_quantile(values: Sequence[float], q: float, threshold: int) -> Quantile:
    """A percentile no single record's value can be read from: the mean of the `threshold` values
    nearest in rank to the percentile's position, rounded to one decimal. The true percentile
    lies among those values, so the error is at most their range. Withheld below threshold."""
    n = len(values)
    if n < max(threshold, 1):
        return Quantile(None, None)
    ordered = sorted(values)
    width = min(n, max(threshold, 2))
    position = q * (n - 1)  # 0-based, as percentile_cont
    start = round(position - (width - 1) / 2)
    start = min(max(start, 0), n - width)
    window = ordered[start : start + width]  # it covers both neighbours of the position
    return Quantile(round(sum(window) / width, 1), window[-1] - window[0])
