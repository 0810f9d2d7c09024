#!/usr/bin/env bash
# Load the Somalia case study from ../shared/data into a store.
# Usage: examples/somalia/load.sh STORE     (a directory for DuckDB, or a postgresql:// URL)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="${SHARED_DATA:-$root/../shared/data}"
store="${1:?usage: $0 STORE}"
otm="${ONTHEMOVE:-$root/.venv/bin/onthemove}"
run() { "$otm" --store "$store" "$@"; }

run init
# COD-AB first: it is the country's operational gazetteer (74 districts of 2017). The global P-code
# list then adds only the codes the store lacks; codes already present keep their COD-AB names.
run places load-boundaries "$data/somalia/cod-ab/adm0_country"
run places load-boundaries "$data/somalia/cod-ab/adm1_regions"
run places load-boundaries "$data/somalia/cod-ab/adm2_districts"
run places load-pcodes "$data/global/pcodes/global_pcodes_adm1_adm2.csv" --country SOM
run places load-aliases "$here/aliases.csv"
run ingest "$data/somalia/prmn/som_unhcr_prmn_displacement_2016_2021.xlsx" --kind movements --mapping "$here/prmn.yaml"
run ingest "$data/somalia/sites/cccm_idp_site_master_list_2021-10-06.xlsx" --kind sites --mapping "$here/cccm_sites.yaml"
run ingest "$data/somalia/sites/reach_dsa_2021_sites_needs_matrix.xlsx" --kind site_assessments --mapping "$here/dsa_needs.yaml"
run ingest "$data/somalia/drivers/som_precipitation_monthly_1983_2022.csv" --kind driver_events --mapping "$here/rainfall.yaml"
run batches
