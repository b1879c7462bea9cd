"""Point-in-time feature pipelines for persons and organisations (one code path for batch and one subject)."""

from features.pipelines._common import ORG_TYPES, PAYLOAD_KINDS, RECORD_INPUT_COLUMNS
from features.pipelines.enterprise import enterprise_features, legal_representatives
from features.pipelines.person import person_features

__all__ = [
    "ORG_TYPES",
    "PAYLOAD_KINDS",
    "RECORD_INPUT_COLUMNS",
    "enterprise_features",
    "legal_representatives",
    "person_features",
]
