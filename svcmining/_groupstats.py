"""Per-group statistics of float values keyed by small integer codes.

Quantiles are numpy's default (linear interpolation between the two order statistics
around ``q * (n - 1)``), so they equal ``np.quantile`` on each group's values. They are
computed without sorting every value: the values are grouped by one stable (radix) sort
of the integer keys, and each group's order statistics are picked with
``np.partition``, which is linear in the group's size. Only when there are many small
groups (where a Python-level loop over groups would cost more) are all values sorted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "group_medians",
    "group_quantiles",
    "group_slices",
    "group_stats",
    "position_medians",
]

# Above this many non-empty groups, sorting all values beats one partition per group.
_MAX_LOOPED_GROUPS = 2048


def group_slices(key: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order, starts, sizes): ``order`` groups positions by key, stable within a key."""
    small = np.uint16 if n_groups <= (1 << 16) else np.int64
    order = np.argsort(np.asarray(key).astype(small, copy=False), kind="stable")
    sizes = np.bincount(key, minlength=n_groups)
    starts = np.zeros(n_groups, dtype=np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    return order, starts, sizes


def group_medians(key: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Median per group as pandas and ``np.median`` compute it (no NaN among ``values``).

    The mean of the two middle values, ``(a + b) / 2``, for groups of even size. That
    may differ in the last bit from the linear 0.5-quantile (``a + (b - a) / 2``), which
    matters where medians are compared with each other (the stage order of activities).
    """
    (lo,), _ = group_quantiles(key, values, n_groups, (0.0,), _middle=True)
    return lo


def position_medians(key: np.ndarray, starts: np.ndarray, n_groups: int) -> np.ndarray:
    """Median relative position in its case of each group's events (an activity's stage).

    Events of a case are contiguous, ``starts`` the position of each case's first event;
    an event's relative position is ``pos / max(length - 1, 1)`` (0 for a case of one
    event). The result is ``group_medians`` of those positions, bit for bit (the same
    divisions, the same ``(a + b) / 2``), found by counting: a relative position takes one
    of few values (one per place in a case of each length), so counting events per group
    and place and walking the places in order of their value finds each group's two
    middle values without sorting the events. Falls back to :func:`group_medians` when
    cases are too long for a small table.
    """
    n_events = len(key)
    if n_events == 0:
        return np.full(n_groups, np.nan)
    sizes = np.diff(np.append(starts, n_events))
    width = int(sizes.max()) + 1
    places = width * width  # (length, pos) -> length * width + pos
    if n_groups * places > 4 * len(key) + (1 << 16):
        pos = np.arange(n_events) - np.repeat(starts, sizes)
        length = np.repeat(sizes, sizes)
        return group_medians(key, pos / np.maximum(length - 1, 1), n_groups)
    # key * places + length * width + (i - start), with the per-case part repeated once
    slot = np.repeat(sizes.astype(np.int64) * width - starts, sizes)
    slot += np.arange(n_events)
    slot += np.asarray(key, dtype=np.int64) * places
    counts = np.bincount(slot, minlength=n_groups * places).reshape(n_groups, places)
    used = np.flatnonzero(counts.any(axis=0))
    lengths, at = np.divmod(used, width)
    value = at / np.maximum(lengths - 1, 1)  # the relative position of each used place
    order = np.argsort(value, kind="stable")
    value = value[order]
    cum = np.cumsum(counts[:, used[order]], axis=1)  # events per group up to each value
    n = cum[:, -1]
    lo = (cum <= ((n - 1) // 2)[:, None]).sum(axis=1)  # index of the middle values
    hi = (cum <= (n // 2)[:, None]).sum(axis=1)
    top = len(value) - 1
    out = (value[np.minimum(lo, top)] + value[np.minimum(hi, top)]) / 2
    return np.where(n > 0, out, np.nan)


def group_quantiles(
    key: np.ndarray,
    values: np.ndarray,
    n_groups: int,
    qs: Sequence[float],
    *,
    _middle: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles ``qs`` (rows) and max per group of ``values`` (no NaN among them).

    Returns ``(quantiles, max)``: an array of shape ``(len(qs), n_groups)`` and one of
    ``n_groups``; groups without values get NaN.
    """
    quant = np.full((len(qs), n_groups), np.nan)
    top = np.full(n_groups, np.nan)
    if len(key) == 0:
        return quant, top
    order, starts, sizes = group_slices(key, n_groups)
    v = values[order]
    has = np.flatnonzero(sizes)
    pos = np.asarray(qs, dtype=float)[:, None] * (sizes[has] - 1)  # (len(qs), groups)
    if _middle:  # the two middle values (the same one for odd sizes)
        pos = np.asarray((sizes[has] - 1) // 2, dtype=float)[None, :]
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, sizes[has] - 1)
    if _middle:
        hi = np.asarray(sizes[has] // 2, dtype=np.int64)[None, :]
    frac = pos - lo
    if len(has) > _MAX_LOOPED_GROUPS:  # many groups: sort all values within groups
        o = np.lexsort((v, np.repeat(np.arange(n_groups), sizes)))
        v = v[o]
        base = starts[has]
        v_lo, v_hi = v[base + lo], v[base + hi]
        top[has] = v[base + sizes[has] - 1]
    else:
        v_lo = np.empty_like(pos)
        v_hi = np.empty_like(pos)
        for j, g in enumerate(has):  # one partition per group (<= _MAX_LOOPED_GROUPS)
            seg = v[starts[g] : starts[g] + sizes[g]]
            kth = np.unique(np.r_[lo[:, j], hi[:, j], sizes[g] - 1])
            part = np.partition(seg, kth)
            v_lo[:, j], v_hi[:, j] = part[lo[:, j]], part[hi[:, j]]
            top[g] = part[sizes[g] - 1]
    quant[:, has] = (v_lo + v_hi) / 2 if _middle else v_lo + (v_hi - v_lo) * frac
    return quant, top


def group_stats(
    key: np.ndarray, values: np.ndarray, n_groups: int, prefix: str
) -> dict[str, np.ndarray]:
    """``{prefix}_mean/p50/p90/max_hours`` of ``values`` per integer group ``key``.

    NaN values are left out; groups without values get NaN.
    """
    values = np.asarray(values, dtype=float)
    ok = ~np.isnan(values)
    if not ok.all():
        key, values = key[ok], values[ok]
    size = np.bincount(key, minlength=n_groups)
    sums = np.bincount(key, weights=values, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(size > 0, sums / np.maximum(size, 1), np.nan)
    (p50, p90), top = group_quantiles(key, values, n_groups, (0.5, 0.9))
    return {
        f"{prefix}_mean_hours": mean,
        f"{prefix}_p50_hours": p50,
        f"{prefix}_p90_hours": p90,
        f"{prefix}_max_hours": top,
    }
