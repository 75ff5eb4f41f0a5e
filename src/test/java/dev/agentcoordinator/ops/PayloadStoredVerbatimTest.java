package dev.agentcoordinator.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Events whose payloads look like SQL, placeholders or expressions, carry quotes, 100 kB strings and
 * unicode are stored exactly as sent: every statement binds its values, none is built from text.
 */
class PayloadStoredVerbatimTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    static Map<String, String> hostileValues() {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("interview_id", "i-verbatim'); DROP TABLE agent_events; --");
        values.put("user_id", "u' OR '1'='1");
        values.put("sql_comment", "x */ SELECT pg_sleep(10); /* -- ; DELETE FROM workflow_executions WHERE '' = ''");
        values.put("quotes", "single ' double \" backtick ` backslash \\ dollar-quoted $$ $tag$ E'\\x00'");
        values.put("placeholders", ":#executionId ? $1 :name ${header.executionId} {{coordinator.db.password}} %s %n");
        values.put("casts", "'::jsonb || '{\"status\":\"completed\"}'::jsonb");
        values.put("unicode", "emoji 🧠🤖👩🏽‍💻 rtl עברית العربية \u202Eeno\u202C combining e\u0301 cjk 漢字 zero-width \u200B\u200D");
        values.put("control", "tab\tnewline\ncarriage\rbell\u0007 escape\u001b");
        values.put("long", "0123456789abcdef".repeat(6400));   // 100 kB
        return values;
    }

    @Test
    void hostilePayloadsAreStoredVerbatim() throws Exception {
        ObjectNode payload = JSON.createObjectNode();
        hostileValues().forEach(payload::put);
        payload.putObject("nested").put("deep", hostileValues().get("interview_id")).putArray("list").add(hostileValues().get("unicode"));
        ObjectNode event = JSON.createObjectNode();
        event.put("type", "INTERVIEW_COMPLETED");
        event.put("event_id", "evt-'; DROP TABLE workflow_executions; -- " + System.nanoTime());
        event.set("payload", payload);

        HttpResponse<String> posted = OpsCoordinator.post("/api/events", JSON.writeValueAsString(event), true);
        assertThat(posted.statusCode()).as(posted.body()).isEqualTo(202);
        String eventId = JSON.readTree(posted.body()).get("event_id").asText();
        assertThat(eventId).isEqualTo(event.get("event_id").asText());

        await().atMost(Duration.ofSeconds(30)).until(() ->
                OpsDb.text("SELECT id FROM workflow_executions WHERE trigger_event_key = ?", eventId) != null);

        JsonNode storedEvent = JSON.readTree(OpsDb.text("SELECT payload::text FROM agent_events WHERE event_key = ?", eventId));
        JsonNode storedTrigger = JSON.readTree(OpsDb.text("SELECT trigger_payload::text FROM workflow_executions WHERE trigger_event_key = ?", eventId));
        assertThat(storedEvent).isEqualTo(payload);
        assertThat(storedTrigger).isEqualTo(payload);
        for (Map.Entry<String, String> value : hostileValues().entrySet()) {
            assertThat(OpsDb.text("SELECT payload->>? FROM agent_events WHERE event_key = ?", value.getKey(), eventId))
                    .as(value.getKey()).isEqualTo(value.getValue());
            assertThat(OpsDb.text("SELECT trigger_payload->>? FROM workflow_executions WHERE trigger_event_key = ?", value.getKey(), eventId))
                    .as(value.getKey()).isEqualTo(value.getValue());
        }
        assertThat(OpsDb.text("SELECT type FROM agent_events WHERE event_key = ?", eventId)).isEqualTo("INTERVIEW_COMPLETED");
        assertThat(OpsDb.text("SELECT count(*) FROM workflow_executions")).isNotEqualTo("0");
    }

    @Test
    void hostileEventTypeIsStoredVerbatimToo() throws Exception {
        String type = "NO_WORKFLOW'); DELETE FROM agent_events; -- 🧨";
        ObjectNode event = JSON.createObjectNode();
        event.put("type", type);
        event.putObject("payload").put("note", hostileValues().get("quotes"));
        HttpResponse<String> posted = OpsCoordinator.post("/api/events", JSON.writeValueAsString(event), true);
        assertThat(posted.statusCode()).as(posted.body()).isEqualTo(202);
        String eventId = JSON.readTree(posted.body()).get("event_id").asText();
        await().atMost(Duration.ofSeconds(30)).until(() -> OpsDb.text("SELECT type FROM agent_events WHERE event_key = ?", eventId) != null);
        assertThat(OpsDb.text("SELECT type FROM agent_events WHERE event_key = ?", eventId)).isEqualTo(type);
        assertThat(OpsDb.text("SELECT payload->>'note' FROM agent_events WHERE event_key = ?", eventId)).isEqualTo(hostileValues().get("quotes"));
    }
}
