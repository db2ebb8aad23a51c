"""A stored annotation document read back into the classes generated from its schema.

The annotator builds ``PerformanceAnnotation`` and stores its JSON document
(``schemas.performance_annotation.annotation_document``: a sample's ``annotation``, a VLM's
prompt); code that computes on a stored document (an endpoint answering a prompt, a reader of
samples) reads it back here, so a field is an attribute the type checker knows instead of a string
key. Decoding is by the declared types
(``curation.store.plain_codec``): a field the classes lack, or one missing, is an error that names
it rather than a ``KeyError`` deep in a reader.
"""

from typing import Any

from curation.store import plain_codec
from schemas.annotation_classes import PerformanceAnnotation


def read_annotation(document: dict[str, Any]) -> PerformanceAnnotation:
    """``document`` as ``PerformanceAnnotation``."""
    return plain_codec.decode(document, {}, PerformanceAnnotation)
