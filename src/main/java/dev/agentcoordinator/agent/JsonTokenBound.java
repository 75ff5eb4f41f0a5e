package dev.agentcoordinator.agent;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import java.util.Locale;

/**
 * The most JSON tokens (keys, values, brackets) an agent reads of one request, agent message or response, with the
 * mapper whose parser stops past them: unbounded, a body of a few MB of keys or zeros built a tree of hundreds of MB in
 * the agent's heap. One per service or messenger, built once and shared by its consumers (a mapper is costly to build).
 */
final class JsonTokenBound {
    /** The coordinator's own default bound on what it reads ({@code coordinator.input.max-json-tokens}). */
    static final int DEFAULT_MAX_TOKENS = 1_000_000;
    /** As the coordinator's setting: room for any control message. */
    static final int LEAST_MAX_TOKENS = 1_000;
    static final String SERVICE_OPTION = "AgentService.Builder.maxJsonTokens";
    static final String MESSENGER_OPTION = "AgentMessenger.connect's maxJsonTokens";

    static final JsonTokenBound DEFAULT = new JsonTokenBound(DEFAULT_MAX_TOKENS, SERVICE_OPTION);

    private final int maxTokens;
    /** What to raise, named in the error: a step's request may carry several steps' outputs, each within the coordinator's bound. */
    private final String option;
    private final ObjectMapper mapper;

    JsonTokenBound(int maxTokens, String option) {
        if (maxTokens < LEAST_MAX_TOKENS) {
            throw new IllegalArgumentException(option + " must be at least " + LEAST_MAX_TOKENS + ", was " + maxTokens);
        }
        this.maxTokens = maxTokens;
        this.option = option;
        this.mapper = JsonMapper.builder(JsonFactory.builder()
                        .streamReadConstraints(StreamReadConstraints.builder().maxTokenCount(maxTokens).build())
                        .build())
                .addModule(new JavaTimeModule())
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .build();
    }

    int maxTokens() {
        return maxTokens;
    }

    /** Reads at most {@link #maxTokens()} tokens of a document; writes as any mapper. */
    ObjectMapper mapper() {
        return mapper;
    }

    /** "{@code what} has more than 1,000,000 JSON tokens … (option)" when the parser stopped at the bound, else null. */
    String tooManyTokens(String what, JsonProcessingException e) {
        // read into a class (a request), the parser's exception comes wrapped in a mapping one
        for (Throwable cause = e; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof StreamConstraintsException constraint
                    && String.valueOf(constraint.getOriginalMessage()).startsWith("Token count")) {
                return String.format(Locale.ROOT, "%s has more than %,d JSON tokens (keys, values, brackets): at most %,d are read (%s)",
                        what, maxTokens, maxTokens, option);
            }
        }
        return null;
    }
}
