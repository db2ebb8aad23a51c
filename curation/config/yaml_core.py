"""YAML read with the 1.2 core schema's booleans: only ``true`` and ``false`` are booleans.

PyYAML follows YAML 1.1, where ``on``, ``off``, ``yes``, ``no``, ``y`` and ``n`` are booleans too, so
``dedup.clip: on`` (a choice among ``auto``, ``on`` and ``off``) arrived as ``True`` and was refused
as not one of the choices. Workflow files and ``--set`` values are read with this loader instead.
"""

import re
from typing import Any

import yaml


class CoreSchemaLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` whose plain scalars become booleans only when spelt true or false."""


_BOOL_TAG = "tag:yaml.org,2002:bool"
CoreSchemaLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
CoreSchemaLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=CoreSchemaLoader)
