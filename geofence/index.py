"""The fence index: an STRtree over fence envelopes, queried for a whole batch of fixes at once.

Theory of operation. Each fix becomes a box of half-size (accuracy + margin + slack) metres; the
tree returns every (fix, fence) pair whose boxes overlap. A pair the tree does not return is
therefore more than accuracy + margin away from the fence: clearly outside. Each candidate pair is
then measured exactly, vectorised over all pairs:

- circles: distance from the fix to the centre in a metric frame at the pair's mid-latitude;
  excess = distance − radius − accuracy;
- polygons: the fence is projected once, at build time, into a metric frame at its centroid
  (projection.py states the error bound); excess = distance to the polygon − accuracy, and a fix in
  the polygon's interior is inside whatever its accuracy.

Membership rule (DESIGN.md, after Home Assistant's zone): inside when excess < 0, that is
distance − accuracy < radius (polygons buffered by accuracy); clearly outside when excess > margin
(50 m). In between is the hysteresis band that keeps a drifting parked car from flapping.

Entering asks more: the fix is contained when its whole accuracy circle lies inside the fence,
and the fence kind's entry depth further in (distance + accuracy <= radius − depth; polygons: an
interior point at least accuracy + depth from the boundary). Accuracy so shrinks a fence for
entering and widens it for staying, never the other way (home-assistant/core#48860).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from domain.ids import FenceId
from domain.vocabulary import FenceKind
from geofence.fence import Fence
from geofence.projection import metres_per_degree
from geofence.signals import DEFAULT_RULES, Rules

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# DESIGN.md: leaving needs distance − accuracy > radius + 50 m (fixes Traccar #3609 / #6019).
MARGIN_M: Final = 50.0
# Query boxes are widened by this much (and by _SLACK_REL) so a pair the tree misses is surely
# clearly outside despite the small difference between degree boxes and metric frames.
_SLACK_M: Final = 5.0
_SLACK_REL: Final = 0.01


@dataclass(frozen=True, slots=True, eq=False)
class Membership:
    """Candidate (fix, fence) pairs, sorted by fix, with the exact accuracy-aware verdicts."""

    position: Ints  # row in the batch
    fence: Ints  # row in FenceIndex.fences
    excess_m: Floats  # distance beyond the boundary minus accuracy; < 0 means inside
    inside: Bools
    clear_out: Bools
    contained: Bools  # the accuracy circle lies inside, at least the kind's entry depth deep
    offsets: Ints  # pairs of position i are offsets[i]:offsets[i + 1]

    def rows(self, i: int) -> slice:
        """The slice of pairs that belong to fix i of the batch."""
        return slice(int(self.offsets[i]), int(self.offsets[i + 1]))


@dataclass(frozen=True, slots=True, eq=False)
class FenceIndex:
    """Fences with their STRtree and metric frames; build a new one when the fence set changes."""

    fences: tuple[Fence, ...]
    row_of: dict[FenceId, int]
    margin_m: float
    _tree: shapely.STRtree
    _is_circle: Bools
    _lat0: Floats  # circle centre, or polygon frame reference
    _lon0: Floats
    _radius: Floats  # 0 for polygons
    _depth: Floats  # entry depth of the fence's kind, metres
    _kx: Floats  # polygon frame scales, metres per degree
    _ky: Floats
    _local: npt.NDArray[np.object_]  # polygons in their metric frame; None for circles
    _edges: npt.NDArray[np.object_]  # their boundaries (entry depth is measured from them)

    @classmethod
    def build(
        cls, fences: Sequence[Fence], *, margin_m: float = MARGIN_M, rules: Mapping[FenceKind, Rules] = DEFAULT_RULES
    ) -> "FenceIndex":
        """Index these fences (vectorised: envelopes, frames and projected polygons)."""
        fences = tuple(fences)
        n = len(fences)
        is_circle = np.fromiter((f.is_circle for f in fences), dtype=np.bool_, count=n)
        depth = np.fromiter((rules[f.kind].enter_depth_m for f in fences), dtype=np.float64, count=n)
        geoms = np.array([f.geometry for f in fences], dtype=object)
        radius = np.fromiter((f.radius_m or 0.0 for f in fences), dtype=np.float64, count=n)
        bounds = shapely.bounds(geoms) if n else np.empty((0, 4))
        centroids = shapely.centroid(geoms) if n else np.empty(0, dtype=object)
        lon0 = shapely.get_x(centroids) if n else np.empty(0)
        lat0 = shapely.get_y(centroids) if n else np.empty(0)
        kx, ky = metres_per_degree(lat0)
        # Circle envelopes: centre ± radius, widened a little for the curvature over the radius.
        grow = radius * (1.0 + _SLACK_REL) + _SLACK_M
        envelopes = shapely.box(
            bounds[:, 0] - grow / kx, bounds[:, 1] - grow / ky, bounds[:, 2] + grow / kx, bounds[:, 3] + grow / ky
        )
        local = np.full(n, None, dtype=object)
        for row in np.flatnonzero(~is_circle):
            local[row] = _to_frame(fences[row].geometry, lon0[row], lat0[row], kx[row], ky[row])
        if n:
            shapely.prepare(local[~is_circle])
        edges = np.full(n, None, dtype=object)
        edges[~is_circle] = shapely.boundary(local[~is_circle])
        if n:
            shapely.prepare(edges[~is_circle])  # the depth test of entry asks each fix inside
        return cls(
            fences=fences,
            row_of={f.fence_id: i for i, f in enumerate(fences)},
            margin_m=margin_m,
            _tree=shapely.STRtree(envelopes),
            _is_circle=is_circle,
            _lat0=lat0,
            _lon0=lon0,
            _radius=radius,
            _depth=depth,
            _kx=kx,
            _ky=ky,
            _local=local,
            _edges=edges,
        )

    def __len__(self) -> int:
        return len(self.fences)

    def candidates(self, lat: npt.ArrayLike, lon: npt.ArrayLike, accuracy_m: npt.ArrayLike) -> tuple[Ints, Ints]:
        """(fix rows, fence rows) whose envelopes come within accuracy + margin of each other."""
        la = np.asarray(lat, dtype=np.float64)
        lo = np.asarray(lon, dtype=np.float64)
        acc = np.nan_to_num(np.asarray(accuracy_m, dtype=np.float64), nan=0.0)
        if la.size == 0 or not self.fences:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        kx, ky = metres_per_degree(la)
        half = (acc + self.margin_m) * (1.0 + _SLACK_REL) + _SLACK_M
        boxes = shapely.box(lo - half / kx, la - half / ky, lo + half / kx, la + half / ky)
        pairs = self._tree.query(boxes)
        return pairs[0].astype(np.int64), pairs[1].astype(np.int64)

    def evaluate(self, lat: npt.ArrayLike, lon: npt.ArrayLike, accuracy_m: npt.ArrayLike) -> Membership:
        """Exact accuracy-aware membership for every candidate pair of a batch of fixes."""
        la = np.asarray(lat, dtype=np.float64)
        lo = np.asarray(lon, dtype=np.float64)
        acc = np.nan_to_num(np.asarray(accuracy_m, dtype=np.float64), nan=0.0)
        pos, fen = self.candidates(la, lo, acc)
        order = np.lexsort((fen, pos))
        pos, fen = pos[order], fen[order]
        inside, clear_out, contained, excess = self.measure(la[pos], lo[pos], acc[pos], fen)
        offsets = np.searchsorted(pos, np.arange(la.size + 1)).astype(np.int64)
        return Membership(pos, fen, excess, inside, clear_out, contained, offsets)

    def measure(
        self, lat: Floats, lon: Floats, accuracy_m: Floats, fence_rows: Ints
    ) -> tuple[Bools, Bools, Bools, Floats]:
        """(inside, clearly outside, contained, excess metres) for fix/fence pairs as parallel arrays
        (excess is infinite for a fix beyond a polygon's margin: not measured, clearly outside)."""
        fen = fence_rows
        excess = np.empty(fen.size, dtype=np.float64)
        interior = np.zeros(fen.size, dtype=np.bool_)
        contained = np.zeros(fen.size, dtype=np.bool_)
        circ = self._is_circle[fen]
        cf = fen[circ]
        kx, ky = metres_per_degree((lat[circ] + self._lat0[cf]) / 2.0)
        dist = np.hypot((lon[circ] - self._lon0[cf]) * kx, (lat[circ] - self._lat0[cf]) * ky)
        excess[circ] = dist - self._radius[cf] - accuracy_m[circ]
        contained[circ] = dist + accuracy_m[circ] <= self._radius[cf] - self._depth[cf]
        poly = ~circ
        pf = fen[poly]
        if pf.size:
            x = (lon[poly] - self._lon0[pf]) * self._kx[pf]
            y = (lat[poly] - self._lat0[pf]) * self._ky[pf]
            geoms = self._local[pf]
            points = shapely.points(x, y)
            within = shapely.contains_xy(geoms, x, y)
            interior[poly] = within
            # A point inside is at distance 0; only those outside need measuring (an outline has
            # thousands of vertices, and most fixes of a fleet lie well inside their region).
            # Outside, only those within accuracy + margin of the outline need their distance: the
            # rest are clearly outside, whatever the exact figure (kept as infinity).
            acc = accuracy_m[poly]
            gap = np.zeros(pf.size, dtype=np.float64)
            out = np.flatnonzero(~within)
            if out.size:
                near = shapely.dwithin(geoms[out], points[out], acc[out] + self.margin_m)
                gap[out[~near]] = np.inf
                gap[out[near]] = shapely.distance(geoms[out[near]], points[out[near]])
            excess[poly] = gap - acc
            # Contained: inside, and no edge within accuracy + depth (a bounded search, not a distance).
            deep = within.copy()
            if within.any():
                reach = acc[within] + self._depth[pf[within]]
                deep[within] = ~shapely.dwithin(self._edges[pf[within]], points[within], reach)
            contained[poly] = deep
        inside = interior | (excess < 0.0)
        clear_out = ~interior & (excess > self.margin_m)
        return inside, clear_out, contained, excess


def _to_frame(geometry: BaseGeometry, lon0: float, lat0: float, kx: float, ky: float) -> BaseGeometry:
    """The geometry in the metric frame centred at (lon0, lat0)."""
    coords = shapely.get_coordinates(geometry)
    local = np.column_stack(((coords[:, 0] - lon0) * kx, (coords[:, 1] - lat0) * ky))
    result: BaseGeometry = shapely.set_coordinates(shapely.transform(geometry, lambda c: c), local)
    return result
