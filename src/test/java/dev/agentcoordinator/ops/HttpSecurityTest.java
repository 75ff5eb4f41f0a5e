package dev.agentcoordinator.ops;

import dev.agentcoordinator.config.CoordinatorSettings;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** With a password configured, everything but the health probes needs HTTP basic credentials. */
class HttpSecurityTest {

    @Test
    void apiJolokiaAndMetricsNeedCredentials() {
        for (String path : new String[] {"/api/workflows", "/api/executions", "/observe/jolokia/version",
                "/observe/metrics", "/api/openapi.json"}) {
            HttpResponse<String> anonymous = OpsCoordinator.get(path, false);
            assertThat(anonymous.statusCode()).as("GET %s without credentials", path).isEqualTo(401);
            assertThat(anonymous.headers().firstValue("WWW-Authenticate")).as(path).hasValueSatisfying(h -> assertThat(h).startsWith("Basic"));
            // in JSON, as every other error
            assertThat(anonymous.headers().firstValue("Content-Type")).as(path).hasValue("application/json");
            assertThat(dev.agentcoordinator.engine.Json.parse(anonymous.body()).path("error").asText()).as(path)
                    .isEqualTo("GET " + path.replaceFirst("\\?.*", "") + " needs the credentials of coordinator.http.user (HTTP basic authentication)");
            assertThat(OpsCoordinator.get(path, true).statusCode()).as("GET %s with credentials", path).isEqualTo(200);
        }
        assertThat(OpsCoordinator.post("/api/events", "{\"type\":\"NOTHING_LISTENS\",\"payload\":{}}", false).statusCode()).isEqualTo(401);
    }

    /** A page of another site could post to the API or Jolokia through the browser, with its cached credentials. */
    @Test
    void whatABrowserSendsForAnotherSitesPageIsRefused() {
        for (String site : new String[] {"cross-site", "same-site"}) {
            HttpResponse<String> jolokia = OpsCoordinator.send("GET", "/observe/jolokia/version", null, true, "Sec-Fetch-Site", site);
            assertThat(jolokia.statusCode()).as(site).isEqualTo(403);
            assertThat(jolokia.body()).contains("another site");
            assertThat(OpsCoordinator.send("POST", "/api/events", "{\"type\":\"NOTHING_LISTENS\",\"payload\":{}}", true,
                    "Sec-Fetch-Site", site).statusCode()).as(site).isEqualTo(403);
        }
        for (String site : new String[] {"same-origin", "none"}) {   // the coordinator's own pages, a typed URL
            assertThat(OpsCoordinator.send("GET", "/observe/jolokia/version", null, true, "Sec-Fetch-Site", site).statusCode())
                    .as(site).isEqualTo(200);
        }
    }

    /**
     * A Jolokia operation by GET: an image or a link of any page makes a browser send it, and browsers before 2020 to
     * 2023 (Safari before 16.4) send neither Sec-Fetch-Site nor Origin with it. Refused; reads by GET, and operations by
     * POST (JolokiaPolicyTest), pass.
     */
    @Test
    void aJolokiaOperationByGetIsRefused() {
        for (String path : new String[] {"/observe/jolokia/exec/java.lang:type=Memory/gc()", "/observe/jolokia/EXEC/java.lang:type=Memory/gc()",
                "/observe/jolokia/%65xec/java.lang:type=Memory/gc()", "/observe/jolokia/./exec/java.lang:type=Memory/gc()",
                "/observe/jolokia/?p=/exec/java.lang:type%3DMemory/gc()", "/observe/jolokia/read/x?p=exec/java.lang:type%3DMemory/gc()",
                // Jolokia takes the path when it is not empty, whatever p says (the diff reviewer's bypass)
                "/observe/jolokia/exec/java.lang:type=Memory/gc()?p=/read/java.lang:type%3DRuntime/Uptime",
                "/observe/jolokia/exec/java.lang:type=Memory/gc()?p=", "/observe/jolokia/exec/java.lang:type=Memory/gc()?p=version"}) {
            HttpResponse<String> answer = OpsCoordinator.get(path, true);
            assertThat(answer.statusCode()).as("GET %s: %s", path, answer.body()).isEqualTo(405);
            assertThat(answer.headers().firstValue("Allow")).as(path).hasValue("POST");
            assertThat(answer.body()).as(path).contains("send operations by POST");
        }
        assertThat(OpsCoordinator.get("/observe/jolokia/read/java.lang:type=Runtime/Uptime", true).statusCode()).isEqualTo(200);
        assertThat(OpsCoordinator.get("/observe/jolokia/?p=/read/java.lang:type%3DRuntime/Uptime", true).statusCode()).isEqualTo(200);
        assertThat(OpsCoordinator.get("/observe/jolokia/list/java.lang", true).statusCode()).isEqualTo(200);
    }

