package dev.agentcoordinator.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.engine.Json;
import dev.agentcoordinator.engine.ReloadNotices;
import dev.agentcoordinator.engine.Sql;
import dev.agentcoordinator.engine.WorkflowReload;
import org.apache.camel.Exchange;

import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.api.JsonResponse.respond;

/** GET /api/workflows, the loaded definitions and the versions kept, and POST /api/workflows/reload. */
final class WorkflowApiRoutes extends ApiRouteBuilder {
    private final WorkflowCatalog catalog;

    WorkflowApiRoutes(WorkflowCatalog catalog) {
        this.catalog = catalog;
    }

    @Override
    protected void configureResource() {
        api()
                .get("/workflows").description("the loaded workflow definitions, and the other versions kept for the executions that started on them")
                    .produces(JSON).to("direct:api.list-workflows")
                .post("/workflows/reload").description("loads the workflow folder again: new workflows start on their triggers, a"
                        + " workflow given a new version starts its new executions on it (those in flight end on theirs), one whose"
                        + " file is gone starts nothing more; 422 naming every problem, and nothing changes, when a file is wrong; once"
                        + " reloaded, the other coordinators on the broker and database reload theirs (other_coordinators: their answers)")
                    .produces(JSON).to("direct:api.reload-workflows");

        from("direct:api.list-workflows").routeId("api.list-workflows")
                .to(Sql.apiRows("executions-in-flight-by-version"))
                .process(e -> respond(e, 200, workflowsView(e.getMessage().getBody(List.class))));
        from("direct:api.reload-workflows").routeId("api.reload-workflows")
                .process(WorkflowApiRoutes::reloadWorkflows);
    }

    /**
     * POST /api/workflows/reload: what changed, or every problem of the folder (then nothing changed); once this
     * coordinator reloaded, the other coordinators on its broker and database reload theirs too ({@link ReloadNotices}).
     */
    private static void reloadWorkflows(Exchange exchange) {
        WorkflowReload reload = exchange.getContext().getRegistry().findSingleByType(WorkflowReload.class);
        ReloadNotices others = exchange.getContext().getRegistry().findSingleByType(ReloadNotices.class);
        if (reload == null || others == null) {
            respond(exchange, 503, Json.object().put("error", "this coordinator is still starting: reload its workflows once it is ready").toString());
            return;
        }
        WorkflowReload.Answer answer = reload.reloadAnswering();
        if (answer.reloaded()) {
            answer.body().set("other_coordinators", others.tellOthers());
        }
        respond(exchange, answer.status(), answer.body().toString());
    }

    /** {@code inFlight}: executions running or compensating, by workflow and version (executions-in-flight-by-version.sql). */
    private String workflowsView(List<Map<String, Object>> inFlight) {
        Map<String, Object> view = new java.util.LinkedHashMap<>();
        // each with the version it runs as, also when its file names none (1)
        view.put("workflows", catalog.all().stream().map(workflow -> {
            ObjectNode definition = Json.MAPPER.valueToTree(workflow);
            return definition.has("version") ? definition : definition.put("version", workflow.versionOrDefault());
        }).toList());
        view.put("kept_versions", keptVersions(inFlight));
        return Json.write(view);
    }

    /**
     * The versions kept for the executions on them, each with how many still run or compensate: one with none goes at
     * the next retirement sweeps (coordinator.versions.retire-period-ms).
     */
    private List<ObjectNode> keptVersions(List<Map<String, Object>> inFlight) {
        Map<String, Long> running = new java.util.HashMap<>();
        inFlight.forEach(row -> running.put(row.get("workflow_id") + "@" + row.get("workflow_version"), ((Number) row.get("in_flight")).longValue()));
        return catalog.retained().stream()
                .sorted(java.util.Comparator.comparing(WorkflowDefinition::id))
                .map(kept -> {
                    String workflowId = WorkflowCatalog.workflowIdOf(kept.id());
                    return Json.object().put("workflow_id", workflowId).put("version", kept.versionOrDefault())
                            .put("routes", "wf." + kept.id() + ".*")
                            .put("executions_in_flight", running.getOrDefault(workflowId + "@" + kept.versionOrDefault(), 0L));
                })
                .toList();
    }
}
