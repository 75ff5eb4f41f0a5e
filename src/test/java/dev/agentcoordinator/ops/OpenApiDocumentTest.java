package dev.agentcoordinator.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.model.Model;
import org.apache.camel.model.rest.RestDefinition;
import org.apache.camel.model.rest.VerbDefinition;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** The served OpenAPI document lists exactly the operations the Rest DSL defines. */
class OpenApiDocumentTest {

    @Test
    void documentMatchesTheRestDefinitions() throws Exception {
        HttpResponse<String> response = OpsCoordinator.get("/api/openapi.json", true);
        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode document = new ObjectMapper().readTree(response.body());
        assertThat(document.path("openapi").asText()).startsWith("3.");
        assertThat(document.path("info").path("title").asText()).isEqualTo("Agent Coordinator API");
        // where a client reaches the API, not the listening address (0.0.0.0 in a container) without its port
        assertThat(document.path("servers").toString()).isEqualTo("[{\"url\":\"" + OpsCoordinator.shared().httpUrl() + "\"}]");

        Set<String> documented = new TreeSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> paths = document.path("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> path = paths.next();
            path.getValue().fieldNames().forEachRemaining(method -> documented.add(method.toUpperCase(Locale.ROOT) + " " + path.getKey()));
        }

        Set<String> defined = new TreeSet<>();
        Model model = OpsCoordinator.shared().camelContext().getCamelContextExtension().getContextPlugin(Model.class);
        for (RestDefinition rest : model.getRestDefinitions()) {
            for (VerbDefinition verb : rest.getVerbs()) {
                defined.add(verb.asVerb().toUpperCase(Locale.ROOT) + " " + join(rest.getPath(), verb.getPath()));
            }
        }
        assertThat(defined).contains("GET /api/executions/{id}", "POST /api/events");
        assertThat(documented).isEqualTo(defined);

        // every operation named, and each answer described (OpenAPI 3 requires a response's description)
        JsonNode getExecution = document.path("paths").path("/api/executions/{id}").path("get");
        assertThat(getExecution.path("operationId").asText()).isEqualTo("getExecution");
        assertThat(document.path("paths").path("/api/events").path("post").path("responses").path("202").path("description").asText())
                .startsWith("accepted");
        List<String> undescribed = new ArrayList<>();
        document.path("paths").forEach(path -> path.forEach(operation -> operation.path("responses").fields().forEachRemaining(
                answer -> {
                    if (answer.getValue().path("description").asText("").isEmpty()) {
                        undescribed.add(operation.path("operationId").asText() + " " + answer.getKey());
                    }
                })));
        assertThat(undescribed).isEmpty();

        // the listing's filters, with the statuses the API accepts (a misspelt one is 400)
        JsonNode listing = document.path("paths").path("/api/executions").path("get").path("parameters");
        List<String> parameters = new ArrayList<>();
        listing.forEach(p -> parameters.add(p.path("in").asText() + " " + p.path("name").asText()));
        assertThat(parameters).containsExactly("query workflow_id", "query status", "query limit", "query after");
        List<String> statuses = new ArrayList<>();
        listing.get(1).path("schema").path("enum").forEach(v -> statuses.add(v.asText()));
        assertThat(statuses).contains("running", "completed", "failed", "compensation_failed").hasSize(8);
    }

    private static String join(String base, String path) {
        String b = base == null ? "" : base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        String p = path == null ? "" : path.startsWith("/") ? path : "/" + path;
        return b + p;
    }
}
