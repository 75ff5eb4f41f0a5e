package dev.agentcoordinator.api;

import dev.agentcoordinator.engine.Headers;
import dev.agentcoordinator.engine.Sql;
import org.apache.camel.model.rest.RestParamType;

/** The dead letters of agent.events: listed, read, put back on agent.events or discarded (see {@link DeadLetterAnswers}). */
final class DeadLetterApiRoutes extends ApiRouteBuilder {
    /** coordinator.input.max-json-tokens: a dead letter is put back only when agent.events would take it. */
    private final int maxTokens;

    DeadLetterApiRoutes(int maxTokens) {
        this.maxTokens = maxTokens;
    }

    @Override
    protected void configureResource() {
        api()
                .get("/dead-letters").description("the events on agent.events.DLQ, oldest first, each with why it was refused;"
                        + " read, not taken off the queue")
                    .param().name("event_id").type(RestParamType.query).required(false).dataType("string")
                        .description("only the dead letters of this event_id").endParam()
                    .param().name("limit").type(RestParamType.query).required(false).dataType("integer").defaultValue("50")
                        .description("dead letters per answer, 1 to 1000").endParam()
                    .param().name("after").type(RestParamType.query).required(false).dataType("string")
                        .description("the \"next\" of the answer before").endParam()
                    .produces(JSON).to("direct:api.list-dead-letters")
                .get("/dead-letters/{id}").description("one dead letter (its message_id), with its whole body")
                    .produces(JSON).to("direct:api.get-dead-letter")
                .post("/dead-letters/{id}/retry").description("puts a dead letter (its message_id) back on agent.events as it came,"
                        + " for an event refused by a fault fixed since; 409 for one that would be refused again as it is")
                    .produces(JSON).to("direct:api.retry-dead-letter")
                .delete("/dead-letters/{id}").description("discards a dead letter (its message_id)")
                    .produces(JSON).to("direct:api.discard-dead-letter");

        from("direct:api.list-dead-letters").routeId("api.list-dead-letters")
                .process(DeadLetterAnswers::list);

        from("direct:api.get-dead-letter").routeId("api.get-dead-letter")
                .process(DeadLetterAnswers::one);

        from("direct:api.retry-dead-letter").routeId("api.retry-dead-letter")
                // an event whose event_id another event has taken since would be refused again: looked up first
                .process(e -> DeadLetterAnswers.eventOfTheDeadLetter(e, maxTokens))
                .filter(header(Headers.EVENT_KEY).isNotNull())
                    .to(Sql.apiRow("find-event"))
                    .process(DeadLetterAnswers::noteATakenEventId)
                .end()
                .process(e -> DeadLetterAnswers.take(e, true, maxTokens));

        from("direct:api.discard-dead-letter").routeId("api.discard-dead-letter")
                .process(e -> DeadLetterAnswers.take(e, false, maxTokens));
    }
}
