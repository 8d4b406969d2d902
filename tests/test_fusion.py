"""Fusion of dense and BM25 candidates: RRF against hand-computed values, the adaptive keyword weight's behaviour."""

from __future__ import annotations

import numpy as np
import pytest

from rag.fusion import (
    W_MAX,
    Candidates,
    adaptive,
    convex,
    fuse,
    keyword_coverage,
    keyword_weight,
    minmax,
    ranks,
    rrf,
)


def cands(dense, bm25, ceiling=10.0) -> Candidates:
    return Candidates(
        [f"c{i}" for i in range(len(dense))], np.array(dense, np.float32), np.array(bm25, np.float32), ceiling
    )


def test_ranks_are_one_based_best_first():
    np.testing.assert_array_equal(ranks(np.array([0.2, 0.9, 0.5])), [3, 1, 2])


def test_rrf_matches_hand_computation():
    c = cands([0.9, 0.8, 0.1], [0.0, 2.0, 5.0])
    # dense ranks 1,2,3; bm25 ranks: c2 first, c1 second, c0 has no keyword match
    expected = [1 / 61, 1 / 62 + 1 / 62, 1 / 63 + 1 / 61]
    np.testing.assert_allclose(rrf(c), expected)
    np.testing.assert_allclose(rrf(c, 1.0, 0.5), [1 / 61, 1 / 62 + 0.5 / 62, 1 / 63 + 0.5 / 61])


def test_minmax_handles_constant_and_regular_input():
    np.testing.assert_allclose(minmax(np.array([2.0, 4.0, 3.0])), [0.0, 1.0, 0.5])
    np.testing.assert_allclose(minmax(np.array([3.0, 3.0])), [1.0, 1.0])


def test_convex_weight_zero_is_dense_order_and_one_is_bm25_order():
    c = cands([0.9, 0.5, 0.1], [1.0, 3.0, 8.0])
    assert list(np.argsort(-convex(c, 0.0))) == [0, 1, 2]
    assert list(np.argsort(-convex(c, 1.0))) == [2, 1, 0]


def test_keyword_coverage_is_best_score_over_ceiling():
    assert keyword_coverage(cands([0.5, 0.4], [2.0, 4.0], ceiling=8.0)) == pytest.approx(0.5)
    assert keyword_coverage(cands([0.5], [0.0], ceiling=0.0)) == 0.0


def test_keyword_weight_grows_with_coverage_and_is_capped():
    weights = [keyword_weight(cands([0.5, 0.4], [s, 0.1], ceiling=10.0)) for s in (0.5, 2.0, 4.0, 8.0, 10.0)]
    assert weights == sorted(weights)
    assert weights[0] < weights[-1]
    assert all(0.0 <= w <= W_MAX for w in weights)


def test_adaptive_follows_dense_when_no_keyword_matches():
    c = cands([0.3, 0.9, 0.6], [0.0, 0.0, 0.0], ceiling=0.0)
    assert list(np.argsort(-adaptive(c))) == [1, 2, 0]


def test_adaptive_lets_a_full_keyword_match_win_a_close_call():
    # c1 is slightly behind on dense but contains every query term; c0 contains almost none
    c = cands([0.62, 0.60, 0.20], [0.5, 10.0, 0.2], ceiling=10.0)
    assert int(np.argmax(adaptive(c))) == 1


def test_fuse_dispatches_and_handles_empty():
    c = cands([0.9, 0.1], [0.0, 3.0])
    np.testing.assert_allclose(fuse(c, "rrf"), rrf(c))
    np.testing.assert_allclose(fuse(c), adaptive(c))
    assert fuse(cands([], []), "adaptive").shape == (0,)
