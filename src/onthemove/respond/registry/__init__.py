"""The registry of households that receive assistance: personal data, protected (docs/registry.md).

- ``keys``: the encryption and pseudonymisation keys, kept outside the store
- ``crypto``: AES-256-GCM fields, keyed pseudonyms, blind indexes, normalisation
- ``model``: purposes, consent methods, vulnerabilities, age bands, errors
- ``parse``: reading Kobo/ODK exports and CSVs into records, cell parsers
- ``importer``: ``register``: households with members and consent, all or nothing
- ``distribute``: ``distribute``: distribution lists, no household paid twice
- ``records``: reading a household, pseudonymised or identified (purpose, retention, audit)
- ``erase``: withdrawal of consent, purge past retention
- ``export``: pseudonymised exports for partners
- ``analysis``: 3W/4W and the gap between needs and assistance, with small-cell protection
- ``rotate``: re-encryption under a new key
- ``batches``: the registry's batches and their rollback
"""

from onthemove.respond.registry.analysis import ResultTable, gap, who_what_where
from onthemove.respond.registry.distribute import DistributionResult, distribute
from onthemove.respond.registry.erase import Purge, purge, withdraw
from onthemove.respond.registry.export import Export, export_pseudonymised
from onthemove.respond.registry.importer import ImportResult, register
from onthemove.respond.registry.keys import RegistryKeyError, RegistryKeys, load_keys, write_key_file
from onthemove.respond.registry.model import PURPOSES, Problem, Refused, RegistryError
from onthemove.respond.registry.records import household, identify
from onthemove.respond.registry.rotate import rotate_key

__all__ = [
    "PURPOSES",
    "DistributionResult",
    "Export",
    "ImportResult",
    "Problem",
    "Purge",
    "Refused",
    "RegistryError",
    "RegistryKeyError",
    "RegistryKeys",
    "ResultTable",
    "distribute",
    "export_pseudonymised",
    "gap",
    "household",
    "identify",
    "load_keys",
    "purge",
    "register",
    "rotate_key",
    "who_what_where",
    "withdraw",
    "write_key_file",
]
