package dev.agentcoordinator.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.engine.Endpoints;
import dev.agentcoordinator.engine.EventDecoder;
import dev.agentcoordinator.engine.IgnoredFields;
import dev.agentcoordinator.engine.Json;
import dev.agentcoordinator.engine.Sql;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.apache.camel.model.rest.RestParamType;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.agentcoordinator.api.JsonResponse.respond;
import static dev.agentcoordinator.api.ListingFilters.LISTING_WARNING;

/** POST /api/events, GET /api/events (the listing) and GET /api/events/{id}. */
final class EventApiRoutes extends ApiRouteBuilder {
    private final WorkflowCatalog catalog;
    private final BrokerSendGuard brokerSendGuard;
    /** coordinator.input.max-json-tokens: a posted event of more tokens is a 413. */
    private final int maxTokens;
    /** The send to agent.events, bounded while the broker holds it back (coordinator.health.timeout-ms). */
    private final BoundedBrokerSend sends;

    EventApiRoutes(WorkflowCatalog catalog, BrokerSendGuard brokerSendGuard, int maxTokens, BoundedBrokerSend sends) {
        this.catalog = catalog;
        this.brokerSendGuard = brokerSendGuard;
        this.maxTokens = maxTokens;
        this.sends = sends;
    }

    @Override
    protected void configureResource() throws Exception {
        api()
                .post("/events").description("puts an event on agent.events; answers 202 with its event_id")
                    .consumes(JSON).produces(JSON).to("direct:api.post-event")
                .get("/events").description("events received, newest first, each with the execution it started and its status;"
                        + " filter type; limit per page; after: the next of the page before")
                    .param().name("type").type(RestParamType.query).required(false).dataType("string")
                        .description("only events of this type").endParam()
                    .param().name("limit").type(RestParamType.query).required(false).dataType("integer").defaultValue("50")
                        .description("events per page, 1 to 1000").endParam()
                    .param().name("after").type(RestParamType.query).required(false).dataType("string")
                        .description("the \"next\" of the page before").endParam()
                    .produces(JSON).to("direct:api.list-events")
                .get("/events/{id}").description("an event as the coordinator received it: execution_id names the execution it started"
                        + " (null when no workflow starts on its type); 404 until it has been taken off agent.events;"
                        + " dead_letters: the events of this event_id it refused")
                    .produces(JSON).to("direct:api.get-event");

        from("direct:api.list-events").routeId("api.list-events")
                .process(ListingFilters::events)
                .to(Sql.apiRows("list-events"))
                .process(e -> respond(e, 200, ExecutionViews.page("events", e.getMessage().getBody(List.class),
                        e.getMessage().getHeader("limit", Integer.class), e.getProperty(LISTING_WARNING, String.class))));

        Processor send = sends.sendTo("jms:queue:" + Endpoints.EVENTS_QUEUE + "?exchangePattern=InOnly",
                "post the event again with this event_id later (a repeated event_id starts nothing twice)");
        from("direct:api.post-event").routeId("api.post-event")
                .process(brokerSendGuard)
                .process(this::stampEvent)
                .process(send)
                .process(e -> {
                    ObjectNode accepted = Json.object().put("event_id", e.getProperty("eventId", String.class));
                    if (e.getProperty("eventWarning") != null) {
                        accepted.put("warning", e.getProperty("eventWarning", String.class));
                    }
                    respond(e, 202, Json.write(accepted));
                });

        from("direct:api.get-event").routeId("api.get-event")
                .setHeader("eventId", header("id"))
                .to(Sql.apiRow("get-agent-event"))
                .process(DeadLetterAnswers::eventWithItsDeadLetters);
    }

    /**
     * "no loaded workflow starts on …" for an event type no loaded workflow is triggered by, with the trigger it may
     * stand for: such an event is stored and starts nothing, which is right for an event nobody chains and a typo
     * for one meant to start a workflow (this coordinator's workflows; another release beside it may have others).
     */
    private java.util.Optional<String> startsNothing(String type) {
        if (catalog.byTrigger(type).isPresent()) {
            return java.util.Optional.empty();
        }
        Map<String, String> triggers = new java.util.HashMap<>();
        catalog.all().forEach(workflow -> triggers.put(workflow.trigger().toLowerCase(java.util.Locale.ROOT), workflow.trigger()));
        String closest = dev.agentcoordinator.definition.Spelling.closest(type, triggers.keySet(), 2).map(triggers::get)
                .map(trigger -> ": did you mean \"" + trigger + "\"?").orElse("");
        return java.util.Optional.of("no loaded workflow starts on \"" + type + "\": the event is stored and starts nothing" + closest);
    }

    /** Checks the event and gives it an event_id when it has none, so the caller can follow it. */
    private void stampEvent(Exchange exchange) {
        Message in = exchange.getMessage();
        Utf8Body.decode(in);
        JsonNode event = EventDecoder.parse(in.getBody(String.class), maxTokens);
        List<String> warnings = new java.util.ArrayList<>();
        // before the stamp, so that an "eventId" is told to stand for the event_id the event lacked
        IgnoredFields.EVENT.describe(event).ifPresent(ignored -> warnings.add(ignored.text()));
        startsNothing(event.get("type").asText()).ifPresent(warnings::add);
        if (!warnings.isEmpty()) {
            exchange.setProperty("eventWarning", String.join("; ", warnings));
        }
        ObjectNode stamped = (ObjectNode) event;
        if (!stamped.hasNonNull("event_id")) {
            stamped.put("event_id", UUID.randomUUID().toString());
        }
        exchange.setProperty("eventId", stamped.get("event_id").asText());
        in.removeHeaders("*");
        in.setBody(Json.write(stamped));
    }
}
