"""The busy-interval cliques that state rule 6 in the model: exactly the clashes, maximal."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st
from matching.engine.rules import busy_cliques

_spans = st.lists(
    st.tuples(st.integers(0, 60), st.integers(1, 12)).map(lambda t: (t[0], t[0] + t[1])),
    max_size=12,
)


def _clash(a: tuple[int, int], b: tuple[int, int], rest: int) -> bool:
    first, second = sorted((a, b))
    return second[0] < first[1] + rest


@given(_spans, st.integers(0, 10))
def test_cliques_cover_every_clash_and_only_clashes(
    spans: list[tuple[int, int]], rest: int
) -> None:
    cliques = busy_cliques([(s, e, i) for i, (s, e) in enumerate(spans)], rest)
    together = {frozenset(p) for c in cliques for p in itertools.combinations(c, 2)}
    for i, j in itertools.combinations(range(len(spans)), 2):
        assert (frozenset((i, j)) in together) == _clash(spans[i], spans[j], rest)


@given(_spans, st.integers(0, 10))
def test_cliques_are_maximal_and_distinct(spans: list[tuple[int, int]], rest: int) -> None:
    cliques = [set(c) for c in busy_cliques([(s, e, i) for i, (s, e) in enumerate(spans)], rest)]
    for a, b in itertools.permutations(range(len(cliques)), 2):
        assert not cliques[a] <= cliques[b]
    for clique in cliques:
        outside = set(range(len(spans))) - clique
        assert not any(all(_clash(spans[o], spans[m], rest) for m in clique) for o in outside)
