"""A worked example: two activities of a fictional response to displacement in Somalia, with results.

Used by ``onthemove iati example``, the tests and docs/iati.md. Organisations, identifiers, the GLIDE number and
the plan code are made up (in their real formats; ``XM`` is IATI's prefix for no country); the P-codes are
Somalia's (SO2401 Baydhaba/Baidoa, SO2801 Kismaayo).
"""

from __future__ import annotations

import datetime as dt

from onthemove.share.iati.codes import (
    ActivityDateType,
    ActivityScope,
    ActivityStatus,
    DacSector,
    GeographicExactness,
    GeographicLocationClass,
    GeographicLocationReach,
    GeographicVocabulary,
    HumanitarianScopeType,
    HumanitarianScopeVocabulary,
    IndicatorMeasure,
    IndicatorVocabulary,
    OrganisationRole,
    OrganisationType,
    ResultType,
    SectorVocabulary,
)
from onthemove.share.iati.model import (
    Activity,
    ActivityDate,
    Administrative,
    Baseline,
    Budget,
    Dimension,
    HumanitarianScope,
    Indicator,
    IndicatorReference,
    Location,
    Narrative,
    Organisation,
    ParticipatingOrg,
    Period,
    PeriodValue,
    Point,
    RecipientCountry,
    Result,
    Sector,
)

GENERATED = dt.datetime(2024, 7, 1, 9, 30, tzinfo=dt.UTC)


