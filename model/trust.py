"""What the model knows of its own answers, fitted on photos beside the ones it learned from.

Three things a visitor's own photo needs before the AI may name a car in front of strangers:

- **Honest confidence**: one temperature for the logits (Guo et al. 2017), fitted on the
  validation split by the smallest negative log-likelihood, so that "70 %" is right about 70 %
  of the time. Measured as the expected calibration error (15 bins) before and after.
- **Is it a car at all?** The photo's pooled features after stage 5 of the network
  (``model.classifier.DETECTOR_INPUT``) against the training photos': the Mahalanobis distance
  to the nearest class centre, one covariance shared by all classes (Lee et al. 2018), in the
  space of the features' first ``DIMENSIONS`` principal components. A photo farther than
  ``CAR_ACCEPTANCE`` of the validation photos is not a car (or not one the AI knows anything
  of).
- **Sure enough to name it?** The calibrated top-1 probability from which the exact car is
  named (chosen on the validation split for ``NAMED_PRECISION``), and the summed probability of
  a make from which "maybe a BMW" is said instead.

Plain numpy: ``fit`` makes a ``Trust`` from arrays, ``model/export.py`` puts it into the
served graph (the same formulas, tested to agree), ``python -m model.trust`` fits it for an
existing export and writes it as a new version.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

DIMENSIONS = 128
CAR_ACCEPTANCE = 0.995  # validation photos the car detector lets through: its threshold
NAMED_PRECISION = 0.98  # named exact cars right on the validation split (the test asks 97 %)
MAKE_PRECISION = 0.90  # "maybe a <make>" right on the validation split
BINS = 15
RIDGE = 1e-3  # added to the shared covariance's diagonal, relative to its mean variance


@dataclass(frozen=True)
class Trust:
    temperature: float
    feature_mean: np.ndarray  # [features]
    projection: np.ndarray  # [features, d]: principal components, then whitening
    centres: np.ndarray  # [classes, d]: each class's centre, projected
    car_threshold: float  # the largest squared distance a car photo has
    sure_threshold: float  # calibrated top-1 probability from which the exact car is named
    make_threshold: float  # summed make probability from which the make is named

    def save(self, path: Path) -> None:
        """As an asset of the export (``TRUST_ASSET``): a re-export keeps it."""
        np.savez(path, **{f.name: np.asarray(getattr(self, f.name)) for f in fields(self)})

    @classmethod
    def load(cls, path: Path) -> Trust:
        with np.load(path) as saved:
            return cls(**{f.name: (saved[f.name] if saved[f.name].ndim else float(saved[f.name]))
                          for f in fields(cls)})

    def figures(self) -> dict[str, float]:
        """The scalars, for metrics.json."""
        return {"temperature": round(self.temperature, 4),
                "car_threshold": round(self.car_threshold, 2),
                "sure_threshold": round(self.sure_threshold, 4),
                "make_threshold": round(self.make_threshold, 4)}


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """Logits up to a constant per photo (all temperature scaling needs)."""
    return np.log(np.clip(probabilities, 1e-12, 1.0))


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    scaled = logits / temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(scaled).sum(axis=1))
    return float((log_z - scaled[np.arange(len(labels)), labels]).mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature with the smallest NLL: a grid over 0.05-20, then golden-section."""
    grid = np.exp(np.linspace(np.log(0.05), np.log(20), 80))
    best = int(np.argmin([nll(logits, labels, t) for t in grid]))
    low, high = np.log(grid[max(best - 1, 0)]), np.log(grid[min(best + 1, len(grid) - 1)])
    ratio = (np.sqrt(5) - 1) / 2
    for _ in range(40):
        a, b = high - ratio * (high - low), low + ratio * (high - low)
        if nll(logits, labels, np.exp(a)) < nll(logits, labels, np.exp(b)):
            high = b
        else:
            low = a
    return float(np.exp((low + high) / 2))


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray,
                               bins: int = BINS) -> float:
    """Sum over equal-width confidence bins of |accuracy − confidence|, weighted by the bin's
    share of the photos."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            error += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(error)


def fit_detector(features: np.ndarray, labels: np.ndarray, classes: int,
                 dimensions: int = DIMENSIONS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(feature mean, projection, class centres): squared distances in the projected space are
    Mahalanobis distances with the covariance the classes share."""
    features = features.astype(np.float64)
    mean = features.mean(axis=0)
    centred = features - mean
    d = max(1, min(dimensions, len(features) - 1, features.shape[1]))
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:d].T  # [features, d]
    z = centred @ components
    centres = np.zeros((classes, d))
    for c in np.unique(labels):
        centres[c] = z[labels == c].mean(axis=0)
    within = z - centres[labels]
    covariance = within.T @ within / max(1, len(z) - 1)
    covariance += np.eye(d) * RIDGE * max(float(np.trace(covariance)) / d, 1e-12)
    whitening = np.linalg.cholesky(np.linalg.inv(covariance))  # S⁻¹ = L Lᵀ
    projection = components @ whitening
    present = np.zeros(classes, bool)
    present[np.unique(labels)] = True
    centres = centres @ whitening
    centres[~present] = 1e6  # a class without training photos is never the nearest
    return mean.astype(np.float32), projection.astype(np.float32), centres.astype(np.float32)


