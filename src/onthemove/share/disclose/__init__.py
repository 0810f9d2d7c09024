"""Disclosure control before anything leaves: microdata (k-anonymity, l-diversity, re-identification risk)
and tables of counts (small-cell and complementary suppression). ``docs/disclosure.md`` has the formulas.

- ``hierarchy``: generalisation hierarchies (ARX/anjana CSV, intervals, prefixes, suppression only)
- ``spec``: the YAML spec of a dataset (quasi-identifiers, sensitive attributes, k, l, cap, ceiling)
- ``groups``: equivalence classes and what makes one unsafe
- ``lattice``: the search for the generalisation of least loss
- ``loss``: information loss metrics (LM, precision, non-uniform entropy, discernibility)
- ``risk``: individual and global re-identification risk
- ``microdata``: ``check`` and ``apply``
- ``tables``: small-cell and complementary suppression with its LP audit
- ``publish``: the gate public exports go through
"""

from onthemove.share.disclose.hierarchy import DisclosureError, Hierarchy, read_csv_hierarchy
from onthemove.share.disclose.microdata import ApplyResult, CheckReport, apply, check
from onthemove.share.disclose.publish import public_aggregate
from onthemove.share.disclose.spec import Spec, load_spec, read_data, spec_from_dict
from onthemove.share.disclose.tables import TableSuppression, suppress_table

__all__ = [
    "ApplyResult",
    "CheckReport",
    "DisclosureError",
    "Hierarchy",
    "Spec",
    "TableSuppression",
    "apply",
    "check",
    "load_spec",
    "public_aggregate",
    "read_csv_hierarchy",
    "read_data",
    "spec_from_dict",
    "suppress_table",
]