def example_activities() -> list[Activity]:
    """Two activities: shelter for IDPs in Baidoa (with a disaggregated result) and displacement tracking."""
    reporter = Organisation("XM-EXAMPLE-NGO", "Example Relief", OrganisationType.INTERNATIONAL_NGO)
    donor = Organisation("XM-EXAMPLE-FUND", "Example Humanitarian Fund", OrganisationType.MULTILATERAL)
    partner = Organisation(None, "Baidoa Community Action", OrganisationType.NATIONAL_NGO)
    drought = HumanitarianScope(
        HumanitarianScopeType.EMERGENCY,
        HumanitarianScopeVocabulary.GLIDE,
        "DR-2022-000123-SOM",
        "Somalia drought 2022-2024",
    )
    plan = HumanitarianScope(HumanitarianScopeType.APPEAL, HumanitarianScopeVocabulary.HUMANITARIAN_PLAN, "HSOM24")
    baidoa = Location(
        ref="SO2401",
        name="Baidoa",
        reach=GeographicLocationReach.INTENDED_BENEFICIARIES,
        administrative=(Administrative(GeographicVocabulary.ISO_COUNTRY, "SO", 0),),
        point=Point(3.1136, 43.6498),
        exactness=GeographicExactness.APPROXIMATE,
        location_class=GeographicLocationClass.ADMINISTRATIVE_REGION,
        feature_designation="ADM2",
    )
    kismaayo = Location(
        ref="SO2801",
        name=(Narrative("Kismayo"), Narrative("Kismaayo", "so")),
        reach=GeographicLocationReach.INTENDED_BENEFICIARIES,
        point=Point(-0.3582, 42.5454),
        exactness=GeographicExactness.APPROXIMATE,
        location_class=GeographicLocationClass.ADMINISTRATIVE_REGION,
    )
    h1, h2 = dt.date(2024, 1, 1), dt.date(2024, 6, 30)
    shelter = Indicator(
        "IDPs who received emergency shelter kits",
        IndicatorMeasure.UNIT,
        description="People, counted once per household member.",
        ascending=True,
        aggregation_status=True,
        baselines=(Baseline(2023, 0, iso_date=dt.date(2023, 12, 31), locations=("SO2401",)),),
        periods=(
            Period(
                h1,
                h2,
                targets=(
                    PeriodValue(6000, locations=("SO2401",)),
                    PeriodValue(3200, locations=("SO2401",), dimensions=(Dimension("sex", "female"),)),
                    PeriodValue(2800, locations=("SO2401",), dimensions=(Dimension("sex", "male"),)),
                ),
                actuals=(
                    PeriodValue(5412, locations=("SO2401",), comment="Kits distributed in 14 sites."),
                    PeriodValue(2950, locations=("SO2401",), dimensions=(Dimension("sex", "female"),)),
                    PeriodValue(
                        2462, locations=("SO2401",), dimensions=(Dimension("sex", "male"), Dimension("age", "18+"))
                    ),
                ),
            ),
        ),
    )
    satisfied = Indicator(
        "Share of households satisfied with their shelter",
        IndicatorMeasure.PERCENTAGE,
        references=(IndicatorReference(IndicatorVocabulary.REPORTING_ORGANISATION, "SHL-2"),),
        baselines=(Baseline(2023, 41.5),),
        periods=(Period(h1, h2, targets=(PeriodValue(60),), actuals=(PeriodValue(57.25),)),),
    )
    activity_1 = Activity(
        identifier="XM-EXAMPLE-NGO-SHELTER-2024",
        reporting_org=reporter,
        title="Emergency shelter for drought-displaced people in Baidoa",
        description="Shelter kits and site improvements for internally displaced people arriving in Baidoa.",
        objectives="Every newly arrived displaced household has adequate shelter within two weeks.",
        status=ActivityStatus.IMPLEMENTATION,
        dates=(
            ActivityDate(ActivityDateType.PLANNED_START, h1),
            ActivityDate(ActivityDateType.ACTUAL_START, dt.date(2024, 1, 15)),
            ActivityDate(ActivityDateType.PLANNED_END, dt.date(2024, 12, 31)),
        ),
        participating_orgs=(
            ParticipatingOrg(donor, OrganisationRole.FUNDING),
            ParticipatingOrg(reporter, OrganisationRole.ACCOUNTABLE),
            ParticipatingOrg(partner, OrganisationRole.IMPLEMENTING),
        ),
        scope=ActivityScope.SUBNATIONAL_SINGLE_SECOND_LEVEL,
        recipient_countries=(RecipientCountry("SO", 100),),
        locations=(baidoa,),
        sectors=(
            Sector(DacSector.MATERIAL_RELIEF, percentage=80),
            Sector(DacSector.RELIEF_COORDINATION_PROTECTION, percentage=20),
            Sector("3", SectorVocabulary.HUMANITARIAN_GLOBAL_CLUSTERS, name="Emergency Shelter and NFI"),
        ),
        humanitarian=True,
        humanitarian_scopes=(drought, plan),
        budgets=(Budget(h1, dt.date(2024, 12, 31), 1250000, h1),),
        results=(
            Result(
                ResultType.OUTPUT,
                "Displaced households sheltered",
                (shelter, satisfied),
                description="Emergency shelter delivered to new arrivals.",
                aggregation_status=True,
            ),
        ),
        default_currency="USD",
        last_updated=dt.datetime(2024, 7, 1, 9, 0, tzinfo=dt.UTC),
    )
    tracked = Indicator(
        "Monthly displacement reports published",
        IndicatorMeasure.UNIT,
        periods=(
            Period(dt.date(2024, 1, 1), dt.date(2024, 3, 31), (PeriodValue(3, ("SO2801",)),), (PeriodValue(3),)),
            Period(dt.date(2024, 4, 1), dt.date(2024, 6, 30), (PeriodValue(3),), (PeriodValue(2, ("SO2801",)),)),
        ),
    )
    quality = Indicator(
        "Partners' view of the data's usefulness",
        IndicatorMeasure.QUALITATIVE,
        periods=(Period(h1, h2, actuals=(PeriodValue(comment="Used for the clusters' monthly allocation."),)),),
    )
    activity_2 = Activity(
        identifier="XM-EXAMPLE-NGO-TRACKING-2024",
        reporting_org=reporter,
        title=(Narrative("Displacement tracking in Lower Juba"), Narrative("Suivi des déplacements", "fr")),
        description="Monthly counts of arrivals and departures by district, shared with the clusters.",
        status=ActivityStatus.IMPLEMENTATION,
        dates=(ActivityDate(ActivityDateType.ACTUAL_START, dt.date(2024, 1, 1)),),
        participating_orgs=(ParticipatingOrg(reporter, OrganisationRole.IMPLEMENTING),),
        recipient_countries=(RecipientCountry("SO"),),
        locations=(kismaayo,),
        sectors=(Sector(DacSector.RELIEF_COORDINATION_PROTECTION),),
        humanitarian_scopes=(drought,),
        results=(Result(ResultType.OUTCOME, "Decisions informed by displacement data", (tracked, quality)),),
    )
    return [activity_1, activity_2]
