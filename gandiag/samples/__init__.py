"""Sample evidence: generated-sample snapshots read, measured against the data, tabled per snapshot.

In: snapshot files (``samples.npz``, ``.npy``, image folders, the tutorial's
grid PNGs, precomputed features) and a real reference. Out: a
:class:`~gandiag.samples.table.SnapshotTable` of per-snapshot statistics that
the sample rules (GD3xx) read, plus the report's per-snapshot rows.

- :mod:`.read`, :mod:`.grids`: reading snapshots and references (grids cut into tiles);
- :mod:`.knn`, :mod:`.knn_approx`: k-nearest-neighbour radii and ball counts, exact and approximate;
- :mod:`.diversity`, :mod:`.ndb`, :mod:`.reference`: the statistics (precision, recall, density, coverage,
  near-duplicates, spread, NDB), each against its real-vs-real value at the same size;
- :mod:`.evidence`: finding the inputs beside a run and measuring every snapshot.
"""
