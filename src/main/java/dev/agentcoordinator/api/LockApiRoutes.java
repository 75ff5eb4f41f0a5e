package dev.agentcoordinator.api;

import dev.agentcoordinator.engine.Endpoints;
import dev.agentcoordinator.engine.Json;
import dev.agentcoordinator.engine.Sql;
import org.apache.camel.LoggingLevel;

import java.util.Map;

import static dev.agentcoordinator.api.JsonResponse.respond;

/** GET /api/locks, the lock holders, and DELETE /api/locks/{lock_id}, a lock freed by hand. */
final class LockApiRoutes extends ApiRouteBuilder {
    @Override
    protected void configureResource() {
        api()
                .get("/locks").description("current resource lock holders")
                    .produces(JSON).to("direct:api.list-locks")
                .delete("/locks/{lock_id}").description("frees a lock by hand (recorded in lock_events): one kept for an attempt a cancel"
                        + " cut off whose agent is known gone, or left by a holder that no longer runs; not one whose step runs (409)")
                    .produces(JSON).to("direct:api.release-lock");

        from("direct:api.list-locks").routeId("api.list-locks")
                .to(Sql.apiRow("list-locks"))
                .process(e -> respond(e, 200, Json.write(Json.object().set("locks", ExecutionViews.fromDatabase(e.getMessage().getBody(String.class))))));

        from("direct:api.release-lock").routeId("api.release-lock")
                .setHeader("lockId", header("lock_id"))
                .to(Sql.apiRow("release-lock-by-hand"))
                .choice()
                    .when(body().isNull())
                        .process(e -> respond(e, 404, ExecutionViews.error("no lock " + e.getMessage().getHeader("lock_id")
                                + " is held (GET /api/locks lists those that are)")))
                    .when(simple("${body[released]} == false"))
                        .process(e -> respond(e, 409, ExecutionViews.error("lock " + e.getMessage().getHeader("lock_id") + " is held by step "
                                + e.getMessage().getBody(Map.class).get("step_id") + " of execution " + e.getMessage().getBody(Map.class).get("execution_id")
                                + ", which runs: its agent works on the resource under it; cancel the execution first")))
                    .otherwise()
                        .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "lock ${body[resource_type]}/${body[resource_id]}"
                                + " of step ${body[step_id]} of execution ${body[execution_id]} released by hand (DELETE /api/locks)")
                        .process(e -> {
                            Map<?, ?> row = e.getMessage().getBody(Map.class);
                            respond(e, 200, Json.write(Json.object().put("lock_id", (String) row.get("lock_id"))
                                    .put("resource_type", (String) row.get("resource_type")).put("resource_id", (String) row.get("resource_id"))
                                    .put("execution_id", (String) row.get("execution_id")).put("step_id", (String) row.get("step_id"))
                                    .put("released", true)));
                        })
                .end();
    }
}
