"""IATI 2.03 publishing: activities with their results, written as files that validate against the official XSD.

``model`` holds what a file says (frozen dataclasses), ``codes`` the codelist codes the writer uses, ``write``
turns activities into an ``iati-activities`` file, and ``validate`` checks files against the XSD (found through
the ``iati_schemas`` setting; never shipped with onthemove) and, optionally, against the codelists.
See docs/iati.md.
"""

from onthemove.share.iati.validate import SchemasMissing, Verdict, find_schemas, validate_bytes, validate_file
from onthemove.share.iati.write import build, to_bytes, write_activities

__all__ = [
    "SchemasMissing",
    "Verdict",
    "build",
    "find_schemas",
    "to_bytes",
    "validate_bytes",
    "validate_file",
    "write_activities",
]
