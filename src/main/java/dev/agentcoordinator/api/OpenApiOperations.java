package dev.agentcoordinator.api;

import org.apache.camel.model.rest.ResponseMessageDefinition;
import org.apache.camel.model.rest.RestDefinition;
import org.apache.camel.model.rest.RestsDefinition;
import org.apache.camel.model.rest.VerbDefinition;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Each operation of the OpenAPI document (GET /api/openapi.json) with its answers and a name: without them every
 * operation had only an empty "default" response, which OpenAPI 3 refuses (a response needs a description), and an
 * operationId such as {@code verb7}, which a generated client names its methods after.
 */
final class OpenApiOperations {
    /** The routes (direct:api.&lt;name&gt;) that answer 202: what they were given is taken, and carried on with later. */
    private static final Set<String> ACCEPTED = Set.of("post-event", "post-step-reply", "post-message", "retry-execution", "retry-dead-letter");

    private OpenApiOperations() {
    }

    static void describe(RestsDefinition rests) {
        for (RestDefinition rest : rests.getRests()) {
            for (VerbDefinition verb : rest.getVerbs()) {
                String route = verb.getTo().getUri().replaceFirst("^direct:api\\.", "");
                if (verb.getId() == null) {
                    verb.setId(camelCase(route));   // get-execution: getExecution
                }
                if (verb.getResponseMsgs() == null || verb.getResponseMsgs().isEmpty()) {
                    List<ResponseMessageDefinition> answers = new ArrayList<>();
                    boolean accepted = ACCEPTED.contains(route);
                    answers.add(answer(verb, accepted ? "202" : "200", accepted ? "accepted: the JSON answer names what was taken"
                            : "the JSON answer"));
                    answers.add(answer(verb, "default", "an error, in JSON: {\"error\": \"what is wrong, and where\"}"));
                    verb.setResponseMsgs(answers);
                }
            }
        }
    }

    private static ResponseMessageDefinition answer(VerbDefinition verb, String code, String description) {
        ResponseMessageDefinition answer = new ResponseMessageDefinition(verb);
        answer.setCode(code);
        answer.setMessage(description);
        return answer;
    }

    static String camelCase(String dashed) {
        StringBuilder name = new StringBuilder(dashed.length());
        boolean upper = false;
        for (char c : dashed.toCharArray()) {
            if (c == '-') {
                upper = true;
            } else {
                name.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return name.toString();
    }
}