def distances(features: np.ndarray, mean: np.ndarray, projection: np.ndarray,
              centres: np.ndarray) -> np.ndarray:
    """Squared distance of each photo to its nearest class centre (the graph's formula)."""
    z = (features - mean) @ projection
    d = (z * z).sum(1, keepdims=True) - 2 * z @ centres.T + (centres * centres).sum(1)[None]
    return np.maximum(d.min(axis=1), 0.0)


def threshold_for_precision(scores: np.ndarray, correct: np.ndarray,
                            precision: float) -> float:
    """The smallest score from which the answers at or above it are right at least
    ``precision`` of the time (1.0 if none: nothing is named)."""
    order = np.argsort(-scores)
    right = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    good = np.flatnonzero(right >= precision)
    if not len(good):
        return 1.0
    # the most answers that still keep the precision, then the score of the last of them
    return float(scores[order][good.max()])


def make_probabilities(probabilities: np.ndarray, make_of: np.ndarray) -> np.ndarray:
    """[photos, makes]: each make's summed probability (``make_of[class]`` its make)."""
    out = np.zeros((len(probabilities), int(make_of.max()) + 1))
    np.add.at(out.T, make_of, probabilities.T)
    return out


def fit(train_features: np.ndarray, train_labels: np.ndarray, val_features: np.ndarray,
        val_logits: np.ndarray, val_labels: np.ndarray, make_of: np.ndarray) -> Trust:
    """Everything from the training photos' features and the validation photos' answers."""
    temperature = fit_temperature(val_logits, val_labels)
    mean, projection, centres = fit_detector(train_features, train_labels, len(make_of))
    car = float(np.quantile(distances(val_features, mean, projection, centres), CAR_ACCEPTANCE))
    calibrated = softmax(val_logits / temperature)
    top1 = calibrated.argmax(axis=1)
    sure = threshold_for_precision(calibrated.max(axis=1), top1 == val_labels, NAMED_PRECISION)
    # the make is said only where the exact car is not: chosen among those photos
    unnamed = calibrated.max(axis=1) < sure
    makes = make_probabilities(calibrated[unnamed], make_of)
    make = threshold_for_precision(makes.max(axis=1), makes.argmax(axis=1)
                                   == make_of[val_labels[unnamed]], MAKE_PRECISION)
    return Trust(temperature, mean, projection, centres, car, sure, make)


def report(trust: Trust, features: np.ndarray, logits: np.ndarray, labels: np.ndarray,
           make_of: np.ndarray) -> dict:
    """What the fit does on photos it was not fitted on (the test split: the game's pool)."""
    before = softmax(logits)
    after = softmax(logits / trust.temperature)
    top1 = after.argmax(axis=1)
    named = after.max(axis=1) >= trust.sure_threshold
    makes = make_probabilities(after, make_of)
    maybe = ~named & (makes.max(axis=1) >= trust.make_threshold)
    accepted = distances(features, trust.feature_mean, trust.projection, trust.centres) \
        <= trust.car_threshold

    def share(mask: np.ndarray) -> float:
        return round(float(mask.mean()), 4) if len(mask) else 0.0

    return {
        **trust.figures(),
        "photos": len(labels),
        "ece_before": round(expected_calibration_error(before, labels), 4),
        "ece_after": round(expected_calibration_error(after, labels), 4),
        "named_coverage": share(named),
        "named_precision": share((top1 == labels)[named]),
        "make_named_coverage": share(maybe),
        "make_named_precision": share((makes.argmax(axis=1) == make_of[labels])[maybe]),
        "cars_accepted": share(accepted),
        "median_right_score_before": round(float(np.median(
            before.max(axis=1)[before.argmax(axis=1) == labels])), 4),
        "median_right_score_after": round(float(np.median(after.max(axis=1)[top1 == labels])),
                                          4),
    }
