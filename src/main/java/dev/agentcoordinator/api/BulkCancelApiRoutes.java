package dev.agentcoordinator.api;

import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.engine.Sql;

/** POST /api/executions/cancel: many executions cancelled in one call, each by api.cancel-execution (see {@link BulkCancel}). */
final class BulkCancelApiRoutes extends ApiRouteBuilder {
    private final WorkflowCatalog catalog;

    BulkCancelApiRoutes(WorkflowCatalog catalog) {
        this.catalog = catalog;
    }

    @Override
    protected void configureResource() {
        api()
                .post("/executions/cancel").description("cancels many running executions, each as /executions/{id}/cancel does:"
                        + " those named ({\"execution_ids\": [...]}, up to 1000), or a workflow's running ones, oldest first"
                        + " ({\"workflow_id\", \"version\", \"limit\"}: of that version, up to limit (100, at most 1000) a call,"
                        + " \"more\" telling that others are left)")
                    .consumes(JSON).produces(JSON).to("direct:api.cancel-executions");

        from("direct:api.cancel-executions").routeId("api.cancel-executions")
                .process(BulkCancel::readRequest)
                .filter(header(BulkCancel.BY_WORKFLOW).isNotNull())
                    .to(Sql.apiRows("find-cancellable-executions"))
                    .process(BulkCancel::keepPage)
                    .process(e -> BulkCancel.warnOfAnUnknownWorkflow(e, catalog.all().stream().map(WorkflowDefinition::id).toList()))
                .end()
                // once one cancel's sends waited past the bound for a broker that blocks them, the others' are not tried
                .process(e -> e.setProperty(BoundedBrokerSend.GIVEN_UP_IN_THIS_CALL, new java.util.concurrent.atomic.AtomicBoolean()))
                .split(header(BulkCancel.EXECUTION_IDS), new BulkCancel.Outcomes())
                    .setProperty(BulkCancel.CANCELLING, body())
                    .setHeader("id", body())
                    .to("direct:api.cancel-execution")
                .end()
                .process(BulkCancel::respond);
    }
}
