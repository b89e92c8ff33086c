"""dbt models as Dagster assets; dbt tests as asset checks (error blocks, warn informs)."""

import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.dbt_setup import apply_dbt_env, dbt_project, ensure_manifest
from orchestration.resources import WarehouseResource

LAYERS = ("staging", "intermediate", "marts")

progress = logging.getLogger("orchestration.progress")


class ProductOpsTranslator(DagsterDbtTranslator):
    """Groups dbt assets by layer and marks who owns them."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            return spec
        fqn = props.get("fqn", [])
        group = next((layer for layer in LAYERS if layer in fqn), "seeds")
        return spec.replace_attributes(group_name=group, owners=["team:product-ops"])


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    dagster_dbt_translator=ProductOpsTranslator(),
    pool="duckdb",
)
def productops_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """Seeds, staging, intermediate and marts, built and tested by `dbt build`."""
    settings = warehouse.settings()
    apply_dbt_env(settings)
    progress.info("dbt build: seeds, staging, intermediate, marts and their tests")
    # Settings reach dbt through the environment (see dbt_env), not --vars:
    # changed vars would defeat dbt's partial parsing on every run.
    invocation = dbt.cli(["build"], context=context, raise_on_error=False)
    yield from invocation.stream()
    results = invocation.get_artifact("run_results.json")["results"]
    statuses = Counter(r["status"] for r in results)
    progress.info("dbt build: %s", ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())))
    for failed in (r for r in results if r["status"] in ("error", "fail")):
        progress.error(
            "dbt %s %s: %s", failed["status"], failed["unique_id"], (failed["message"] or "")[:300]
        )
    if not invocation.is_successful():
        raise dg.Failure("dbt build failed: " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())))