    /**
     * A request without credentials is refused before its body is read, and its connection does not wait for the rest
     * of the body: a client sending a byte of it now and then held the connection as long as it liked.
     */
    @Test
    void aRefusedRequestsUnsentBodyDoesNotHoldItsConnection() throws Exception {
        java.net.URI base = java.net.URI.create(OpsCoordinator.shared().httpUrl());
        try (java.net.Socket socket = new java.net.Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout(20_000);   // a read that waits longer fails the test
            socket.getOutputStream().write(("POST /api/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 1000000\r\n\r\n{\"type\":").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            byte[] answer = socket.getInputStream().readAllBytes();   // up to the end the server's close makes
            assertThat(new String(answer, java.nio.charset.StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 401 ")
                    .contains("needs the credentials of coordinator.http.user");
        }
    }

    @Test
    void wrongPasswordIsRefused() {
        HttpResponse<String> response = OpsCoordinator.get("/api/workflows", false);
        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.body()).doesNotContain(OpsCoordinator.PASSWORD);
    }

    @Test
    void healthProbesAreOpen() {
        assertThat(OpsCoordinator.get("/observe/health", false).statusCode()).isEqualTo(200);
        assertThat(OpsCoordinator.get("/observe/health/ready", false).statusCode()).isEqualTo(200);
        assertThat(OpsCoordinator.get("/observe/health/live", false).statusCode()).isEqualTo(200);
        // each check's details and stack traces only with credentials
        assertThat(OpsCoordinator.get("/observe/health?exposureLevel=full&stackTrace=true", false).statusCode()).isEqualTo(401);
        assertThat(OpsCoordinator.get("/observe/health?data=true", false).statusCode()).isEqualTo(401);
        HttpResponse<String> full = OpsCoordinator.get("/observe/health?exposureLevel=full", true);
        assertThat(full.statusCode()).isEqualTo(200);
        assertThat(full.body()).contains("database");
    }

    @Test
    void withoutPasswordTheServerMustListenOnLoopback() {
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("http.host", "0.0.0.0", "http.password", "")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("coordinator.http.password").hasMessageContaining("0.0.0.0");
        assertThat(CoordinatorSettings.fromMap(Map.of("http.host", "127.0.0.1", "http.password", "")).httpAuthenticationEnabled()).isFalse();
        assertThat(CoordinatorSettings.fromMap(Map.of("http.host", "localhost", "http.password", "")).httpAuthenticationEnabled()).isFalse();
        assertThat(CoordinatorSettings.fromMap(Map.of("http.host", "0.0.0.0", "http.password", "x")).httpAuthenticationEnabled()).isTrue();
    }

    @Test
    void secretsStayOutOfSettingsTextAndSummary() {
        CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of("http.password", "pw-http", "broker.password", "pw-broker",
                "db.password", "pw-db", "db.url", "jdbc:postgresql://db:5432/c?user=u&password=pw-url"));
        assertThat(settings.toString()).doesNotContain("pw-http", "pw-broker", "pw-db", "pw-url").contains("http.password=****");
        assertThat(OpsCoordinator.shared().summary()).doesNotContain(OpsCoordinator.PASSWORD);
    }
}
