package dev.agentcoordinator.ops;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentcoordinator.engine.Json;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What Jolokia lets a caller do (src/main/resources/jolokia-access.xml): Hawtio's reads and route dumps, but
 * no operation that reaches an endpoint with the coordinator's resources (Camel's sendStringBody to
 * {@code sql:} ran any SQL), and no JVM argument, which may carry a password.
 */
class JolokiaPolicyTest {

    private static JsonNode jolokia(String request) {
        return Json.parse(OpsCoordinator.post("/observe/jolokia", request, true).body());
    }

    private static String camelContextMBean() {
        JsonNode found = jolokia("{\"type\":\"search\",\"mbean\":\"org.apache.camel:type=context,*\"}");
        assertThat(found.path("status").asInt()).as(found.toString()).isEqualTo(200);
        return found.path("value").get(0).asText();
    }

    /** The first MBean matching {@code pattern}, once registered (Camel registers them just after ready). */
    private static String firstMBean(String pattern) {
        return org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> jolokia("{\"type\":\"search\",\"mbean\":\"" + pattern + "\"}").path("value"), found -> found.isArray() && found.size() > 0)
                .path(0).asText();
    }

    @Test
    void hawtiosReadsAndDumpsAreAllowed() {
        String context = camelContextMBean();
        JsonNode dump = jolokia("{\"type\":\"exec\",\"mbean\":" + Json.write(context) + ",\"operation\":\"dumpRoutesAsXml()\"}");
        assertThat(dump.path("status").asInt()).as(dump.toString()).isEqualTo(200);
        assertThat(dump.path("value").asText()).contains("coordinator.fan-in");
        JsonNode uptime = jolokia("{\"type\":\"read\",\"mbean\":\"java.lang:type=Runtime\",\"attribute\":\"Uptime\"}");
        assertThat(uptime.path("status").asInt()).isEqualTo(200);
    }

    @Test
    void operationsThatSendWithTheCoordinatorsResourcesAreDenied() {
        String context = camelContextMBean();
        for (String operation : new String[] {"sendStringBody(java.lang.String,java.lang.String)", "sendStringBody",
                "requestStringBody(java.lang.String,java.lang.String)", "createEndpoint(java.lang.String)", "stop()", "stop"}) {
            JsonNode answer = jolokia("{\"type\":\"exec\",\"mbean\":" + Json.write(context) + ",\"operation\":" + Json.write(operation)
                    + ",\"arguments\":[\"sql:CREATE TABLE jolokia_was_here (x int)\",\"x\"]}");
            assertThat(answer.path("status").asInt()).as(operation + ": " + answer).isEqualTo(403);
        }
        assertThat(OpsDb.text("SELECT to_regclass('jolokia_was_here')::text")).isNull();
    }

    /** Each left the coordinator broken while it looked started (a removed reply route, a stopped HTTP server, a disabled check). */
    @Test
    void operationsThatBreakTheCoordinatorUnderneathItsRoutesAreDenied() {
        String route = firstMBean("org.apache.camel:type=routes,name=\\\"coordinator.replies\\\",*");
        String service = firstMBean("org.apache.camel:type=services,*");
        String consumer = firstMBean("org.apache.camel:type=consumers,*");
        String health = firstMBean("org.apache.camel:type=health,*");
        String[][] denied = {{route, "remove()"}, {route, "stopAndFail()"}, {service, "stop()"}, {consumer, "suspend()"},
                {health, "disableById(java.lang.String)"}};
        for (String[] call : denied) {
            JsonNode answer = jolokia("{\"type\":\"exec\",\"mbean\":" + Json.write(call[0]) + ",\"operation\":" + Json.write(call[1])
                    + (call[1].contains("String") ? ",\"arguments\":[\"database\"]" : "") + "}");
            assertThat(answer.path("status").asInt()).as(call[0] + " " + call[1] + ": " + answer).isEqualTo(403);
        }
        assertThat(OpsCoordinator.get("/api/workflows", true).statusCode()).isEqualTo(200);
    }

    /** Attribute writes are refused, and so are the setter operations that do the same (a stop's drain cut to 1 ns). */
    @Test
    void settersThatDoWhatAnAttributeWriteWouldAreDenied() {
        String context = camelContextMBean();
        String pool = firstMBean("org.apache.camel:type=threadpools,*");
        String[][] denied = {{context, "setTimeout(long)", "1"}, {context, "setShutdownNowOnTimeout(boolean)", "true"},
                {context, "setStatisticsEnabled(java.lang.Boolean)", "false"}, {pool, "setCorePoolSize(int)", "7"}, {pool, "purge()", null}};
        for (String[] call : denied) {
            JsonNode answer = jolokia("{\"type\":\"exec\",\"mbean\":" + Json.write(call[0]) + ",\"operation\":" + Json.write(call[1])
                    + (call[2] == null ? "" : ",\"arguments\":[" + call[2] + "]") + "}");
            assertThat(answer.path("status").asInt()).as(call[0] + " " + call[1] + ": " + answer).isEqualTo(403);
        }
        JsonNode timeout = jolokia("{\"type\":\"read\",\"mbean\":" + Json.write(context) + ",\"attribute\":\"Timeout\"}");
        assertThat(timeout.path("value").asLong()).as(timeout.toString()).isGreaterThan(1);
    }

    @Test
    void theJvmsArgumentsAreNotReadable() {
        for (String attribute : new String[] {"InputArguments", "SystemProperties"}) {
            JsonNode answer = jolokia("{\"type\":\"read\",\"mbean\":\"java.lang:type=Runtime\",\"attribute\":\"" + attribute + "\"}");
            assertThat(answer.path("status").asInt()).as(attribute + ": " + answer).isEqualTo(403);
        }
    }
}
