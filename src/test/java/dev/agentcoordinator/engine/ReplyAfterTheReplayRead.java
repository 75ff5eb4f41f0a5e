package dev.agentcoordinator.engine;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;

import static dev.agentcoordinator.engine.ExecutionProbe.sendReply;
import static dev.agentcoordinator.engine.TestCoordinator.query;
import static org.awaitility.Awaitility.await;

/**
 * Once a replay has read the row of the attempt it started (its first statement {@code readBy} on an exchange that
 * {@code ofTheReplay} accepts), before it goes on: the attempt's reply, sent and recorded (as another consumer would
 * take it); then every endpoint the replay's exchange goes to, or comes back from. Camel calls it on the replay's
 * thread, which waits meanwhile.
 */
final class ReplyAfterTheReplayRead extends EventNotifierSupport {
    private final String readBy;
    private final Predicate<Exchange> ofTheReplay;
    private final String correlationId;
    private final String reply;
    private final String rowId;
    private final AtomicReference<String> replayExchange = new AtomicReference<>();
    /** "recorded" once the reply settled the attempt, or why not. */
    final AtomicReference<String> seen = new AtomicReference<>();
    final List<String> afterTheRead = new CopyOnWriteArrayList<>();

    ReplyAfterTheReplayRead(String readBy, Predicate<Exchange> ofTheReplay, String correlationId, String reply, String rowId) {
        this.readBy = "/" + readBy + ".sql";
        this.ofTheReplay = ofTheReplay;
        this.correlationId = correlationId;
        this.reply = reply;
        this.rowId = rowId;
    }

    /**
     * Watches {@code camel} while {@code replay} sends the replay, until the replay went on after the reply was recorded
     * (or why not is {@link #seen}).
     */
    void watchWhile(CamelContext camel, Consumer<ProducerTemplate> replay) throws Exception {
        camel.getManagementStrategy().addEventNotifier(this);
        start();
        ProducerTemplate producer = camel.createProducerTemplate();
        try {
            replay.accept(producer);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                    .until(() -> seen.get() != null && !afterTheRead.isEmpty());
        } finally {
            producer.stop();
            camel.getManagementStrategy().removeEventNotifier(this);
        }
    }

    @Override
    public boolean isEnabled(CamelEvent event) {
        return event instanceof CamelEvent.ExchangeSentEvent;
    }

    @Override
    public void notify(CamelEvent event) {
        if (!(event instanceof CamelEvent.ExchangeSentEvent sent)) {
            return;
        }
        Exchange exchange = sent.getExchange();
        if (exchange.getExchangeId().equals(replayExchange.get())) {
            afterTheRead.add(sent.getEndpoint().getEndpointUri());
            return;
        }
        if (!sent.getEndpoint().getEndpointUri().contains(readBy) || !ofTheReplay.test(exchange)
                || !replayExchange.compareAndSet(null, exchange.getExchangeId())) {
            return;
        }
        try {
            sendReply(correlationId, reply);
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).until(() -> !query(
                    "SELECT 1 FROM workflow_step_executions WHERE id = ? AND status = 'completed'", rowId).isEmpty());
            seen.set("recorded");
        } catch (Exception | AssertionError e) {
            seen.set("not recorded: " + e);
        }
    }
}
