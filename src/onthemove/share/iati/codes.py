"""The IATI 2.03 codes the writer uses, written out once as enums.

Every value here is a code of an official IATI codelist (named in ``CODELIST``). The lists themselves are not in
the repository: ``tests/acceptance/test_iati_standard.py`` checks each member against the codelist XML in
``../shared/standards/iati/codelists-2.03`` when it is there, so a typo or a withdrawn code fails a test.

Only the codes the writer emits are here; a code not in these enums cannot reach an attribute that the writer
fills from one of them.
"""

from __future__ import annotations

from enum import StrEnum

VERSION = "2.03"  # codelist Version
DEFAULT_LANGUAGE = "en"  # codelist Language


class ActivityStatus(StrEnum):
    PIPELINE = "1"
    IMPLEMENTATION = "2"
    COMPLETION = "3"
    POST_COMPLETION = "4"
    CANCELLED = "5"
    SUSPENDED = "6"


class ActivityDateType(StrEnum):
    PLANNED_START = "1"
    ACTUAL_START = "2"
    PLANNED_END = "3"
    ACTUAL_END = "4"


class ActivityScope(StrEnum):
    GLOBAL = "1"
    REGIONAL = "2"
    MULTI_NATIONAL = "3"
    NATIONAL = "4"
    SUBNATIONAL_MULTI_FIRST_LEVEL = "5"
    SUBNATIONAL_SINGLE_FIRST_LEVEL = "6"
    SUBNATIONAL_SINGLE_SECOND_LEVEL = "7"
    SINGLE_LOCATION = "8"


class DescriptionType(StrEnum):
    GENERAL = "1"
    OBJECTIVES = "2"
    TARGET_GROUPS = "3"
    OTHER = "4"


class OrganisationRole(StrEnum):
    FUNDING = "1"
    ACCOUNTABLE = "2"
    EXTENDING = "3"
    IMPLEMENTING = "4"


class OrganisationType(StrEnum):
    GOVERNMENT = "10"
    LOCAL_GOVERNMENT = "11"
    OTHER_PUBLIC_SECTOR = "15"
    INTERNATIONAL_NGO = "21"
    NATIONAL_NGO = "22"
    REGIONAL_NGO = "23"
    PARTNER_COUNTRY_BASED_NGO = "24"
    PUBLIC_PRIVATE_PARTNERSHIP = "30"
    MULTILATERAL = "40"
    FOUNDATION = "60"
    PRIVATE_SECTOR = "70"
    ACADEMIC_TRAINING_RESEARCH = "80"
    OTHER = "90"


class RegionVocabulary(StrEnum):
    OECD_DAC = "1"
    UN = "2"
    REPORTING_ORGANISATION = "99"


class SectorVocabulary(StrEnum):
    DAC_5 = "1"  # OECD DAC CRS purpose codes (5 digit), codelist Sector
    DAC_3 = "2"  # OECD DAC CRS purpose codes (3 digit), codelist SectorCategory
    SDG_GOAL = "7"
    SDG_TARGET = "8"
    SDG_INDICATOR = "9"
    HUMANITARIAN_GLOBAL_CLUSTERS = "10"  # IASC global clusters
    REPORTING_ORGANISATION = "99"


class DacSector(StrEnum):
    """DAC 5-digit purpose codes (vocabulary 1) that fit work with displaced people."""

    BASIC_NUTRITION = "12240"
    BASIC_DRINKING_WATER_AND_SANITATION = "14030"
    SOCIAL_WELFARE_SERVICES = "16010"
    MATERIAL_RELIEF = "72010"
    EMERGENCY_FOOD_AID = "72040"
    RELIEF_COORDINATION_PROTECTION = "72050"
    RECONSTRUCTION_RELIEF = "73010"
    DISASTER_PREVENTION_PREPAREDNESS = "74010"
    REFUGEES_IN_DONOR_COUNTRIES = "93010"


class HumanitarianScopeType(StrEnum):
    EMERGENCY = "1"
    APPEAL = "2"


class HumanitarianScopeVocabulary(StrEnum):
    GLIDE = "1-2"  # codes like "DR-2022-000123-SOM"; goes with type EMERGENCY
    HUMANITARIAN_PLAN = "2-1"  # OCHA plan codes like "HSOM22"; goes with type APPEAL
    REPORTING_ORGANISATION = "99"


class GeographicVocabulary(StrEnum):
    """Gazetteers a location-id or administrative code may come from. 2.03 has none for OCHA P-codes."""

    GAUL = "A1"
    SALB = "A2"
    GADM = "A3"
    ISO_COUNTRY = "A4"  # ISO 3166-1 alpha-2
    GEONAMES = "G1"
    OPENSTREETMAP = "G2"


class GeographicLocationReach(StrEnum):
    ACTIVITY = "1"
    INTENDED_BENEFICIARIES = "2"


class GeographicExactness(StrEnum):
    EXACT = "1"
    APPROXIMATE = "2"


class GeographicLocationClass(StrEnum):
    ADMINISTRATIVE_REGION = "1"
    POPULATED_PLACE = "2"
    STRUCTURE = "3"
    OTHER_TOPOGRAPHICAL_FEATURE = "4"


class BudgetType(StrEnum):
    ORIGINAL = "1"
    REVISED = "2"


class BudgetStatus(StrEnum):
    INDICATIVE = "1"
    COMMITTED = "2"


class ResultType(StrEnum):
    OUTPUT = "1"
    OUTCOME = "2"
    IMPACT = "3"
    OTHER = "9"


class ResultVocabulary(StrEnum):
    REPORTING_ORGANISATION = "99"


class IndicatorMeasure(StrEnum):
    UNIT = "1"
    PERCENTAGE = "2"
    NOMINAL = "3"
    ORDINAL = "4"
    QUALITATIVE = "5"


class IndicatorVocabulary(StrEnum):
    WHO_REGISTRY = "1"
    SPHERE_HANDBOOK = "2"
    US_FOREIGN_ASSISTANCE_FRAMEWORK = "3"
    WORLD_BANK_WDI = "4"
    UN_MDG = "5"
    UNOCHA_HUMANITARIAN_RESPONSE_INDICATORS = "6"
    HIV_AIDS_INDICATOR_REGISTRY = "7"
    HIPSO = "8"
    REPORTING_ORGANISATION = "99"


# each enum and the official codelist its values come from (the file name without .xml)
CODELIST: dict[type[StrEnum], str] = {
    ActivityStatus: "ActivityStatus",
    ActivityDateType: "ActivityDateType",
    ActivityScope: "ActivityScope",
    DescriptionType: "DescriptionType",
    OrganisationRole: "OrganisationRole",
    OrganisationType: "OrganisationType",
    RegionVocabulary: "RegionVocabulary",
    SectorVocabulary: "SectorVocabulary",
    DacSector: "Sector",
    HumanitarianScopeType: "HumanitarianScopeType",
    HumanitarianScopeVocabulary: "HumanitarianScopeVocabulary",
    GeographicVocabulary: "GeographicVocabulary",
    GeographicLocationReach: "GeographicLocationReach",
    GeographicExactness: "GeographicExactness",
    GeographicLocationClass: "GeographicLocationClass",
    BudgetType: "BudgetType",
    BudgetStatus: "BudgetStatus",
    ResultType: "ResultType",
    ResultVocabulary: "ResultVocabulary",
    IndicatorMeasure: "IndicatorMeasure",
    IndicatorVocabulary: "IndicatorVocabulary",
}
# single codes that are not enums, by codelist
SINGLE_CODES: dict[str, str] = {"Version": VERSION, "Language": DEFAULT_LANGUAGE}
