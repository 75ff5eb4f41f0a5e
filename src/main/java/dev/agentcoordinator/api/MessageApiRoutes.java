package dev.agentcoordinator.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentcoordinator.engine.IgnoredFields;
import dev.agentcoordinator.engine.Json;
import dev.agentcoordinator.engine.Sql;
import dev.agentcoordinator.messages.AgentMessageCodec;
import dev.agentcoordinator.messages.MessageRoutes;

import static dev.agentcoordinator.api.JsonResponse.respond;

/** POST /api/messages, an agent-to-agent message, and GET /api/messages/{id}. */
final class MessageApiRoutes extends ApiRouteBuilder {
    private final BrokerSendGuard brokerSendGuard;
    /** coordinator.input.max-json-tokens: a posted message of more tokens is refused, as one on agent.messages. */
    private final int maxTokens;
    /** The message's storing and delivery, bounded while the broker holds the delivery back. */
    private final BoundedBrokerSend sends;

    MessageApiRoutes(BrokerSendGuard brokerSendGuard, int maxTokens, BoundedBrokerSend sends) {
        this.brokerSendGuard = brokerSendGuard;
        this.maxTokens = maxTokens;
        this.sends = sends;
    }

    @Override
    protected void configureResource() {
        api()
                .post("/messages").description("sends an agent-to-agent message (spec: sendAgentMessage); answers 202 with its message_id")
                    .consumes(JSON).produces(JSON).to("direct:api.post-message")
                .get("/messages/{id}").description("an agent message: status (pending, delivered, responded, timed_out) and response")
                    .produces(JSON).to("direct:api.get-message");

        from("direct:api.post-message").routeId("api.post-message")
                .process(brokerSendGuard)
                .process(e -> Utf8Body.decode(e.getMessage()))
                .process(e -> MessageRoutes.acceptFromHttp(e, maxTokens))
                .setProperty("messageId", header("messageId"))
                .setProperty("messageWarning", header(AgentMessageCodec.IGNORED_FIELDS))
                // stored pending before its send: posted again with its message_id, it is sent again while pending
                // (the recipient may get it twice) and not once marked delivered
                .process(sends.sendTo(MessageRoutes.ACCEPT, "post the message again with this message_id later (sent"
                        + " again only while it is not marked delivered: its recipient may get it twice)"))
                .process(e -> {
                    ObjectNode accepted = Json.object().put("message_id", e.getProperty("messageId", String.class));
                    if (e.getProperty("messageWarning") instanceof IgnoredFields.Ignored ignored) {
                        accepted.put("warning", ignored.text());
                    }
                    respond(e, 202, Json.write(accepted));
                });

        from("direct:api.get-message").routeId("api.get-message")
                .setHeader("messageId", header("id"))
                .to(Sql.apiRow("get-agent-message"))
                .choice()
                    .when(body().isNull()).process(e -> respond(e, 404, ExecutionViews.error("no message " + e.getMessage().getHeader("id"))))
                    .otherwise().process(e -> respond(e, 200, Json.write(ExecutionViews.fromDatabase(e.getMessage().getBody(String.class)))))
                .end();
    }
}
