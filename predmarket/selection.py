"""Sets of joint outcomes as fast views into arrays laid out over an outcome space.

A market touches only the outcomes a trade is about. An event such as
``x3 == 1 & x7 == 0`` is a *box* (a cartesian product of state sets), and a box is a strided
numpy view of the joint array: summing or scaling it reads exactly the outcomes in the
event, with no mask scan and no gather. General events are split into a few disjoint boxes
by Shannon expansion over the variables they mention; events that would need many boxes
fall back to an array of flat indices.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

__all__ = ["BoxSelection", "IndexSelection", "Selection", "select"]

#: Above this many boxes an index array is faster than one view per box.
MAX_BOXES = 32
#: Below this joint size numpy's per-call overhead dominates: use index arrays.
SMALL_SPACE = 4096


class Selection(ABC):
    """A set of flat outcome positions over arrays of a fixed shape.

    Subclasses implement the few operations the market makers need, each touching only
    the selected positions.
    """

    size: int

    @abstractmethod
    def sum(self, flat: np.ndarray) -> float:
        """:math:`\\sum_{\\omega \\in E} a_\\omega`."""

    @abstractmethod
    def scale(self, flat: np.ndarray, factor: float) -> None:
        """In place: :math:`a_\\omega \\leftarrow f a_\\omega` for :math:`\\omega \\in E`."""

    @abstractmethod
    def add(self, flat: np.ndarray, value: float) -> None:
        """In place: :math:`a_\\omega \\leftarrow a_\\omega + v` for :math:`\\omega \\in E`."""

    @abstractmethod
    def min(self, flat: np.ndarray) -> float:
        """:math:`\\min_{\\omega \\in E} a_\\omega`."""

    @abstractmethod
    def values(self, flat: np.ndarray) -> np.ndarray:
        """The selected entries as a new 1-d array."""


class BoxSelection(Selection):
    """A disjoint union of boxes, each a tuple of per-axis indices (int or slice)."""

    __slots__ = ("boxes", "shape", "size")

    def __init__(self, shape: tuple[int, ...], boxes: list[tuple], size: int):
        self.shape = shape
        self.boxes = boxes
        self.size = size

    def _views(self, flat: np.ndarray):
        nd = flat.reshape(self.shape)
        return [nd[box] for box in self.boxes]

    def sum(self, flat):
        return float(sum(view.sum() for view in self._views(flat)))

    def scale(self, flat, factor):
        for view in self._views(flat):
            view *= factor

    def add(self, flat, value):
        for view in self._views(flat):
            view += value

    def min(self, flat):
        return float(min((view.min() for view in self._views(flat)), default=np.inf))

    def values(self, flat):
        views = self._views(flat)
        if not views:
            return np.empty(0, dtype=flat.dtype)
        return np.concatenate([np.ravel(view) for view in views])


class IndexSelection(Selection):
    """An explicit array of flat indices."""

    __slots__ = ("index", "size")

    def __init__(self, index: np.ndarray):
        self.index = index
        self.size = int(index.size)

    def sum(self, flat):
        return float(flat[self.index].sum())

    def scale(self, flat, factor):
        flat[self.index] *= factor

    def add(self, flat, value):
        flat[self.index] += value

    def min(self, flat):
        return float(flat[self.index].min())

    def values(self, flat):
        return flat[self.index]


def _boxes(table: np.ndarray, axes: tuple[int, ...], prefix: dict, out: list) -> bool:
    """Shannon-expand ``table`` (over ``axes``) into disjoint boxes; False if too many."""
    if not table.any():
        return True
    if table.all():
        out.append(dict(prefix))
        return len(out) <= MAX_BOXES
    axis, rest = axes[0], axes[1:]
    subs = [table[s] for s in range(table.shape[0])]
    if all(np.array_equal(subs[0], t) for t in subs[1:]):
        return _boxes(subs[0], rest, prefix, out)
    s = 0
    while s < len(subs):
        if subs[s].all():  # merge a run of fully-true states into one slice
            end = s
            while end + 1 < len(subs) and subs[end + 1].all():
                end += 1
            prefix[axis] = slice(s, end + 1) if end > s else s
            out.append(dict(prefix))
            if len(out) > MAX_BOXES:
                return False
            s = end + 1
            continue
        prefix[axis] = s
        if not _boxes(subs[s], rest, prefix, out):
            return False
        s += 1
    prefix.pop(axis, None)
    return True


def select(table: np.ndarray, axes: tuple[int, ...], shape: tuple[int, ...]) -> Selection:
    """Build the fastest :class:`Selection` for the event whose truth table is ``table``.

    Parameters
    ----------
    table : numpy.ndarray of bool
        Truth of the event over the states of the variables it mentions, one dimension per
        entry of ``axes`` (in increasing axis order).
    axes : tuple of int
        Axes of the joint that ``table`` ranges over.
    shape : tuple of int
        Shape of the joint.
    """
    size_full = int(np.prod(shape))
    count = int(table.sum()) * (size_full // max(int(np.prod(table.shape)), 1))
    if size_full > SMALL_SPACE:
        raw: list[dict] = []
        if _boxes(table, axes, {}, raw):
            # Fixed states become length-1 slices so that every box is a view, never a
            # scalar copy (an event can fix every variable).
            boxes = [tuple(_as_slice(b.get(ax, slice(None))) for ax in range(len(shape)))
                     for b in raw]
            return BoxSelection(shape, boxes, count)
    full = np.broadcast_to(_expand(table, axes, shape), shape)
    return IndexSelection(np.flatnonzero(full))


def _as_slice(index):
    return slice(index, index + 1) if isinstance(index, int) else index


def _expand(table: np.ndarray, axes: tuple[int, ...], shape: tuple[int, ...]) -> np.ndarray:
    """Reshape ``table`` so that it broadcasts against the full joint ``shape``."""
    full_shape = [1] * len(shape)
    for ax, n in zip(axes, table.shape):
        full_shape[ax] = n
    return table.reshape(full_shape)
