/* Fuzz target for dbt manifests (catalog/dbt.c): fuzz_load's harness with the input written
 * to manifest.json, so catalog_load() reads it as a manifest when it names a
 * dbt_schema_version, and as a descriptor otherwise; what loads is read back the same way. */
#define FUZZ_INPUT_NAME "manifest.json"
#include "fuzz_load.c"
