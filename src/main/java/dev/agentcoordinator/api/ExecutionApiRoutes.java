package dev.agentcoordinator.api;

import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.engine.Headers;
import dev.agentcoordinator.engine.Sql;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.model.rest.RestParamType;

import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.api.JsonResponse.respond;
import static dev.agentcoordinator.api.RequestParameters.blankToNull;
import static dev.agentcoordinator.api.ListingFilters.EXECUTION_STATUSES;
import static dev.agentcoordinator.api.ListingFilters.LISTING_WARNING;

/** GET /api/executions/{id}, an execution with its steps and their attempts, and GET /api/executions, the listing. */
final class ExecutionApiRoutes extends ApiRouteBuilder {
    /** Header of GET /api/executions/{id}: whether the answer carries payloads and outputs ({@code ?outputs=false}: not). */
    static final String WITH_OUTPUTS = "withOutputs";
    private final WorkflowCatalog catalog;

    ExecutionApiRoutes(WorkflowCatalog catalog) {
        this.catalog = catalog;
    }

    @Override
    protected void configureResource() {
        api()
                .get("/executions/{id}").description("status of an execution and every step, with each step's attempts (spec: getExecutionStatus)")
                    .param().name("outputs").type(RestParamType.query).required(false).dataType("boolean").defaultValue("true")
                        .description("false: without the trigger payload, the result and each step's input, output and progress"
                                + " (a poll of an execution whose steps return megabytes)").endParam()
                    .produces(JSON).to("direct:api.get-execution")
                .get("/executions").description("executions, newest first; filters workflow_id, status; limit per page; after: the next of the page before")
                    .param().name("workflow_id").type(RestParamType.query).required(false).dataType("string")
                        .description("only executions of this workflow").endParam()
                    .param().name("status").type(RestParamType.query).required(false).dataType("string")
                        .allowableValues(EXECUTION_STATUSES).description("only executions with this status").endParam()
                    .param().name("limit").type(RestParamType.query).required(false).dataType("integer").defaultValue("50")
                        .description("executions per page, 1 to 1000").endParam()
                    .param().name("after").type(RestParamType.query).required(false).dataType("string")
                        .description("the \"next\" of the page before").endParam()
                    .produces(JSON).to("direct:api.list-executions");

        from("direct:api.get-execution").routeId("api.get-execution")
                .setHeader(Headers.EXECUTION_ID, header("id"))
                .process(ExecutionApiRoutes::withOutputsOrNot)
                .to(Sql.apiRow("get-execution"))
                .choice()
                    .when(body().isNull()).process(ExecutionApiRoutes::noSuchExecution)
                    .otherwise()
                        .setProperty("execution", body())
                        .to(Sql.apiRows("get-execution-steps"))
                        .setProperty("steps", body())
                        .to(Sql.apiRows("get-execution-attempts"))
                        .setProperty("attempts", body())
                        .to(Sql.apiRows("get-execution-ignored-replies"))
                        .process(e -> respond(e, 200, ExecutionViews.execution(e.getProperty("execution", Map.class),
                                e.getProperty("steps", List.class), e.getProperty("attempts", List.class), e.getMessage().getBody(List.class),
                                definitionOf(e.getProperty("execution", Map.class)), e.getMessage().getHeader(WITH_OUTPUTS, Boolean.class))))
                .end();

        from("direct:api.list-executions").routeId("api.list-executions")
                .process(ListingFilters::executions)
                .to(Sql.apiRows("list-executions"))
                .process(e -> respond(e, 200, ExecutionViews.page("executions", e.getMessage().getBody(List.class), e.getMessage().getHeader("limit", Integer.class),
                        e.getProperty(LISTING_WARNING, String.class))));
    }

    private static void withOutputsOrNot(Exchange exchange) {
        Message in = exchange.getMessage();
        String outputs = blankToNull(in.getHeader("outputs", String.class));
        if (outputs != null && !outputs.equals("true") && !outputs.equals("false")) {
            throw new IllegalArgumentException("outputs must be true or false, got \"" + outputs + "\"");
        }
        in.setHeader(WITH_OUTPUTS, !"false".equals(outputs));
    }

    /** The 404 of a request whose path names an execution ({@code id}) that does not exist. */
    static void noSuchExecution(Exchange exchange) {
        respond(exchange, 404, ExecutionViews.error("no execution " + exchange.getMessage().getHeader("id")));
    }

    /** The definition an execution runs on, when this coordinator has it (its steps' dependencies, for the view). */
    private WorkflowDefinition definitionOf(Map<String, Object> execution) {
        Object version = execution.get("workflow_version");
        return catalog.forVersion((String) execution.get("workflow_id"), version == null ? null : ((Number) version).intValue()).orElse(null);
    }
}
