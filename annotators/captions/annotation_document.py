"""An annotation document read into the classes generated from its schema.

The annotator writes the document as plain JSON data (``schemas/performance_annotation.json``);
readers that compute on it (the caption writer) take it as ``PerformanceAnnotation``, so a field
is an attribute the type checker knows instead of a string key. Decoding is by the declared types
(``curation.store.plain_codec``): a field the classes lack, or one missing, is an error that names
it rather than a ``KeyError`` deep in a reader.
"""

from typing import Any

from curation.store import plain_codec
from schemas.annotation_classes import PerformanceAnnotation


def read_annotation(document: dict[str, Any]) -> PerformanceAnnotation:
    """``document`` as ``PerformanceAnnotation``."""
    return plain_codec.decode(document, {}, PerformanceAnnotation)
