package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.ChoiceDefinition;

/**
 * {@code agent.events} → route by type to the workflow it triggers (content-based router), whose start
 * stores the event with the execution it creates; an event that triggers nothing is only stored.
 * The JMS session is transacted: the event is acknowledged only after its effects are committed.
 */
public class EventRoutes extends RouteBuilder {
    public static final String DEAD_LETTER_REASON = "dead_letter_reason";

    private final WorkflowCatalog catalog;
    private final int consumers;

    public EventRoutes(WorkflowCatalog catalog, int consumers) {
        this.catalog = catalog;
        this.consumers = consumers;
    }

    @Override
    public void configure() {
        // EventDecoder throws before it changes the message, so the dead letter is the event as it
        // came. (useOriginalMessage() would do the same at a cost: it makes Camel copy the incoming
        // message of every exchange in the whole context, 7 % of the reply consumers' CPU.)
        onException(InvalidEventException.class)
                .handled(true)
                .removeHeader(Headers.CAUSE_MESSAGE_ID)
                .setHeader(DEAD_LETTER_REASON, exceptionMessage())
                .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "event sent to " + Endpoints.DEAD_LETTER_QUEUE + ": ${exception.message}")
                .to("jms:queue:" + Endpoints.DEAD_LETTER_QUEUE);

        ChoiceDefinition byType = from("jms:queue:" + Endpoints.EVENTS_QUEUE + "?transacted=true&disableReplyTo=true"
                        + "&concurrentConsumers=" + consumers + "&maxConcurrentConsumers=" + consumers)
                .routeId("coordinator.events")
                .routeDescription("receives events and starts the workflows they trigger")
                .setHeader(Headers.CAUSE_MESSAGE_ID, header("JMSMessageID"))
                .bean(new EventDecoder(catalog), "decode").id("decode-event")
                .choice().id("route-by-type");
        for (WorkflowDefinition workflow : catalog.all()) {
            // the workflow's start stores the event in the statement that creates the execution
            byType.when(header(Headers.WORKFLOW_ID).isEqualTo(workflow.id()))
                    .to(Endpoints.start(workflow.id())).id("trigger." + workflow.id());
        }
        byType.otherwise()
                .to(Sql.row("store-event")).id("store-event")
                .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "event ${header.eventType} (${header.eventKey}) stored; no workflow is triggered by it")
                .end();
    }
}
