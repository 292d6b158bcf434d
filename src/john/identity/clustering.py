"""Clustering of linked person records into learners, under staff constraints."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class ConstrainedClusters:
    """Union-find over record ids that refuses unions breaking a cannot-link pair.

    Edges are added strongest first, so a staff rejection outranks any chain of
    weaker links that would otherwise join the two records.
    """

    def __init__(
        self, record_ids: Iterable[int], cannot_link: Iterable[tuple[int, int]]
    ):
        self._parent: dict[int, int] = {}
        self._members: dict[int, set[int]] = {}
        self._forbidden: dict[int, set[int]] = {}
        for record_id in record_ids:
            self._parent[record_id] = record_id
            self._members[record_id] = {record_id}
            self._forbidden[record_id] = set()
        for a, b in cannot_link:
            if a in self._parent and b in self._parent:
                self._forbidden[a].add(b)
                self._forbidden[b].add(a)

    def find(self, record_id: int) -> int:
        """Return the root of the cluster holding ``record_id``."""
        root = record_id
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[record_id] != root:
            self._parent[record_id], record_id = root, self._parent[record_id]
        return root

    def union(self, a: int, b: int) -> bool:
        """Join the clusters of ``a`` and ``b``; return False if forbidden or absent."""
        if a not in self._parent or b not in self._parent:
            return False
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return True
        if self._forbidden[root_a] & self._members[root_b]:
            return False
        if len(self._members[root_a]) < len(self._members[root_b]):
            root_a, root_b = root_b, root_a
        self._parent[root_b] = root_a
        self._members[root_a] |= self._members.pop(root_b)
        self._forbidden[root_a] |= self._forbidden.pop(root_b)
        return True

    def clusters(self) -> list[set[int]]:
        """Return the clusters, each a set of record ids."""
        return [set(members) for members in self._members.values()]


def cluster_records(
    record_ids: Iterable[int],
    edge_groups: Sequence[Iterable[tuple[int, int]]],
    cannot_link: Iterable[tuple[int, int]],
) -> ConstrainedClusters:
    """Cluster records over groups of edges, strongest group first."""
    clusters = ConstrainedClusters(record_ids, cannot_link)
    for group in edge_groups:
        for a, b in group:
            clusters.union(a, b)
    return clusters
