package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ExecutionProbe.*;
import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The HTTP API's basic answers: 404 / 400 as JSON, events posted over HTTP, list filters, workflows. */
class HttpApiSemanticsTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory())
                .agent("f-http-agent", r -> r.input().path("fail").asBoolean()
                        ? List.of(Reply.error("told to fail", false)) : List.of(Reply.ok(Map.of("ok", true))));
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    /**
     * GET /api/agents: each agent the workflows name, with the workflows that name it, its attempts in flight, the
     * requests on its queue and the consumers there; one whose requests wait with nobody listening is unattended.
     */
    /** A posted body must be UTF-8 (CONTRACT.md): bytes that are not are refused, naming where, not stored altered. */
    @Test
    void aBodyThatIsNotUtf8IsRefusedNamingWhere() throws Exception {
        byte[] latin1 = "{\"type\":\"UTF8_OK\",\"payload\":{\"n\":\"caf\u00e9\"}}".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        for (String path : List.of("/api/events", "/api/messages", "/api/executions/any/steps/any/reply")) {
            HttpResponse<String> refused = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create(shared().httpUrl() + path)).header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(latin1)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(refused.statusCode()).as(path + ": " + refused.body()).isEqualTo(400);
            assertThat(Json.parse(refused.body()).path("error").asText()).as(path).isEqualTo("the body is not UTF-8 text: byte 0xe9 at offset 37");
        }
        assertThat(post("/api/events", "{\"type\":\"UTF8_OK\",\"payload\":{\"n\":\"caf\u00e9\"}}").statusCode()).isEqualTo(202);
    }

    /** A step reply with a key given twice is refused, as an event is: before, the last one won without a word. */
    @Test
    void aStepReplyWithAKeyGivenTwiceIsRefused() {
        HttpResponse<String> refused = post("/api/executions/any/steps/any/reply",
                "{\"status\": \"error\", \"error\": \"first\", \"status\": \"ok\", \"output\": {}}");
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
        assertThat(Json.parse(refused.body()).path("error").asText()).startsWith("the step reply is not valid JSON: Duplicate field 'status'");
    }

    @Test
    void theAgentsAreListedWithWhatWaitsForThem() {
        String eventId = sendEvent("F_AGENTS_LISTED", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && "running".equals(stepRow(executionOf(eventId), "unheard").get("status")));
        String executionId = executionOf(eventId);

        // the step's row says running as its request is sent: the broker counts it once the send is through
        HttpResponse<String> listed = await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> get("/api/agents"),
                answer -> answer.statusCode() != 200 || agentListed(Json.parse(answer.body()), "f-agents-nobody").path("requests_waiting").asLong() == 1);
        assertThat(listed.statusCode()).as(listed.body()).isEqualTo(200);
        JsonNode view = Json.parse(listed.body());
        assertThat(view.has("warning")).as(listed.body()).isFalse();
        JsonNode nobody = agentListed(view, "f-agents-nobody");
        assertThat(nobody.path("queue").asText()).isEqualTo("agent.f-agents-nobody");
        assertThat(nobody.path("workflows").toString()).isEqualTo("[\"f_agents_listed\"]");
        assertThat(nobody.path("attempts_running").asLong()).isEqualTo(1);
        assertThat(nobody.path("requests_waiting").asLong()).isEqualTo(1);
        assertThat(nobody.path("consumers").asLong()).isZero();
        assertThat(nobody.path("unattended").asBoolean()).isTrue();
        JsonNode heard = agentListed(view, "f-http-agent");
        assertThat(heard.path("workflows").toString()).contains("\"f_agents_listed\"", "\"f_http\"");
        assertThat(heard.path("consumers").asLong()).as("the scripted agent's sessions").isEqualTo(4);
        assertThat(heard.path("unattended").asBoolean()).isFalse();

        // cancelled: its request is taken back off the queue, and nothing waits for the agent any more
        assertThat(post("/api/executions/" + executionId + "/cancel", "").statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            JsonNode after = agentListed(Json.parse(get("/api/agents").body()), "f-agents-nobody");
            assertThat(after.path("requests_waiting").asLong()).isZero();
            assertThat(after.path("attempts_running").asLong()).isZero();
            assertThat(after.path("unattended").asBoolean()).isFalse();
        });
    }

    private static JsonNode agentListed(JsonNode view, String agent) {
        for (JsonNode entry : view.path("agents")) {
            if (entry.path("agent").asText().equals(agent)) {
                return entry;
            }
        }
        throw new AssertionError("agent " + agent + " not listed: " + view);
    }

    @Test
    void anUnknownExecutionIs404WithAJsonError() {
        HttpResponse<String> response = get("/api/executions/no-such-execution");

        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type).startsWith("application/json"));
        assertThat(Json.parse(response.body()).path("error").asText()).contains("no-such-execution");
    }

    @Test
    void aPostedEventIsAcceptedWithItsIdAndStartsAnExecution() {
        HttpResponse<String> response = post("/api/events", "{\"type\":\"F_HTTP\",\"payload\":{\"from\":\"http\"}}");

        assertThat(response.statusCode()).isEqualTo(202);
        String eventId = Json.parse(response.body()).path("event_id").asText();
        assertThat(eventId).isNotBlank();
        String executionId = awaitExecution(eventId, "completed");
        assertThat(query("SELECT trigger_payload->>'from' AS origin FROM workflow_executions WHERE id = ?", executionId))
                .singleElement().satisfies(r -> assertThat(r).containsEntry("origin", "http"));
        JsonNode view = Json.parse(get("/api/executions/" + executionId).body());
        assertThat(view.path("execution_id").asText()).isEqualTo(executionId);
        assertThat(view.path("status").asText()).isEqualTo("completed");
        assertThat(view.path("event_id").asText()).isEqualTo(eventId);
        // every time in one form, the step results' too (PostgreSQL wrote those with +00:00)
        assertThat(view.path("result").path("only").path("started_at").asText()).endsWith("Z");
        assertThat(view.path("result").path("only").path("completed_at").asText()).endsWith("Z")
                .isEqualTo(view.path("steps").get(0).path("completed_at").asText());
        // with six fraction digits, also when they end in zeros (Instant.toString() wrote .500Z and no fraction at all)
        new org.springframework.jdbc.core.JdbcTemplate(TestCoordinator.shared().dataSource()).update(
                "UPDATE workflow_executions SET completed_at = '2026-12-06 11:45:15+00' WHERE id = ?", executionId);
        new org.springframework.jdbc.core.JdbcTemplate(TestCoordinator.shared().dataSource()).update(
                "UPDATE workflow_step_executions SET started_at = '2026-12-06 11:45:14.5+00' WHERE execution_id = ?", executionId);
        JsonNode rewritten = Json.parse(get("/api/executions/" + executionId).body());
        assertThat(rewritten.path("completed_at").asText()).isEqualTo("2026-12-06T11:45:15.000000Z");
        assertThat(rewritten.path("steps").get(0).path("started_at").asText()).isEqualTo("2026-12-06T11:45:14.500000Z");
        assertThat(rewritten.path("result").path("only").path("started_at").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z");

        // from the event id the 202 gave to the execution it started
        HttpResponse<String> event = get("/api/events/" + eventId);
        assertThat(event.statusCode()).isEqualTo(200);
        JsonNode received = Json.parse(event.body());
        assertThat(received.path("event_id").asText()).isEqualTo(eventId);
        assertThat(received.path("type").asText()).isEqualTo("F_HTTP");
        assertThat(received.path("workflow_id").asText()).isEqualTo("f_http");
        assertThat(received.path("execution_id").asText()).isEqualTo(executionId);
        assertThat(received.path("deliveries").asInt()).isEqualTo(1);
        assertThat(received.at("/payload/from").asText()).isEqualTo("http");

        HttpResponse<String> unknown = get("/api/events/no-such-event");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(Json.parse(unknown.body()).path("error").asText()).startsWith("no event no-such-event has been received");
    }

    /**
     * ?outputs=false answers the execution without its payload, result and each step's input, output and progress:
     * a poll of an execution whose steps return megabytes (a 15 MB output made a 78 MB answer) gets its statuses only.
     */
    @Test
    void anExecutionIsAnsweredWithoutItsOutputsWhenAskedSo() {
        String executionId = awaitExecution(sendEvent("F_HTTP", "{\"from\": \"outputs\"}"), "completed");
        JsonNode whole = Json.parse(get("/api/executions/" + executionId).body());
        assertThat(whole.has("result")).isTrue();
        assertThat(whole.path("steps").get(0).has("output")).isTrue();

        JsonNode statuses = Json.parse(get("/api/executions/" + executionId + "?outputs=false").body());
        assertThat(statuses.path("status").asText()).isEqualTo("completed");
        assertThat(statuses.path("outputs").asBoolean(true)).isFalse();
        assertThat(statuses.has("result")).isFalse();
        assertThat(statuses.has("trigger_payload")).isFalse();
        assertThat(statuses.path("steps")).hasSameSizeAs(whole.path("steps")).allSatisfy(step -> {
            assertThat(step.has("input")).isFalse();
            assertThat(step.has("output")).isFalse();
            assertThat(step.has("progress")).isFalse();
            assertThat(step.path("status").asText()).isEqualTo("completed");
            assertThat(step.path("attempts")).isNotEmpty();
        });

        HttpResponse<String> wrong = get("/api/executions/" + executionId + "?outputs=no");
        assertThat(wrong.statusCode()).isEqualTo(400);
        assertThat(Json.parse(wrong.body()).path("error").asText()).isEqualTo("outputs must be true or false, got \"no\"");
    }

    @Test
    void anEventNoWorkflowStartsOnIsShownWithoutAnExecution() {
        JsonNode accepted = Json.parse(post("/api/events", "{\"type\":\"NOTHING_STARTS_ON_THIS\",\"payload\":{}}").body());
        String eventId = accepted.path("event_id").asText();
        assertThat(accepted.path("warning").asText())
                .isEqualTo("no loaded workflow starts on \"NOTHING_STARTS_ON_THIS\": the event is stored and starts nothing");
        // a type a letter off a trigger is probably that trigger misspelt
        assertThat(Json.parse(post("/api/events", "{\"type\":\"F_HTP\",\"payload\":{}}").body()).path("warning").asText())
                .isEqualTo("no loaded workflow starts on \"F_HTP\": the event is stored and starts nothing: did you mean \"F_HTTP\"?");
        JsonNode received = await().atMost(java.time.Duration.ofSeconds(20)).until(() -> {
            HttpResponse<String> response = get("/api/events/" + eventId);
            return response.statusCode() == 200 ? Json.parse(response.body()) : null;
        }, java.util.Objects::nonNull);
        assertThat(received.path("type").asText()).isEqualTo("NOTHING_STARTS_ON_THIS");
        assertThat(received.path("execution_id").isNull()).isTrue();
        assertThat(received.path("workflow_id").isNull()).isTrue();

        // delivered again (as an outcome event is sent again): counted, and logged as such, not as stored anew
        try (CapturedLog progress = CapturedLog.of(Endpoints.PROGRESS_LOG)) {
            assertThat(post("/api/events", "{\"type\":\"NOTHING_STARTS_ON_THIS\",\"payload\":{},\"event_id\":\"" + eventId + "\"}")
                    .statusCode()).isEqualTo(202);
            await().atMost(java.time.Duration.ofSeconds(20)).until(() -> progress.lines().stream().anyMatch(line -> line.contains("(" + eventId + ")")));
            assertThat(progress.lines()).filteredOn(line -> line.contains("(" + eventId + ")")).containsExactly(
                    "INFO event NOTHING_STARTS_ON_THIS (" + eventId + ") delivered again (2 deliveries), stored once; no workflow is triggered by it");
        }
    }

    @Test
    void aPostedEventsIgnoredFieldsAreNamedInItsAnswer() {
        HttpResponse<String> response = post("/api/events", "{\"type\":\"F_HTTP\",\"payloads\":{\"a\":1}}");

        assertThat(response.statusCode()).isEqualTo(202);
        assertThat(Json.parse(response.body()).path("warning").asText())
                .startsWith("event field \"payloads\" is ignored").endsWith("did you mean \"payload\" for \"payloads\"?");
        assertThat(Json.parse(post("/api/events", "{\"type\":\"F_HTTP\",\"payload\":{}}").body()).has("warning")).isFalse();
        // told before the answer's own event_id is stamped on the event
        assertThat(Json.parse(post("/api/events", "{\"type\":\"F_HTTP\",\"eventId\":\"mine\"}").body()).path("warning").asText())
                .endsWith("did you mean \"event_id\" for \"eventId\"?");
    }

    @Test
    void aPostedEventThatIsNotJsonIs400WithAMessage() {
        HttpResponse<String> response = post("/api/events", "{\"type\": \"F_HTTP\", oops");

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(Json.parse(response.body()).path("error").asText()).contains("not valid JSON");
    }

    @Test
    void executionsCanBeListedByWorkflowStatusAndLimit() {
        List<String> events = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            events.add(sendEvent("F_HTTP", "{}"));
        }
        String failedEvent = sendEvent("F_HTTP", "{\"fail\": true}");
        events.forEach(e -> awaitExecution(e, "completed"));
        String failed = awaitExecution(failedEvent, "failed");

        HttpResponse<String> response = get("/api/executions?workflow_id=f_http&status=completed&limit=5");
        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode list = Json.parse(response.body());
        assertThat(list.path("executions")).hasSize(5);
        assertThat(list.path("count").asInt()).isEqualTo(5);
        list.path("executions").forEach(e -> {
            assertThat(e.path("workflow_id").asText()).isEqualTo("f_http");
            assertThat(e.path("status").asText()).isEqualTo("completed");
            assertThat(e.path("id").asText()).isNotEqualTo(failed);
            assertThat(e.path("execution_id").asText()).isEqualTo(e.path("id").asText());   // both, as the single GET's
        });
        JsonNode failures = Json.parse(get("/api/executions?workflow_id=f_http&status=failed").body());
        assertThat(failures.path("executions")).extracting(e -> e.path("id").asText()).contains(failed);
        // each filter alone, and none (list-executions.sql has a branch for each)
        assertThat(Json.parse(get("/api/executions?workflow_id=f_http&limit=500").body()).path("executions"))
                .extracting(e -> e.path("id").asText()).contains(failed).hasSizeGreaterThanOrEqualTo(7)
                .allSatisfy(id -> assertThat(query("SELECT workflow_id FROM workflow_executions WHERE id = ?", id))
                        .singleElement().satisfies(r -> assertThat(r).containsEntry("workflow_id", "f_http")));
        assertThat(Json.parse(get("/api/executions?status=failed&limit=500").body()).path("executions"))
                .extracting(e -> e.path("id").asText()).contains(failed)
                .allSatisfy(id -> assertThat(executionStatus(id)).isEqualTo("failed"));
        JsonNode newest = Json.parse(get("/api/executions?limit=2").body()).path("executions");
        assertThat(newest).hasSize(2);
        assertThat(get("/api/executions?limit=zero").statusCode()).isEqualTo(400);
        // every filter left empty, as the README's template shows them: the defaults
        assertThat(get("/api/executions?workflow_id=&status=&limit=&after=").statusCode()).isEqualTo(200);
        HttpResponse<String> misspelt = get("/api/executions?status=complete");
        assertThat(misspelt.statusCode()).isEqualTo(400);
        assertThat(Json.parse(misspelt.body()).path("error").asText()).isEqualTo("status must be one of pending, running,"
                + " completed, failed, cancelled, compensating, compensated, compensation_failed, got \"complete\"");
        // a misspelt filter lists every execution, unfiltered: answered, and named
        HttpResponse<String> unknown = get("/api/executions?wf=f_http&limit=1&_=123");
        assertThat(unknown.statusCode()).isEqualTo(200);
        assertThat(Json.parse(unknown.body()).path("count").asInt()).isEqualTo(1);
        assertThat(Json.parse(unknown.body()).path("warning").asText())
                .isEqualTo("query parameters \"wf\", \"_\" ignored: the listing takes workflow_id, status, limit, after");
        assertThat(Json.parse(get("/api/executions?limit=1").body()).has("warning")).isFalse();
    }

    @Test
    void theListingPagesThroughEveryExecutionWithTheNextCursor() {
        List<String> events = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            events.add(sendEvent("F_HTTP", "{}"));
        }
        events.forEach(e -> awaitExecution(e, "completed"));
        JsonNode whole = Json.parse(get("/api/executions?workflow_id=f_http&limit=1000").body());
        assertThat(whole.path("next").isNull()).as("a page that is not full is the last").isTrue();
        List<String> all = new ArrayList<>();
        whole.path("executions").forEach(e -> all.add(e.path("id").asText()));

        List<String> paged = new ArrayList<>();
        String after = "";
        int pages = 0;
        do {
            JsonNode page = Json.parse(get("/api/executions?workflow_id=f_http&limit=2&after=" + after).body());
            assertThat(page.path("executions").size()).isBetween(0, 2);
            page.path("executions").forEach(e -> paged.add(e.path("id").asText()));
            after = page.path("next").isNull() ? null : page.path("next").asText();
            pages++;
        } while (after != null && pages < 1000);

        assertThat(all).hasSizeGreaterThanOrEqualTo(5);
        assertThat(paged).as("the pages, in order, are the whole listing").containsExactlyElementsOf(all);
        HttpResponse<String> forged = get("/api/executions?after=not-a-cursor");
        assertThat(forged.statusCode()).isEqualTo(400);
        assertThat(Json.parse(forged.body()).path("error").asText()).contains("after must be the \"next\" of an earlier page");
    }

    @Test
    void aRequestNoRouteTakesIsAnsweredInJson() {
        HttpResponse<String> unknown = get("/api/no-such-thing");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(Json.parse(unknown.body()).path("error").asText()).isEqualTo("no such path: /api/no-such-thing");

        // a broken %-escape, which java.net.URI would not even send: over a socket
        String brokenEscape = rawGet("/api/executions?status=%ZZ");
        assertThat(brokenEscape).startsWith("HTTP/1.1 400").containsIgnoringCase("content-type: application/json");
        assertThat(Json.parse(brokenEscape.substring(brokenEscape.indexOf("\r\n\r\n") + 4)).path("error").asText())
                .startsWith("malformed request GET /api/executions");

        HttpResponse<String> wrongMethod = delete("/api/executions");
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(wrongMethod.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(Json.parse(wrongMethod.body()).path("error").asText())
                .isEqualTo("method DELETE not allowed on /api/executions: it takes GET, HEAD");
        assertThat(wrongMethod.headers().firstValue("Allow")).as("RFC 9110: a 405 lists what the path takes").hasValue("GET, HEAD");
        assertThat(send("PUT", "/api/executions/some-id", "{}", "Content-Type", "application/json").headers().firstValue("Allow"))
                .hasValue("GET, HEAD");
        assertThat(get("/api/executions/some-id/cancel").headers().firstValue("Allow")).hasValue("POST");
        assertThat(send("PUT", "/api/dead-letters/some-id", "{}", "Content-Type", "application/json").headers().firstValue("Allow"))
                .hasValue("DELETE, GET, HEAD");
        // a route of a path ending in * is kept by Vert.x as its prefix
        assertThat(send("PUT", "/observe/jolokia/read/java.lang:type=Memory", "{}", "Content-Type", "application/json")
                .headers().firstValue("Allow")).hasValue("GET, HEAD, POST");

        // the JSON an endpoint takes, from a client that does not say it is JSON: curl -d sends it as a form, Python's
        // requests.post(data=...) and Java's HttpClient with no Content-Type, a fetch of a string as text/plain
        String event = "{\"type\": \"NO_WORKFLOW_STARTS_ON_THIS\", \"payload\": {}}";
        HttpResponse<String> form = send("POST", "/api/events", event, "Content-Type", "application/x-www-form-urlencoded");
        assertThat(form.statusCode()).as(form.body()).isEqualTo(202);
        assertThat(Json.parse(form.body()).path("event_id").asText()).isNotEmpty();
        assertThat(send("POST", "/api/events", event).statusCode()).isEqualTo(202);
        assertThat(send("POST", "/api/events", event, "Content-Type", "text/plain;charset=UTF-8").statusCode()).isEqualTo(202);
        HttpResponse<String> formFields = send("POST", "/api/events", "type=A&payload=x", "Content-Type", "application/x-www-form-urlencoded");
        assertThat(formFields.statusCode()).isEqualTo(400);
        assertThat(Json.parse(formFields.body()).path("error").asText()).startsWith("event is not valid JSON");
        // a type that is no JSON at all
        HttpResponse<String> multipart = send("POST", "/api/events", event, "Content-Type", "multipart/form-data; boundary=x");
        assertThat(multipart.statusCode()).isEqualTo(415);
        assertThat(multipart.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(Json.parse(multipart.body()).path("error").asText()).isEqualTo("Content-Type \"multipart/form-data; boundary=x\""
                + " not accepted on POST /api/events; the API takes application/json");

        // a body that is not UTF-8 JSON text as it is: compressed, or in another charset
        HttpResponse<String> gzip = send("POST", "/api/events", event, "Content-Type", "application/json", "Content-Encoding", "gzip");
        assertThat(gzip.statusCode()).isEqualTo(415);
        assertThat(Json.parse(gzip.body()).path("error").asText())
                .isEqualTo("Content-Encoding \"gzip\" not accepted: send the body uncompressed (UTF-8 JSON text)");
        HttpResponse<String> latin1 = send("POST", "/api/events", event, "Content-Type", "application/json; charset=ISO-8859-1");
        assertThat(latin1.statusCode()).isEqualTo(415);
        assertThat(Json.parse(latin1.body()).path("error").asText()).startsWith("charset \"iso-8859-1\" of Content-Type");
        assertThat(send("POST", "/api/events", event, "Content-Type", "application/json; charset=\"UTF-8\"").statusCode()).isEqualTo(202);
        // a key given twice names no one value
        HttpResponse<String> twice = send("POST", "/api/events", "{\"type\": \"A\", \"type\": \"B\"}", "Content-Type", "application/json");
        assertThat(twice.statusCode()).isEqualTo(400);
        assertThat(Json.parse(twice.body()).path("error").asText()).isEqualTo("event is not valid JSON: Duplicate field 'type' at line 1, column 21");

        String tooLarge = "{\"type\": \"NO_WORKFLOW_STARTS_ON_THIS\", \"payload\": {\"blob\": \"" + "x".repeat(11 * 1024 * 1024) + "\"}}";
        HttpResponse<String> large = send("POST", "/api/events", tooLarge, "Content-Type", "application/json");
        assertThat(large.statusCode()).isEqualTo(413);
        assertThat(large.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(Json.parse(large.body()).path("error").asText()).startsWith("request body too large for POST /api/events");

        // under the byte limit, over the bound on the tokens read (a million zeros, 2 MB): too large as well, before any tree
        String manyTokens = "{\"type\": \"NO_WORKFLOW_STARTS_ON_THIS\", \"payload\": {\"n\": [" + "0,".repeat(1_000_000) + "0]}}";
        HttpResponse<String> tokens = send("POST", "/api/events", manyTokens, "Content-Type", "application/json");
        assertThat(tokens.statusCode()).isEqualTo(413);
        assertThat(Json.parse(tokens.body()).path("error").asText()).isEqualTo("event has more than 1,000,000 JSON tokens"
                + " (keys, values, brackets): at most 1,000,000 are read (coordinator.input.max-json-tokens)");
        HttpResponse<String> reply = send("POST", "/api/executions/any/steps/any/reply",
                "{\"status\": \"ok\", \"output\": {\"n\": [" + "0,".repeat(1_000_000) + "0]}}", "Content-Type", "application/json");
        assertThat(reply.statusCode()).isEqualTo(413);
        assertThat(Json.parse(reply.body()).path("error").asText()).startsWith("the step reply has more than 1,000,000 JSON tokens");

        HttpResponse<String> html = send("GET", "/api/executions", null, "Accept", "text/html");
        assertThat(html.statusCode()).isEqualTo(406);
        assertThat(html.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(Json.parse(html.body()).path("error").asText())
                .isEqualTo("GET /api/executions answers application/json, which Accept \"text/html\" does not take");
    }

    /** A media type's type and subtype ignore case (RFC 9110, 8.3.1), and HEAD is GET without the body (9.3.2). */
    @Test
    void mediaTypesAreMatchedWhateverTheirCaseAndHeadAnswersAsGetWithoutABody() {
        String event = "{\"type\": \"NO_WORKFLOW_STARTS_ON_THIS\", \"payload\": {}}";
        for (String contentType : List.of("APPLICATION/JSON", "Application/Json; Charset=UTF-8")) {
            HttpResponse<String> posted = send("POST", "/api/events", event, "Content-Type", contentType);
            assertThat(posted.statusCode()).as(contentType).isEqualTo(202);
            assertThat(Json.parse(posted.body()).path("event_id").asText()).as(contentType).isNotEmpty();
        }
        for (String accept : List.of("APPLICATION/JSON", "text/html, Application/*;q=0.5")) {
            HttpResponse<String> listed = send("GET", "/api/executions?limit=1", null, "Accept", accept);
            assertThat(listed.statusCode()).as(accept).isEqualTo(200);
            assertThat(Json.parse(listed.body()).has("executions")).as(accept).isTrue();
        }
        HttpResponse<String> html = send("GET", "/api/executions?limit=1", null, "Accept", "TEXT/HTML");
        assertThat(html.statusCode()).isEqualTo(406);

        // over HTTP/1.1 (Vert.x sends a body with a HEAD's answer over HTTP/2, so HEAD stays 405 there)
        String head = rawRequest("HEAD", "/api/executions?limit=1");
        assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase("content-type: application/json").endsWith("\r\n\r\n");
        assertThat(rawRequest("HEAD", "/api/no-such-thing")).startsWith("HTTP/1.1 404").endsWith("\r\n\r\n");
        assertThat(rawRequest("HEAD", "/api/workflows/reload")).as("a path served only with POST").startsWith("HTTP/1.1 405");
    }

    /**
     * A HEAD over HTTP/2 keeps its 405, answered without a body: with one (the JSON error), HTTP/2 forbids it and
     * the client got a protocol error instead of the status.
     */
    @Test
    void aHeadOverHttp2IsAnswered405WithoutABody() throws Exception {
        java.net.http.HttpClient http2 = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_2).build();
        // the first request upgrades the connection to HTTP/2 (h2c)
        http2.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(shared().httpUrl() + "/api/workflows")).build(),
                HttpResponse.BodyHandlers.discarding());
        HttpResponse<String> head = http2.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(shared().httpUrl()
                + "/api/executions?limit=1")).method("HEAD", java.net.http.HttpRequest.BodyPublishers.noBody())
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(head.version()).isEqualTo(java.net.http.HttpClient.Version.HTTP_2);
        assertThat(head.statusCode()).isEqualTo(405);
        assertThat(head.body()).isEmpty();
    }

    /** An Accept header that gives JSON a quality of 0 refuses it (RFC 9110, 12.4.2): 406, as for one naming no JSON. */
    @Test
    void anAcceptThatGivesJsonQualityZeroIs406() {
        for (String accept : List.of("application/json;q=0", "application/json; q=0.0, */*", "*/*;q=0", "application/*;Q=0.000")) {
            HttpResponse<String> refused = send("GET", "/api/executions?limit=1", null, "Accept", accept);
            assertThat(refused.statusCode()).as(accept).isEqualTo(406);
            assertThat(refused.headers().firstValue("Content-Type")).as(accept).hasValue("application/json");
            assertThat(Json.parse(refused.body()).path("error").asText()).as(accept)
                    .isEqualTo("GET /api/executions answers application/json, which Accept \"" + accept + "\" does not take");
        }
        for (String accept : List.of("application/json;q=0.001", "text/html;q=0, application/json", "*/*;q=0, application/json;q=0.5")) {
            HttpResponse<String> listed = send("GET", "/api/executions?limit=1", null, "Accept", accept);
            assertThat(listed.statusCode()).as(accept).isEqualTo(200);
            assertThat(Json.parse(listed.body()).has("executions")).as(accept).isTrue();
        }
    }

    /**
     * A request line or headers above the server's limits are answered in JSON naming the limit, as every other error:
     * Vert.x answered them (before any route) with an empty body. The connection closes after.
     */
    @Test
    void aRequestAboveTheServersLimitsIsAnsweredInJsonNamingTheLimit() {
        String longLine = rawRequest("GET", "/api/executions?workflow=" + "x".repeat(5000));
        // HTTP/1.0: the version of a line not read is not known
        assertThat(longLine).matches("(?s)HTTP/1\\.[01] 414 .*").containsIgnoringCase("content-type: application/json");
        assertThat(Json.parse(rawBody(longLine)).path("error").asText()).startsWith("request line too long: the HTTP server reads up to 4096 bytes");

        String largeHeaders = rawRequest("GET", "/api/executions", "Host: " + java.net.URI.create(shared().httpUrl()).getHost(),
                "X-Large: " + "y".repeat(9000));
        assertThat(largeHeaders).matches("(?s)HTTP/1\\.[01] 431 .*").containsIgnoringCase("content-type: application/json");
        assertThat(Json.parse(rawBody(largeHeaders)).path("error").asText())
                .isEqualTo("request headers too large: the HTTP server reads up to 8192 bytes of headers");

        assertThat(get("/api/executions?limit=1").statusCode()).as("the server answers on").isEqualTo(200);
    }

    /** The body of a whole HTTP/1.1 response as read from the socket. */
    private static String rawBody(String response) {
        return response.substring(response.indexOf("\r\n\r\n") + 4);
    }

    /**
     * Prometheus' text format is served for the Accept headers scrapers send (Telegraf's among them), not only for its
     * exact media type with every parameter; one that rules it out is told what the path answers.
     */
    @Test
    void theMetricsAreScrapedWhateverSpellingOfTheTextFormatTheScraperAccepts() {
        for (String accept : List.of("text/plain", "text/plain;version=0.0.4", "text/*", "TEXT/PLAIN",
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3")) {
            HttpResponse<String> scraped = send("GET", "/observe/metrics", null, "Accept", accept);
            assertThat(scraped.statusCode()).as(accept).isEqualTo(200);
            assertThat(scraped.headers().firstValue("Content-Type")).as(accept).hasValue("text/plain; version=0.0.4; charset=utf-8");
            assertThat(scraped.body()).as(accept).contains("# TYPE ");
        }
        HttpResponse<String> refused = send("GET", "/observe/metrics", null, "Accept", "application/json");
        assertThat(refused.statusCode()).isEqualTo(406);
        assertThat(Json.parse(refused.body()).path("error").asText())
                .isEqualTo("GET /observe/metrics answers Prometheus' text/plain, which Accept \"application/json\" does not take");
        for (String accept : List.of("text/plain;q=0", "*/*;q=0", "text/*;q=0.0, application/json", "text/plain;\tq=0")) {
            assertThat(send("GET", "/observe/metrics", null, "Accept", accept).statusCode()).as(accept).isEqualTo(406);
        }
        // on the path as the router matches it too (a trailing slash, a doubled one)
        for (String path : List.of("/observe/metrics/", "/observe//metrics")) {
            assertThat(send("GET", path, null, "Accept", "*/*;q=0").statusCode()).as(path).isEqualTo(406);
        }
        // OpenMetrics when the Accept names it, also alone (it was 406 unless a */* came with it, as in Prometheus' own)
        for (String accept : List.of("application/openmetrics-text", "application/openmetrics-text;version=1.0.0",
                "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8,text/plain;version=0.0.4;q=0.3",
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")) {
            HttpResponse<String> scraped = send("GET", "/observe/metrics", null, "Accept", accept);
            assertThat(scraped.statusCode()).as(accept).isEqualTo(200);
            assertThat(scraped.headers().firstValue("Content-Type")).as(accept).hasValue("application/openmetrics-text; version=1.0.0; charset=utf-8");
            assertThat(scraped.body()).as(accept).contains("# EOF");
        }
        // or when a wildcard takes it and the text format is refused
        HttpResponse<String> throughAWildcard = send("GET", "/observe/metrics", null, "Accept", "text/plain;q=0, */*");
        assertThat(throughAWildcard.statusCode()).isEqualTo(200);
        assertThat(throughAWildcard.headers().firstValue("Content-Type")).hasValue("application/openmetrics-text; version=1.0.0; charset=utf-8");
        // and not when it refuses it
        HttpResponse<String> notOpenMetrics = send("GET", "/observe/metrics", null, "Accept", "application/openmetrics-text;q=0,*/*");
        assertThat(notOpenMetrics.statusCode()).isEqualTo(200);
        assertThat(notOpenMetrics.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
    }

    /** A definition whose file names no version runs as version 1, and is listed so. */
    @Test
    void everyListedWorkflowNamesTheVersionItRunsAs() {
        com.fasterxml.jackson.databind.JsonNode workflows = Json.parse(get("/api/workflows").body()).path("workflows");
        assertThat(workflows.size()).isGreaterThan(10);
        workflows.forEach(workflow -> assertThat(workflow.path("version").isInt()).as(workflow.path("id").asText()).isTrue());
        assertThat(java.util.stream.StreamSupport.stream(workflows.spliterator(), false)
                .filter(workflow -> workflow.path("id").asText().equals("f_chain_second")))   // its file names no version
                .singleElement().satisfies(workflow -> assertThat(workflow.path("version").asInt()).isEqualTo(1));
    }

    /**
     * Without a password, a request under a name that is not this machine's is refused: a page whose name its owner
     * points at 127.0.0.1 (DNS rebinding) sends same-origin requests, and stopped routes through Jolokia that way.
     */
    @Test
    void withoutAPasswordARequestUnderAnotherHostNameIsRefused() {
        int port = java.net.URI.create(shared().httpUrl()).getPort();
        String rebound = rawRequest("GET", "/observe/jolokia/version", "Host: attacker.example:" + port,
                "Origin: http://attacker.example:" + port, "Sec-Fetch-Site: same-origin");
        assertThat(rebound).startsWith("HTTP/1.1 403").contains("is not a name of this coordinator");
        assertThat(rawRequest("GET", "/api/workflows", "Host: localhost:" + port)).startsWith("HTTP/1.1 200");
        assertThat(rawRequest("GET", "/api/workflows", "Host: 127.0.0.1:" + port, "Origin: http://evil.example"))
                .startsWith("HTTP/1.1 403").contains("Origin: http://evil.example");
    }

    /** A GET's body means nothing: one declared as a form is read as none (it was a plain-text 500, with a long ERROR). */
    @Test
    void aGetWithAFormBodyIsAnsweredAsAGet() {
        HttpResponse<String> listed = send("GET", "/api/executions?limit=1", "a=b",
                "Content-Type", "application/x-www-form-urlencoded");
        assertThat(listed.statusCode()).as(listed.body()).isEqualTo(200);
        assertThat(Json.parse(listed.body()).has("executions")).isTrue();
    }

    @Test
    void aParameterHoldingU0000Is400NamingIt() {
        for (String path : List.of("/api/executions/abc%00def", "/api/executions?workflow_id=f%00http", "/api/messages/m%00")) {
            HttpResponse<String> response = get(path);
            assertThat(response.statusCode()).as(path).isEqualTo(400);
            assertThat(Json.parse(response.body()).path("error").asText()).as(path)
                    .matches("parameter (id|workflow_id) contains the character U\\+0000 .*which PostgreSQL cannot store");
        }
    }

    /**
     * A form body became a Map body, where camel-sql looks for parameters before the headers: the cancel of
     * one execution acted on the one the form named. A parameter given twice became a list (a 500).
     */
    @Test
    void aCancelOrRetryActsOnItsPathsExecutionWhateverTheBodySaysAndAParameterIsGivenOnce() {
        String other = awaitExecution(Json.parse(post("/api/events", "{\"type\":\"F_HTTP\",\"payload\":{}}").body())
                .path("event_id").asText(), "completed");
        for (String action : List.of("cancel", "retry")) {
            HttpResponse<String> response = send("POST", "/api/executions/no-such-execution/" + action, "executionId=" + other,
                    "Content-Type", "application/x-www-form-urlencoded");
            assertThat(response.statusCode()).as(action).isEqualTo(404);
            assertThat(Json.parse(response.body()).path("error").asText()).as(action).isEqualTo("no execution no-such-execution");
        }
        assertThat(executionStatus(other)).isEqualTo("completed");

        for (String query : List.of("?id=", "?ID=")) {   // Camel's headers ignore case
            HttpResponse<String> twice = get("/api/executions/" + other + query + other);
            assertThat(twice.statusCode()).as(query).isEqualTo(400);
            assertThat(Json.parse(twice.body()).path("error").asText()).as(query).containsIgnoringCase("parameter id is given more than once");
        }
        // nor does a forged cursor holding U+0000 reach the database
        String forged = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString("1:\u0000".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(get("/api/executions?after=" + forged).statusCode()).isEqualTo(400);
    }

    /** Numbers are kept as they were written: read as doubles, 12345678901234.56789 lost digits and 1e400 became "Infinity". */
    @Test
    void anEventsNumbersAreStoredAsWritten() {
        String eventId = Json.parse(post("/api/events", "{\"type\":\"NO_WORKFLOW_STARTS_ON_THIS\",\"payload\":"
                + "{\"money\": 12345678901234.56789, \"huge\": 1e400, \"scale\": 1.10}}").body()).path("event_id").asText();
        Map<String, Object> stored = await().atMost(Duration.ofSeconds(10)).until(() -> query("SELECT payload->>'money' AS money,"
                + " payload->>'huge' AS huge, payload->>'scale' AS scale FROM agent_events WHERE event_key = ?", eventId), rows -> !rows.isEmpty()).get(0);
        assertThat(stored).containsEntry("money", "12345678901234.56789").containsEntry("scale", "1.10");
        assertThat(new java.math.BigDecimal(stored.get("huge").toString())).isEqualByComparingTo("1e400");
        assertThat(get("/api/events/" + eventId).body()).contains("\"money\":12345678901234.56789");
    }

    /** A listing's filters come from its query string: a request header of the same name filters nothing. */
    @Test
    void aListingsFiltersComeFromItsQueryAloneAndEachOnce() {
        String completed = awaitExecution(Json.parse(post("/api/events", "{\"type\":\"F_HTTP\",\"payload\":{}}").body())
                .path("event_id").asText(), "completed");
        HttpResponse<String> byHeader = send("GET", "/api/executions?limit=1000", null, "status", "failed", "workflow_id", "ghost");
        assertThat(byHeader.statusCode()).isEqualTo(200);
        assertThat(Json.parse(byHeader.body()).path("executions").findValuesAsText("id")).contains(completed);
        HttpResponse<String> typeByHeader = send("GET", "/api/events?limit=1", null, "type", "GHOST");
        assertThat(Json.parse(typeByHeader.body()).path("count").asInt()).isEqualTo(1);

        for (String query : List.of("/api/events?type=F_HTTP&type=F_HTTP", "/api/executions?status=completed&status=completed")) {
            HttpResponse<String> twice = get(query);
            assertThat(twice.statusCode()).as(query).isEqualTo(400);
            assertThat(Json.parse(twice.body()).path("error").asText()).as(query).contains("is given more than once");
        }
        HttpResponse<String> encoded = get("/api/events?type=F%5FHTTP&limit=1");
        assertThat(Json.parse(encoded.body()).path("events").findValuesAsText("type")).containsExactly("F_HTTP");
    }

    @Test
    void aFaultOfTheCoordinatorIs500InJsonWithTheExchangeToFindInTheLog() {
        // a real fault: the statement's function is missing (schema drift), for this test only
        var jdbc = new org.springframework.jdbc.core.JdbcTemplate(TestCoordinator.shared().dataSource());
        String function = "list_executions(varchar, varchar, integer, bigint, varchar)";
        try (dev.agentcoordinator.DroppedAtClose moved = new dev.agentcoordinator.DroppedAtClose(jdbc)) {
            moved.create("ALTER FUNCTION " + function + " RENAME TO list_executions_moved",
                    "ALTER FUNCTION list_executions_moved(varchar, varchar, integer, bigint, varchar) RENAME TO list_executions");
            HttpResponse<String> response = get("/api/executions");
            assertThat(response.statusCode()).isEqualTo(500);
            assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
            assertThat(Json.parse(response.body()).path("error").asText())
                    .matches("internal error \\(exchange [0-9A-F-]+, see the coordinator's log\\)");
        }
        assertThat(get("/api/executions").statusCode()).isEqualTo(200);
    }

    /** What came in and what became of it, newest first, a page at a time; and each execution names its event. */
    @Test
    void eventsAreListedNewestFirstWithTheExecutionEachStarted() {
        List<String> events = new ArrayList<>();
        Map<String, String> executions = new java.util.HashMap<>();
        for (int i = 0; i < 3; i++) {
            // one at a time: events sent together are taken by several consumers, and stored in any order
            String event = sendEvent("F_HTTP", "{}");
            events.add(event);
            executions.put(event, awaitExecution(event, "completed"));
        }
        String nothing = Json.parse(post("/api/events", "{\"type\":\"LISTED_BUT_STARTS_NOTHING\",\"payload\":{}}").body())
                .path("event_id").asText();
        await().atMost(java.time.Duration.ofSeconds(20)).until(() -> get("/api/events/" + nothing).statusCode() == 200);

        JsonNode newest = Json.parse(get("/api/events?limit=1000").body());
        List<String> listed = new ArrayList<>();
        newest.path("events").forEach(e -> listed.add(e.path("event_id").asText()));
        assertThat(listed.indexOf(nothing)).as("newest first").isLessThan(listed.indexOf(events.get(2)));
        assertThat(listed.indexOf(events.get(2))).isLessThan(listed.indexOf(events.get(1)));
        assertThat(listed.indexOf(events.get(1))).isLessThan(listed.indexOf(events.get(0)));

        // filtered by type, two to a page: each event with its execution and that execution's status
        List<JsonNode> paged = new ArrayList<>();
        String after = "";
        do {
            JsonNode page = Json.parse(get("/api/events?type=F_HTTP&limit=2&after=" + after).body());
            assertThat(page.path("events").size()).isBetween(0, 2);
            page.path("events").forEach(paged::add);
            after = page.path("next").isNull() ? null : page.path("next").asText();
        } while (after != null && paged.size() < 10_000);
        assertThat(paged).allSatisfy(e -> assertThat(e.path("type").asText()).isEqualTo("F_HTTP"));
        for (String event : events) {
            JsonNode row = paged.stream().filter(e -> event.equals(e.path("event_id").asText())).findFirst().orElseThrow();
            assertThat(row.path("workflow_id").asText()).isEqualTo("f_http");
            assertThat(row.path("execution_id").asText()).isEqualTo(executions.get(event));
            assertThat(row.path("execution_status").asText()).isEqualTo("completed");
            assertThat(row.path("deliveries").asInt()).isEqualTo(1);
            assertThat(row.has("received_at")).isTrue();
            assertThat(row.has("page_cursor")).isFalse();
        }
        JsonNode unstarted = Json.parse(get("/api/events?type=LISTED_BUT_STARTS_NOTHING").body()).path("events");
        assertThat(unstarted).singleElement().satisfies(e -> {
            assertThat(e.path("event_id").asText()).isEqualTo(nothing);
            assertThat(e.path("execution_id").isNull()).isTrue();
            assertThat(e.path("execution_status").isNull()).isTrue();
        });

        HttpResponse<String> misspelt = get("/api/events?typ=F_HTTP&limit=1");
        assertThat(misspelt.statusCode()).isEqualTo(200);
        assertThat(Json.parse(misspelt.body()).path("warning").asText()).contains("typ");
        assertThat(get("/api/events?after=not-a-cursor").statusCode()).isEqualTo(400);
        assertThat(get("/api/events?limit=0").statusCode()).isEqualTo(400);
        assertThat(Json.parse(get("/api/events?limit=99999999999999999999").body()).path("error").asText())
                .isEqualTo("limit must be between 1 and 1000");
        // a cursor of the execution listing is no place in this one, nor the other way round
        String executionsNext = Json.parse(get("/api/executions?limit=1").body()).path("next").asText();
        HttpResponse<String> otherListings = get("/api/events?after=" + executionsNext);
        assertThat(otherListings.statusCode()).as(otherListings.body()).isEqualTo(400);
        assertThat(Json.parse(otherListings.body()).path("error").asText()).startsWith("after must be the \"next\" of an earlier page of this listing");
        assertThat(get("/api/executions?after=" + Json.parse(get("/api/events?limit=1").body()).path("next").asText()).statusCode())
                .isEqualTo(400);
        // a cursor an earlier release handed out (micros:id, without its listing's name) still pages
        String earlier = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(new String(java.util.Base64.getUrlDecoder()
                .decode(executionsNext), java.nio.charset.StandardCharsets.UTF_8).replaceFirst("^executions/", "")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(get("/api/executions?limit=1&after=" + earlier).statusCode()).isEqualTo(200);

        // the execution listing names each execution's event, as GET /api/executions/{id} does
        JsonNode listedExecutions = Json.parse(get("/api/executions?workflow_id=f_http&limit=1000").body()).path("executions");
        for (String event : events) {
            assertThat(listedExecutions).anySatisfy(x -> {
                assertThat(x.path("id").asText()).isEqualTo(executions.get(event));
                assertThat(x.path("event_id").asText()).isEqualTo(event);
            });
        }
    }

    @Test
    void theEventListingIsPlannedForEachCallsValues() {
        assertThat(query("SELECT proconfig::text AS config FROM pg_proc WHERE proname = 'list_events'"))
                .singleElement().satisfies(r -> assertThat((String) r.get("config")).contains("plan_cache_mode=force_custom_plan"));
    }

    @Test
    void theExecutionListingIsPlannedForEachCallsValues() {
        // V15: with a generic plan, a filter that matches few rows read the whole index on created_at
        assertThat(query("SELECT proconfig::text AS config FROM pg_proc WHERE proname = 'list_executions' AND pronargs = 5"))
                .singleElement().satisfies(r -> assertThat((String) r.get("config")).contains("plan_cache_mode=force_custom_plan"));
    }

    @Test
    void theCoordinatorsSessionsPlanEachStatementOnce() {
        // Database.java: a generic plan per prepared statement, not one for every call's values
        assertThat(query("SELECT current_setting('plan_cache_mode') AS mode"))
                .singleElement().satisfies(r -> assertThat(r).containsEntry("mode", "force_generic_plan"));
    }

    @Test
    void theLoadedWorkflowsAreListed() {
        HttpResponse<String> response = get("/api/workflows");

        assertThat(response.statusCode()).isEqualTo(200);
        List<String> ids = new ArrayList<>();
        Json.parse(response.body()).path("workflows").forEach(w -> ids.add(w.path("id").asText()));
        assertThat(ids).contains("f_http", "f_retry", "f_chain_first", "t_sequential");
        JsonNode http = null;
        for (JsonNode w : Json.parse(response.body()).path("workflows")) {
            if ("f_http".equals(w.path("id").asText())) {
                http = w;
            }
        }
        assertThat(http).isNotNull();
        assertThat(http.path("trigger").asText()).isEqualTo("F_HTTP");
        assertThat(http.path("steps").get(0).path("agent").asText()).isEqualTo("f-http-agent");
    }

    /**
     * An event answered 202 and then refused says why over HTTP: GET /api/events/{id} shows the dead letters of its
     * event_id (beside the stored event whose id a second one reused, or in the 404 of one never stored), and
     * GET /api/dead-letters lists them, read and not taken off the DLQ.
     */
    @Test
    void aRefusedEventShowsWhyOverHttp() {
        String reusedId = "f-http-reused-" + java.util.UUID.randomUUID();
        assertThat(post("/api/events", "{\"type\":\"F_HTTP\",\"payload\":{\"n\":1},\"event_id\":\"" + reusedId + "\"}")
                .statusCode()).isEqualTo(202);
        awaitExecution(reusedId, "completed");
        assertThat(post("/api/events", "{\"type\":\"F_HTTP\",\"payload\":{\"n\":2},\"event_id\":\"" + reusedId + "\"}")
                .statusCode()).isEqualTo(202);
        JsonNode stored = await().atMost(Duration.ofSeconds(20)).until(() -> Json.parse(get("/api/events/" + reusedId).body()),
                view -> view.path("dead_letters").size() == 1);
        assertThat(stored.at("/payload/n").asInt()).isEqualTo(1);
        JsonNode reuse = stored.path("dead_letters").get(0);
        assertThat(reuse.path("reason").asText()).contains("is already the id of another F_HTTP event, with another payload");
        assertThat(reuse.path("event_id").asText()).isEqualTo(reusedId);
        assertThat(reuse.path("type").asText()).isEqualTo("F_HTTP");
        assertThat(Json.parse(reuse.path("body").asText()).at("/payload/n").asInt()).isEqualTo(2);
        assertThat(reuse.path("message_id").asText()).isNotBlank();
        assertThat(java.time.Instant.parse(reuse.path("dead_lettered_at").asText())).isBeforeOrEqualTo(java.time.Instant.now());
        // put back, it would be refused again for its id: it stays (it was taken, and refused again under a new message id)
        HttpResponse<String> retriedReuse = post("/api/dead-letters/" + reuse.path("message_id").asText() + "/retry", "");
        assertThat(retriedReuse.statusCode()).isEqualTo(409);
        assertThat(Json.parse(retriedReuse.body()).path("error").asText()).isEqualTo("dead letter " + reuse.path("message_id").asText()
                + " stays on agent.events.DLQ: it would be refused again, its event_id \"" + reusedId + "\" is the id of another F_HTTP"
                + " event, with another payload (post the event corrected instead)");
        assertThat(Json.parse(get("/api/dead-letters?event_id=" + reusedId).body()).at("/dead_letters/0/message_id").asText())
                .isEqualTo(reuse.path("message_id").asText());

        // never stored: its 404 says why
        String refusedId = "f-http-refused-" + java.util.UUID.randomUUID();
        String refused = "{\"type\":\"F_HTTP\",\"payload\":\"not an object\",\"event_id\":\"" + refusedId + "\"}";
        HttpResponse<String> missing;
        List<String> progress;
        try (CapturedLog log = CapturedLog.of(Endpoints.PROGRESS_LOG)) {
            sendRaw(refused);
            missing = await().atMost(Duration.ofSeconds(20)).until(() -> get("/api/events/" + refusedId),
                    response -> Json.parse(response.body()).has("dead_letters"));
            progress = log.lines();
        }
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(Json.parse(missing.body()).path("error").asText()).isEqualTo("event " + refusedId + " was refused: agent.events.DLQ"
                + " holds it (event field \"payload\" must be an object, got string)");

        JsonNode listed = Json.parse(get("/api/dead-letters?event_id=" + refusedId).body());
        assertThat(listed.path("count").asInt()).isEqualTo(1);
        assertThat(listed.path("more").asBoolean()).isFalse();
        assertThat(listed.path("queue").asText()).isEqualTo("agent.events.DLQ");
        assertThat(listed.at("/dead_letters/0/body").asText()).isEqualTo(refused);
        assertThat(listed.has("warning")).isFalse();
        // the WARN names the event and the dead letter, as the listing does
        assertThat(progress).contains("WARN event " + refusedId + " sent to agent.events.DLQ as " + listed.at("/dead_letters/0/message_id").asText()
                + ": event field \"payload\" must be an object, got string");
        // read, not taken: still there
        JsonNode onlyPage = Json.parse(get("/api/dead-letters?event_id=" + refusedId).body());
        assertThat(onlyPage.path("count").asInt()).isEqualTo(1);
        assertThat(onlyPage.has("next") && onlyPage.path("next").isNull()).as("the last page's next, null as the other listings'").isTrue();
        // a page of one, with the reused id's dead letter there too
        JsonNode firstPage = Json.parse(get("/api/dead-letters?limit=1").body());
        assertThat(firstPage.path("dead_letters").size()).isEqualTo(1);
        assertThat(firstPage.path("more").asBoolean()).isTrue();
        String next = firstPage.path("next").asText();
        String firstId = firstPage.at("/dead_letters/0/message_id").asText();
        assertThat(next).endsWith(":" + firstId);
        JsonNode secondPage = Json.parse(get("/api/dead-letters?limit=1&after=" + next).body());
        assertThat(secondPage.at("/dead_letters/0/message_id").asText()).isNotBlank().isNotEqualTo(firstId);
        // a page still follows a dead letter gone since: after its time
        String gone = next.substring(0, next.indexOf(':')) + ":ID:gone-since";
        assertThat(Json.parse(get("/api/dead-letters?limit=1&after=" + gone).body()).at("/dead_letters/0/message_id").asText())
                .isEqualTo(secondPage.at("/dead_letters/0/message_id").asText());
        HttpResponse<String> notACursor = get("/api/dead-letters?after=ID:no-such-dead-letter");
        assertThat(notACursor.statusCode()).isEqualTo(400);
        assertThat(Json.parse(notACursor.body()).path("error").asText())
                .isEqualTo("after must be the \"next\" of an answer before (<time>:<message id>), got \"ID:no-such-dead-letter\"");
        // one dead letter, whole
        JsonNode one = Json.parse(get("/api/dead-letters/" + listed.at("/dead_letters/0/message_id").asText()).body());
        assertThat(one.path("body").asText()).isEqualTo(refused);
        assertThat(get("/api/dead-letters/ID:no-such-dead-letter").statusCode()).isEqualTo(404);
        // what would be refused again stays; it can be discarded
        String messageId = listed.at("/dead_letters/0/message_id").asText();
        HttpResponse<String> retried = post("/api/dead-letters/" + messageId + "/retry", "");
        assertThat(retried.statusCode()).isEqualTo(409);
        assertThat(Json.parse(retried.body()).path("error").asText()).isEqualTo("dead letter " + messageId + " stays on agent.events.DLQ:"
                + " it would be refused again, event field \"payload\" must be an object, got string (post the event corrected instead)");
        assertThat(Json.parse(get("/api/dead-letters?event_id=" + refusedId).body()).path("count").asInt()).isEqualTo(1);
        HttpResponse<String> discarded = delete("/api/dead-letters/" + messageId);
        assertThat(discarded.statusCode()).isEqualTo(200);
        assertThat(Json.parse(discarded.body()).path("event_id").asText()).isEqualTo(refusedId);
        assertThat(Json.parse(get("/api/dead-letters?event_id=" + refusedId).body()).path("count").asInt()).isZero();
        assertThat(delete("/api/dead-letters/" + messageId).statusCode()).isEqualTo(404);

        assertThat(Json.parse(get("/api/dead-letters?evnt_id=" + refusedId).body()).path("warning").asText())
                .isEqualTo("query parameter \"evnt_id\" ignored: the listing takes event_id, limit, after");
        HttpResponse<String> badLimit = get("/api/dead-letters?limit=0");
        assertThat(badLimit.statusCode()).isEqualTo(400);
        assertThat(Json.parse(badLimit.body()).path("error").asText()).isEqualTo("limit must be between 1 and 1000");
    }

    /**
     * A dead letter refused by a fault fixed since goes back on agent.events by request, as it came, and starts its
     * workflow; it is then off the DLQ, and a second retry finds nothing.
     */
    @Test
    void aDeadLetterRetriedAfterItsFaultIsFixedStartsItsWorkflow() {
        String eventId = "f-http-retried-" + java.util.UUID.randomUUID();
        org.springframework.jdbc.core.JdbcTemplate jdbc = new org.springframework.jdbc.core.JdbcTemplate(shared().dataSource());
        String refusal = "test_refuse_" + eventId.replace("-", "_");
        JsonNode deadLetter;
        try (dev.agentcoordinator.DroppedAtClose created = new dev.agentcoordinator.DroppedAtClose(jdbc)) {   // the fault is fixed at its end
            created.create("CREATE FUNCTION " + refusal + "() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'event % refused by the test',"
                    + " NEW.event_key; END; $$ LANGUAGE plpgsql", "DROP FUNCTION IF EXISTS " + refusal + "()");
            created.create("CREATE TRIGGER " + refusal + " BEFORE INSERT ON agent_events FOR EACH ROW WHEN (NEW.event_key = '"
                    + eventId + "') EXECUTE FUNCTION " + refusal + "()", "DROP TRIGGER IF EXISTS " + refusal + " ON agent_events");
            sendRaw("{\"type\":\"F_HTTP\",\"payload\":{\"from\":\"dlq\"},\"event_id\":\"" + eventId + "\"}");
            deadLetter = await().atMost(Duration.ofSeconds(30)).until(() -> Json.parse(get("/api/dead-letters?event_id=" + eventId).body()),
                    listed -> listed.path("count").asInt() == 1).at("/dead_letters/0");
            assertThat(deadLetter.path("reason").asText()).contains("refused by the test");
        }
        String messageId = deadLetter.path("message_id").asText();

        HttpResponse<String> retried = post("/api/dead-letters/" + messageId + "/retry", "");
        assertThat(retried.statusCode()).isEqualTo(202);
        assertThat(Json.parse(retried.body()).path("event_id").asText()).isEqualTo(eventId);
        String executionId = awaitExecution(eventId, "completed");
        assertThat(query("SELECT trigger_payload->>'from' AS origin FROM workflow_executions WHERE id = ?", executionId))
                .singleElement().satisfies(r -> assertThat(r).containsEntry("origin", "dlq"));
        assertThat(Json.parse(get("/api/dead-letters?event_id=" + eventId).body()).path("count").asInt()).isZero();
        assertThat(Json.parse(get("/api/events/" + eventId).body()).has("dead_letters")).isFalse();

        HttpResponse<String> again = post("/api/dead-letters/" + messageId + "/retry", "");
        assertThat(again.statusCode()).isEqualTo(404);
        assertThat(Json.parse(again.body()).path("error").asText()).startsWith("no dead letter " + messageId + " is on agent.events.DLQ");
    }

    /** A dead letter whose bytes are not UTF-8 would be refused again as it is: it stays, as one that is not JSON does. */
    @Test
    void aDeadLetterWhoseBytesAreNotUtf8StaysWhenRetried() {
        String eventId = "f-http-latin1-" + java.util.UUID.randomUUID();
        byte[] latin1 = ("{\"type\":\"F_HTTP\",\"event_id\":\"" + eventId + "\",\"payload\":{\"name\":\"caf\u00e9\"}}")
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        org.apache.camel.ProducerTemplate producer = shared().camelContext().createProducerTemplate();
        try {
            producer.sendBody("jms:queue:agent.events", latin1);   // a BytesMessage
        } finally {
            producer.stop();
        }
        String messageId = await().atMost(Duration.ofSeconds(30)).until(() -> Json.parse(get("/api/dead-letters?event_id=" + eventId).body()),
                listed -> listed.path("count").asInt() == 1).at("/dead_letters/0/message_id").asText();

        HttpResponse<String> retried = post("/api/dead-letters/" + messageId + "/retry", "");
        assertThat(retried.statusCode()).isEqualTo(409);
        assertThat(Json.parse(retried.body()).path("error").asText()).isEqualTo("dead letter " + messageId + " stays on agent.events.DLQ:"
                + " it would be refused again, event body is not UTF-8 text: byte 0xe9 at offset " + (latin1.length - 4)
                + " (post the event corrected instead)");
        assertThat(delete("/api/dead-letters/" + messageId).statusCode()).isEqualTo(200);
    }

    /** The whole HTTP/1.1 response to a GET of {@code pathAndQuery} sent as it is written. */
    private static String rawGet(String pathAndQuery) {
        return rawRequest("GET", pathAndQuery);
    }

    /** The whole answer to an HTTP/1.1 request without a body, sent over a socket as written. */
    private static String rawRequest(String method, String pathAndQuery) {
        return rawRequest(method, pathAndQuery, "Host: " + java.net.URI.create(shared().httpUrl()).getHost());
    }

    /** {@code headers}: the request's header lines, Host among them. */
    private static String rawRequest(String method, String pathAndQuery, String... headers) {
        java.net.URI server = java.net.URI.create(shared().httpUrl());
        try (java.net.Socket socket = new java.net.Socket(server.getHost(), server.getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write((method + " " + pathAndQuery + " HTTP/1.1\r\n" + String.join("\r\n", headers)
                    + "\r\nConnection: close\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
