"""The rating-scale engine: definitions as data, pure scoring and change classification."""

from shared_core.rules.progress import Progress, ProgressStatus, ProgressThresholds, classify_progress
from shared_core.rules.scoring import ScoreResult, score
from shared_core.scales.loader import CatalogueError, ScaleCatalogue, load_catalogue
from shared_core.scales.model import (
    AlertRule,
    AnswerOption,
    Band,
    Confidence,
    ItemDefinition,
    Licence,
    Proration,
    Provenance,
    RiskRule,
    ScaleDefinition,
    SkipRule,
    Subscale,
)

__all__ = [
    "AlertRule",
    "AnswerOption",
    "Band",
    "CatalogueError",
    "Confidence",
    "ItemDefinition",
    "Licence",
    "Progress",
    "ProgressStatus",
    "ProgressThresholds",
    "Proration",
    "Provenance",
    "RiskRule",
    "ScaleCatalogue",
    "ScaleDefinition",
    "ScoreResult",
    "SkipRule",
    "Subscale",
    "classify_progress",
    "load_catalogue",
    "score",
]
