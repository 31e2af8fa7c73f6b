"""Statistics for agreement and intervals: bootstrap, correlation, ICC, Krippendorff's alpha, position effects."""

from __future__ import annotations

import math
import warnings
from typing import Any, Literal

# ---------------------------------------------------------------------------------------------- statistics

BOOTSTRAP_RESAMPLES = 2000


def icc_two_way_random(ratings) -> tuple[float, float]:
    """ICC(2,1) and ICC(2,k) of an n targets x k raters matrix with no missing values.

    Shrout & Fleiss (1979), "Intraclass correlations: uses in assessing rater reliability",
    Psychological Bulletin 86(2), 420-428, Case 2 (two-way random effects), from the ANOVA
    mean squares BMS (targets), JMS (raters) and EMS (residual):

        ICC(2,1) = (BMS - EMS) / (BMS + (k-1) EMS + k (JMS - EMS) / n)
        ICC(2,k) = (BMS - EMS) / (BMS + (JMS - EMS) / n)
    """
    import numpy as np

    ratings = np.asarray(ratings, dtype=float)
    n, k = ratings.shape
    grand = ratings.mean()
    ss_targets = k * ((ratings.mean(axis=1) - grand) ** 2).sum()
    ss_raters = n * ((ratings.mean(axis=0) - grand) ** 2).sum()
    ss_error = ((ratings - grand) ** 2).sum() - ss_targets - ss_raters
    bms, jms = ss_targets / (n - 1), ss_raters / (k - 1)
    ems = ss_error / ((n - 1) * (k - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        single = (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n)
        average = (bms - ems) / (bms + (jms - ems) / n)
    return float(single), float(average)


def finite_number(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def correlation(x, y, method: str, seed: int, resamples: int = BOOTSTRAP_RESAMPLES) -> dict[str, Any]:
    """Pearson or Spearman r, its p-value and a percentile bootstrap 95% CI over paired units.

    Resamples where r is undefined (a constant resample) are left out of the interval.
    """
    import numpy as np
    from scipy import stats

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"r": None, "p": None, "ci": None, "n": len(x), "note": "needs 3+ units and varying scores"}
    point = stats.pearsonr(x, y) if method == "pearson" else stats.spearmanr(x, y)

    def statistic(a, b, axis=-1):
        if method == "spearman":
            a, b = stats.rankdata(a, axis=axis), stats.rankdata(b, axis=axis)
        return stats.pearsonr(a, b, axis=axis).statistic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = stats.bootstrap(
            (x, y),
            statistic,
            paired=True,
            vectorized=True,
            n_resamples=resamples,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
        low, high = np.nanpercentile(result.bootstrap_distribution, [2.5, 97.5])
    return {
        "r": finite_number(point.statistic),
        "p": finite_number(point.pvalue),
        "ci": [finite_number(low), finite_number(high)],
        "n": len(x),
    }


def krippendorff_alpha(matrix, level: Literal["nominal", "ordinal", "interval", "ratio"]) -> float | None:
    """Krippendorff's alpha of a coders x units matrix (NaN = not rated), or None when undefined."""
    import krippendorff
    import numpy as np

    matrix = np.asarray(matrix, dtype=float)
    if matrix.shape[0] < 2 or not (np.sum(~np.isnan(matrix), axis=0) >= 2).any():
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return finite_number(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level))
    except (ValueError, ZeroDivisionError):
        return None


def position_effect(scores_by_block: dict[tuple[str, str], dict[int, int]], positions: int) -> dict[str, Any]:
    """Mean score by display position, and a test that position does not matter.

    Blocks are (annotator, item). Friedman's test over complete blocks when there are 3+ positions,
    otherwise Kruskal-Wallis over all scores.
    """
    import numpy as np
    from scipy import stats

    by_position = {
        position: [block[position] for block in scores_by_block.values() if position in block]
        for position in range(1, positions + 1)
    }
    means = {
        str(position): (float(np.mean(values)) if values else None)
        for position, values in by_position.items()
    }
    complete = [
        [block[p] for p in range(1, positions + 1)]
        for block in scores_by_block.values()
        if len(block) == positions
    ]
    test, p_value = None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if positions >= 3 and len(complete) >= 2:
                test, p_value = "friedman", stats.friedmanchisquare(*np.array(complete, dtype=float).T).pvalue
            elif positions >= 2 and all(by_position.values()):
                test, p_value = "kruskal", stats.kruskal(*by_position.values()).pvalue
        except ValueError:
            p_value = None
    return {"means": means, "test": test, "p": finite_number(p_value) if p_value is not None else None}


def bootstrap_mean_ci(
    values: list[float], *, resamples: int = 2000, seed: int = 0, confidence: float = 0.95
) -> tuple[float | None, float | None, float | None]:
    """Mean and percentile-bootstrap confidence interval (scipy.stats.bootstrap)."""
    import numpy as np

    if not values:
        return None, None, None
    mean = float(np.mean(values))
    if len(values) < 2 or len(set(values)) == 1:
        return mean, mean, mean
    from scipy.stats import bootstrap

    result = bootstrap(
        (np.asarray(values, dtype=float),),
        np.mean,
        n_resamples=resamples,
        confidence_level=confidence,
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    return mean, float(result.confidence_interval.low), float(result.confidence_interval.high)


def overall_correlations(human, judge, seed: int, resamples: int = BOOTSTRAP_RESAMPLES) -> dict[str, Any]:
    """Human-judge Pearson and Spearman across all dimensions, in two readings, each with a percentile
    bootstrap 95% CI that resamples units (rows of the units x dimensions matrices; NaN = missing):

        pooled              one coefficient over every (unit, dimension) pair with both scores
        mean_of_dimensions  the mean of the per-dimension coefficients (those defined: 3+ units, varying
                            scores), all recomputed on each resample

    Resamples where a reading is undefined are left out of its interval.
    """
    import numpy as np

    human, judge = np.asarray(human, dtype=float), np.asarray(judge, dtype=float)
    paired = ~np.isnan(human) & ~np.isnan(judge)
    units = np.flatnonzero(paired.any(axis=1))
    human, judge, paired = human[units], judge[units], paired[units]
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(units), size=(resamples, len(units))) if len(units) else None
    result: dict[str, Any] = {"units": len(units), "pooled": {}, "mean_of_dimensions": {}}
    for method in ("pearson", "spearman"):
        pooled = _masked_r(human.reshape(1, -1), judge.reshape(1, -1), paired.reshape(1, -1), method)[0]
        per_dimension = _masked_r(human.T, judge.T, paired.T, method)
        defined = int(np.sum(~np.isnan(per_dimension)))
        mean = float(np.nanmean(per_dimension)) if defined else math.nan
        pooled_ci = mean_ci = None
        if draws is not None:
            shape = (resamples, -1)
            h, j, m = human[draws], judge[draws], paired[draws]  # resamples x units x dimensions
            pooled_ci = _percentile_ci(
                _masked_r(h.reshape(shape), j.reshape(shape), m.reshape(shape), method)
            )
            per_resample = np.stack(
                [_masked_r(h[:, :, d], j[:, :, d], m[:, :, d], method) for d in range(human.shape[1])], axis=1
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mean_ci = _percentile_ci(np.nanmean(per_resample, axis=1))
        result["pooled"][method] = {
            "r": finite_number(pooled),
            "ci": pooled_ci if finite_number(pooled) is not None else None,
            "n": int(paired.sum()),
        }
        result["mean_of_dimensions"][method] = {
            "r": finite_number(mean),
            "ci": mean_ci if defined else None,
            "dimensions": defined,
        }
    return result


def _masked_r(x, y, mask, method: str):
    """Pearson (or Spearman: Pearson of average ranks) along the last axis over the masked entries;
    NaN where fewer than 3 pairs or a side does not vary."""
    import numpy as np
    from scipy import stats

    x, y = np.where(mask, x, np.nan), np.where(mask, y, np.nan)
    if method == "spearman":
        x = stats.rankdata(x, axis=-1, nan_policy="omit")
        y = stats.rankdata(y, axis=-1, nan_policy="omit")
    count = mask.sum(axis=-1)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        dx = x - np.nanmean(x, axis=-1, keepdims=True)
        dy = y - np.nanmean(y, axis=-1, keepdims=True)
        sxy, sxx, syy = (np.nansum(a * b, axis=-1) for a, b in ((dx, dy), (dx, dx), (dy, dy)))
        r = sxy / np.sqrt(sxx * syy)
    r = np.clip(r, -1.0, 1.0)
    return np.where((count >= 3) & (sxx > 1e-12) & (syy > 1e-12), r, np.nan)


def _percentile_ci(values) -> list[float | None] | None:
    import numpy as np

    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if not len(values):
        return None
    low, high = np.percentile(values, [2.5, 97.5])
    return [finite_number(low), finite_number(high)]


def sample_sd(values: list[float]) -> float | None:
    """The sample standard deviation (n - 1), or None below two values."""
    import statistics

    return statistics.stdev(values) if len(values) > 1 else None
