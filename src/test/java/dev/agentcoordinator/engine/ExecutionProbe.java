package dev.agentcoordinator.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.awaitility.Awaitility.await;

/** What the failure and semantics tests read back: executions, attempts, agents' requests, HTTP answers. */
final class ExecutionProbe {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private ExecutionProbe() {
    }

    /** Waits until the execution started by {@code eventId} has {@code status}; returns its id. */
    static String awaitExecution(String eventId, String status) {
        await().atMost(Duration.ofSeconds(20)).until(() -> status.equals(executionStatus(executionOf(eventId))));
        String executionId = executionOf(eventId);
        if (!"running".equals(status) && !"compensating".equals(status)) {
            // every request its attempts were sent cleared the lease it was started with (V27), if any:
            // none is sent again (the clearing may commit just after the reply that settled the execution)
            await().atMost(Duration.ofSeconds(10)).until(() -> query("SELECT 1 FROM workflow_step_executions "
                    + "WHERE execution_id = ? AND request_due_at IS NOT NULL", executionId).isEmpty());
        }
        return executionId;
    }

    /** Rows of step_attempts of one step (attempt, status, error), first attempt first. */
    static List<Map<String, Object>> attempts(String executionId, String stepId) {
        return query("SELECT attempt, status, error FROM step_attempts WHERE execution_id = ? AND step_id = ? ORDER BY attempt",
                executionId, stepId);
    }

    /** A reply sent straight to the coordinator's reply queue, as an agent would send it. */
    static void sendReply(String correlationId, String body) throws jakarta.jms.JMSException {
        sendReply(correlationId, body, Map.of());
    }

    /** As {@link #sendReply(String, String)}, with JMS string properties on the reply. */
    static void sendReply(String correlationId, String body, Map<String, String> properties) throws jakarta.jms.JMSException {
        try (jakarta.jms.Connection connection = shared().connectionFactory().createConnection()) {
            jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
            jakarta.jms.MessageProducer producer = session.createProducer(session.createQueue(shared().settings().replyQueue()));
            jakarta.jms.TextMessage message = session.createTextMessage(body);
            message.setJMSCorrelationID(correlationId);
            for (Map.Entry<String, String> property : properties.entrySet()) {
                message.setStringProperty(property.getKey(), property.getValue());
            }
            producer.send(message);
        }
    }

    /** The requests an agent received for one step of one execution. */
    static List<ScriptedAgents.Received> requests(ScriptedAgents agents, String executionId, String stepId) {
        return agents.received().stream()
                .filter(r -> r.request().path("execution_id").asText().equals(executionId) && r.stepId().equals(stepId))
                .toList();
    }

    /** The correlation ids of the messages on {@code queue} (browsed, left there); none while the queue is not made yet. */
    static List<String> queuedCorrelationIds(String queue) throws jakarta.jms.JMSException {
        List<String> ids = new java.util.ArrayList<>();
        try (jakarta.jms.Connection connection = shared().connectionFactory().createConnection()) {
            connection.start();
            jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
            try (jakarta.jms.QueueBrowser browser = session.createBrowser(session.createQueue(queue))) {
                for (Object message : java.util.Collections.list(browser.getEnumeration())) {
                    ids.add(((jakarta.jms.Message) message).getJMSCorrelationID());
                }
            } catch (jakarta.jms.InvalidDestinationException notYetMade) {
                // AMQ229017: the first request's send, which makes an agent's queue, has not committed yet
            }
        }
        return ids;
    }

    static Map<String, Object> execution(String executionId) {
        return query("SELECT status, error, result::text AS result, retries FROM workflow_executions WHERE id = ?", executionId).get(0);
    }

    static HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(URI.create(shared().httpUrl() + path)).GET());
    }

    static HttpResponse<String> post(String path, String jsonBody) {
        return send(HttpRequest.newBuilder(URI.create(shared().httpUrl() + path))
                .header("Content-Type", "application/json")
                .POST(jsonBody == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(jsonBody)));
    }

    static HttpResponse<String> delete(String path) {
        return send(HttpRequest.newBuilder(URI.create(shared().httpUrl() + path)).DELETE());
    }

    /** A request with the headers given as name, value, name, value, ... */
    static HttpResponse<String> send(String method, String path, String body, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(shared().httpUrl() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i + 1 < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return send(request);
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return HTTP.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
