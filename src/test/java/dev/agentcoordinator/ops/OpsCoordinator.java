package dev.agentcoordinator.ops;

import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.TestFolders;
import dev.agentcoordinator.config.CoordinatorSettings;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;

/**
 * One real coordinator for the operations tests of a JVM, set up as in production as far as the
 * HTTP side goes: a password is configured, so the API, Jolokia and the metrics need credentials.
 * Embedded broker and database, the shipped workflows, demo agents on.
 */
final class OpsCoordinator {
    static final String USER = "ops";
    static final String PASSWORD = "s3cret-ops-pw";

    private static RunningCoordinator shared;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private OpsCoordinator() {
    }

    static synchronized RunningCoordinator shared() {
        if (shared == null) {
            try {
                java.nio.file.Path data = TestFolders.create("coordinator-ops-test");
                Map<String, String> overrides = new java.util.HashMap<>(Map.of(
                        "data.dir", dev.agentcoordinator.DatabaseTemplate.seeded(data).toString(),
                        "broker.url", "", "db.url", "",
                        // a port of its own rather than 0: the OpenAPI document names a configured port (OpenApiDocumentTest)
                        "broker.embedded.port", "0", "http.port", Integer.toString(dev.agentcoordinator.infra.FreePort.on("127.0.0.1")),
                        "http.host", "127.0.0.1",
                        "workflows.dir", "routes/workflows",
                        "demo-agents.enabled", "true"));
                overrides.putAll(Map.of("http.user", USER, "http.password", PASSWORD, "metrics.refresh-ms", "200"));
                CoordinatorSettings settings = CoordinatorSettings.fromMap(overrides);
                shared = CoordinatorApp.start(settings);
                TestFolders.closeThenDeleteAtExit(shared, data);
            } catch (Exception e) {
                throw new IllegalStateException("cannot start the operations test coordinator", e);
            }
        }
        return shared;
    }

    static HttpResponse<String> get(String path, boolean withCredentials) {
        return send(request(path, withCredentials).GET().build());
    }

    static HttpResponse<String> post(String path, String json, boolean withCredentials) {
        return send(request(path, withCredentials).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)).build());
    }

    /** A request with extra headers (name, value, name, value, ...); a body is sent as JSON. */
    static HttpResponse<String> send(String method, String path, String json, boolean withCredentials, String... headers) {
        HttpRequest.Builder builder = request(path, withCredentials);
        for (int i = 0; i + 1 < headers.length; i += 2) {
            builder.header(headers[i], headers[i + 1]);
        }
        if (json != null) {
            builder.header("Content-Type", "application/json");
        }
        return send(builder.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)).build());
    }

    private static HttpRequest.Builder request(String path, boolean withCredentials) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(shared().httpUrl() + path)).timeout(Duration.ofSeconds(20));
        if (withCredentials) {
            builder.header("Authorization", "Basic " + Base64.getEncoder()
                    .encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8)));
        }
        return builder;
    }

    private static HttpResponse<String> send(HttpRequest request) {
        try {
            return HTTP.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new IllegalStateException(request.method() + " " + request.uri() + " failed", e);
        }
    }
}
