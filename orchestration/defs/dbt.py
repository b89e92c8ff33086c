"""dbt models as Dagster assets; dbt tests as asset checks (error blocks, warn informs)."""

import logging
import os
from collections import Counter
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration import build_inputs
from orchestration.dbt_artefacts import build_target, prune, seed_partial_parse
from orchestration.dbt_setup import apply_dbt_env, dbt_project, ensure_manifest
from orchestration.defs.notifications import send_pending_alerts
from orchestration.defs.ship import SHIPPED_KEY
from orchestration.engine import engine_for
from orchestration.resources import WarehouseResource

LAYERS = ("staging", "intermediate", "marts")

progress = logging.getLogger("orchestration.progress")


class ProductOpsTranslator(DagsterDbtTranslator):
    """Groups dbt assets by layer and says who owns them and what they are.

    dagster-dbt already gives each model its YAML description (plus its SQL),
    the column schema (names, descriptions, and types where a contract declares
    them), the table name and the kinds dbt + duckdb. This adds the layer as
    group and tag, the owner, and the materialization as a third kind. Seeds,
    the organisation's reference CSVs, sit with the other inputs in `sources`.
    Raw tables (dbt sources) are defined by the source assets under the same
    keys, so their specs are left alone.
    """

    OWNER = "team:product-ops"

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            return spec
        # dbt reads the raw layer on the engine: only once the gated batch is shipped there.
        spec = spec.merge_attributes(deps=[SHIPPED_KEY])
        if props["resource_type"] == "seed":
            layer, kind = "sources", "seed"
            description = (
                f"{props.get('description') or 'Reference data.'}\n\n"
                f"The organisation edits it as `{props['name']}.csv` in `PRODUCTOPS_SEEDS_DIR`; "
                "`dbt build` loads it."
            )
        else:
            fqn = props.get("fqn", [])
            layer = next((name for name in LAYERS if name in fqn), "sources")
            kind = props.get("config", {}).get("materialized") or "model"
            description = spec.description
        return spec.replace_attributes(
            group_name=layer,
            owners=[self.OWNER],
            description=description,
            tags={**spec.tags, "layer": layer},
        ).merge_attributes(kinds={kind})

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetCheckSpec | None:
        """dbt tests as checks, each saying what it tests and whether it blocks."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        test = manifest["nodes"][unique_id]
        generic = test.get("test_metadata") or {}
        column = (generic.get("kwargs") or {}).get("column_name") or test.get("column_name")
        if generic:
            what = f"dbt test `{generic.get('name')}`" + (f" on `{column}`" if column else "")
        else:
            what = f"dbt data test `{test['name']}` ({test.get('original_file_path', '')})"
        severity = str(test.get("config", {}).get("severity") or "error").lower()
        effect = "a failure blocks everything downstream" if spec.blocking else "a failure only warns"
        description = f"{what}. Severity {severity}: {effect}."
        if test.get("description"):
            description = f"{test['description']}\n\n{description}"
        return dg.AssetCheckSpec(
            name=spec.name,
            asset=spec.asset_key,
            description=description,
            additional_deps=spec.additional_deps,
            metadata=spec.metadata,
            blocking=spec.blocking,
        )


def dbt_test_counts(results: list[dict[str, Any]]) -> dict[str, int]:
    """dbt tests by outcome, as the run record keeps them: passed, failed, warned."""
    statuses = Counter(r["status"] for r in results if r["unique_id"].startswith("test."))
    return {
        "passed": statuses["pass"],
        "failed": statuses["fail"] + statuses["error"],
        "warned": statuses["warn"],
    }


def build_tally(results: list[dict[str, Any]]) -> str:
    """`48 models and 6 seeds built, 207 tests passed`: the one count of a build, from dbt's
    own run results (Dagster sees fewer tests: a singular test over several models, or
    over none, is no asset check)."""
    by_type: dict[str, Counter] = {}
    for result in results:
        by_type.setdefault(result["unique_id"].split(".")[0], Counter())[result["status"]] += 1
    models, seeds, tests = (by_type.get(kind, Counter()) for kind in ("model", "seed", "test"))
    tally = f"{models['success']} models and {seeds['success']} seeds built, {tests['pass']} tests passed"
    problems = [
        f"{count} {label}"
        for count, label in (
            (tests["fail"] + tests["error"], "tests failed"),
            (tests["warn"], "tests warned"),
            (models["error"] + seeds["error"], "models failed"),
            (sum(c["skipped"] for c in (models, seeds, tests)), "skipped"),
        )
        if count
    ]
    return ", ".join([tally, *problems])


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    dagster_dbt_translator=ProductOpsTranslator(),
    pool="duckdb",
)
def productops_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """Seeds, staging, intermediate and marts, built and tested by `dbt build`."""
    settings = warehouse.settings()
    engine = engine_for(settings)
    apply_dbt_env(settings)
    if _nothing_new(context, warehouse, settings):
        return
    if engine.dbt_env is not None:
        os.environ.update(engine.dbt_env(settings))
    progress.debug(
        "dbt build --target %s: seeds, staging, intermediate, marts and their tests", engine.dbt_target
    )
    # Settings reach dbt through the environment (see dbt_env), not --vars:
    # changed vars would defeat dbt's partial parsing on every run.
    # Unit tests check the SQL, not the data: they run in CI (`make test`),
    # not in every production build, as dbt recommends.
    # Artefacts under the warehouse folder, the newest few kept (dbt_artefacts.py).
    target = build_target(settings.warehouse, context.run.run_id)
    seed_partial_parse(settings.warehouse, target)  # dbt's own checks decide what to re-parse
    invocation = dbt.cli(
        ["build", "--target", engine.dbt_target, "--exclude-resource-type", "unit_test"],
        context=context,
        raise_on_error=False,
        target_path=target,
    )
    yield from invocation.stream()
    prune(settings.warehouse)
    results = invocation.get_artifact("run_results.json")["results"]
    statuses = Counter(r["status"] for r in results)
    progress.debug("dbt build: %s", ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())))
    # `dbt_tests` rides along for the CLI's run record (status shows the same count).
    progress.info("[dbt] done: %s", build_tally(results), extra={"dbt_tests": dbt_test_counts(results)})
    for failed in (r for r in results if r["status"] in ("error", "fail")):
        progress.error(
            "dbt %s %s: %s", failed["status"], failed["unique_id"], (failed["message"] or "")[:300]
        )
    if not invocation.is_successful():
        raise dg.Failure("dbt build failed: " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())))


def _nothing_new(context: dg.AssetExecutionContext, warehouse: WarehouseResource, settings) -> bool:
    """Whether this build would give the published marts again; records what it reads either way.

    Yielding no materialization skips publish too (dagster-dbt's outputs are skippable), so a
    run with nothing new ends after its gates. The reason rides along for the run record.
    """
    with warehouse.connect() as con:
        inputs = build_inputs.compute(con, settings, dbt_project.manifest_path)
        build_inputs.record_build(con, context.run.run_id, inputs)
        reason, changed = build_inputs.nothing_new_reason(con, inputs, settings)
    if reason and context.run.tags.get(build_inputs.REBUILD_TAG) != "1":
        progress.info("[dbt] nothing new: %s; dbt and publish skipped", reason, extra={"nothing_new": reason})
        context.log.info(f"nothing new: {reason}")
        # The alerts step is skipped with publish: what an earlier run failed to send goes now.
        send_pending_alerts(context, warehouse)
        return True
    why = "asked for with --rebuild" if reason else "changed since the published build: " + ", ".join(changed)
    progress.info("[dbt] %s", why)
    return False
