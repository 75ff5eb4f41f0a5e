package dev.agentcoordinator.api;

import dev.agentcoordinator.engine.DatabaseOutageErrors;
import dev.agentcoordinator.engine.DatabaseUnreachable;
import dev.agentcoordinator.engine.InvalidEventException;
import dev.agentcoordinator.engine.Json;
import org.apache.camel.Exchange;
import org.apache.camel.LoggingLevel;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestBindingMode;
import org.apache.camel.model.rest.RestDefinition;
import org.springframework.dao.DataAccessException;

import java.sql.SQLException;

import static dev.agentcoordinator.api.JsonResponse.respond;

/**
 * What every RouteBuilder of the HTTP API shares: the Rest DSL on platform-http, the JSON answer to each failure and
 * the checks of a request's parameters. Camel applies a builder's onException and interceptFrom clauses to that
 * builder's routes only: each resource's builder extends this one, which declares them once for all.
 */
abstract class ApiRouteBuilder extends RouteBuilder {
    static final String JSON = "application/json";

    @Override
    public final void configure() throws Exception {
        restConfiguration().component("platform-http").bindingMode(RestBindingMode.off);
        answerFailures();

        // PostgreSQL cannot store U+0000 in text: a path or query parameter holding it is the client's
        // mistake (400), not a statement that failed (500)
        interceptFrom().process(RequestParameters::queryParametersFromTheQueryOnly).process(RequestParameters::refuseNulInParameters);

        configureResource();
        OpenApiOperations.describe(getRestCollection());
    }

    /** The resource's paths, declared on {@link #api()}, and the routes that answer them. */
    protected abstract void configureResource() throws Exception;

    /** The Rest DSL under /api, where the resource's paths are declared. */
    protected RestDefinition api() {
        return rest("/api").description("Agent Coordinator API");
    }

    private void answerFailures() {
        // an outage is the client's to retry: 503 (more specific than DatabaseOutageErrors' Exception, so this one applies)
        onException(DataAccessException.class, SQLException.class)
                .onWhen(e -> DatabaseUnreachable.causes(e.getException()))
                .handled(true)
                .log(LoggingLevel.WARN, DatabaseOutageErrors.LOG_NAME,
                        "route ${routeId} answered 503, database unreachable: ${exception.message}")
                .process(e -> {
                    respond(e, 503, ExecutionViews.error("the database cannot be reached; try again later"));
                    e.getMessage().setHeader("Retry-After", "5");
                });

        // as for the database: a broker that cannot be reached is the client's to retry
        onException(org.springframework.jms.JmsException.class, jakarta.jms.JMSException.class, jakarta.jms.JMSRuntimeException.class)
                .handled(true)
                .log(LoggingLevel.WARN, "dev.agentcoordinator.api", "route ${routeId} answered 503, broker unreachable: ${exception.message}")
                .process(e -> {
                    // a message is stored (pending) before its send: posted again with this id, it is sent then
                    String messageId = e.getProperty("messageId", String.class);
                    respond(e, 503, messageId == null ? ExecutionViews.error("the broker cannot be reached; try again later")
                            : Json.write(Json.object().put("error", "the broker cannot be reached; post the message again with this"
                                    + " message_id (before its response timeout) later").put("message_id", messageId)));
                    e.getMessage().setHeader("Retry-After", "5");
                });

        // the broker holds sends back (a full disk): the event_id tells the client which event to post again, and a
        // repeated event_id starts nothing twice, so that an event that arrived after all is not run twice
        onException(BrokerBlocksSends.class)
                .handled(true)
                .log(LoggingLevel.WARN, "dev.agentcoordinator.api", "route ${routeId} answered 503: ${exception.message}")
                .process(e -> {
                    com.fasterxml.jackson.databind.node.ObjectNode refused = Json.object()
                            .put("error", e.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class).getMessage());
                    String eventId = e.getProperty("eventId", String.class);
                    if (eventId != null) {
                        refused.put("event_id", eventId);
                    }
                    // a message is stored (pending) before its send: posted again with this id, it is sent then
                    String messageId = e.getProperty("messageId", String.class);
                    if (messageId != null) {
                        refused.put("message_id", messageId);
                    }
                    respond(e, 503, Json.write(refused));
                    e.getMessage().setHeader("Retry-After", "5");
                });

        // anything else is a fault of the coordinator: logged with its stack trace, answered in JSON with
        // the exchange id that finds it in the log (Camel would answer an empty 500)
        onException(Exception.class)
                .handled(true)
                .log(LoggingLevel.ERROR, "dev.agentcoordinator.api",
                        "route ${routeId} failed (exchange ${exchangeId}): ${exception.stacktrace}")
                .process(e -> respond(e, 500, ExecutionViews.error("internal error (exchange " + e.getExchangeId()
                        + ", see the coordinator's log)")));

        // (respond() drops the request's headers, which would otherwise go back as response headers)
        onException(InvalidEventException.class, IllegalArgumentException.class)
                .handled(true)
                .process(e -> answerWithItsMessage(e, 400));
        // a body of more JSON tokens than are read is too large, as one over the HTTP server's byte limit (Camel matches
        // the cause first: an event refused for its tokens comes here too)
        onException(Json.TooManyTokensException.class)
                .handled(true)
                .process(e -> answerWithItsMessage(e, 413));
        onException(dev.agentcoordinator.messages.AgentMessageConflictException.class)
                .handled(true)
                .process(e -> answerWithItsMessage(e, 409));
    }

    /** The client's mistake, answered with what the exception says of it. */
    private static void answerWithItsMessage(Exchange exchange, int status) {
        respond(exchange, status, ExecutionViews.error(exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class).getMessage()));
    }
}
