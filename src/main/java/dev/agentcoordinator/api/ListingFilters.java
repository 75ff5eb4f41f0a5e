package dev.agentcoordinator.api;

import org.apache.camel.Exchange;
import org.apache.camel.Message;

import java.util.List;

import static dev.agentcoordinator.api.RequestParameters.blankToNull;

/**
 * The filters and paging of the listings (GET /api/executions, /api/events, /api/dead-letters), read from their
 * query parameters into the headers their statements take; a parameter a listing does not take is named in a warning.
 */
final class ListingFilters {
    /** Every status workflow_executions.status takes (CONTRACT.md section 3, and the compensation's). */
    static final List<String> EXECUTION_STATUSES = List.of("pending", "running", "completed", "failed", "cancelled",
            "compensating", "compensated", "compensation_failed");
    /** The listing's query parameters: a misspelt one (?wf=) lists every execution, unfiltered, so it is named. */
    private static final List<String> LISTING_PARAMETERS = List.of("workflow_id", "status", "limit", "after");
    private static final List<String> EVENT_LISTING_PARAMETERS = List.of("type", "limit", "after");
    /** Exchange property: the warning of a listing's answer, naming the query parameters it ignored. */
    static final String LISTING_WARNING = "listingWarning";

    private ListingFilters() {
    }

    /** GET /api/executions: a workflow, a status (one of {@link #EXECUTION_STATUSES}), and the page. */
    static void executions(Exchange exchange) {
        Message in = exchange.getMessage();
        unknownParameters(exchange, LISTING_PARAMETERS).ifPresent(warning -> exchange.setProperty(LISTING_WARNING, warning));
        in.setHeader("workflowFilter", blankToNull(in.getHeader("workflow_id", String.class)));
        String status = blankToNull(in.getHeader("status", String.class));
        if (status != null && !EXECUTION_STATUSES.contains(status)) {
            // a misspelt status (complete, error) would list nothing, as if no execution had it
            throw new IllegalArgumentException("status must be one of " + String.join(", ", EXECUTION_STATUSES)
                    + ", got \"" + status + "\"");
        }
        in.setHeader("statusFilter", status);
        pageOf(in, "executions");
    }

    /** GET /api/events: a type (as events carry it), and the page. */
    static void events(Exchange exchange) {
        Message in = exchange.getMessage();
        unknownParameters(exchange, EVENT_LISTING_PARAMETERS).ifPresent(warning -> exchange.setProperty(LISTING_WARNING, warning));
        in.setHeader("typeFilter", blankToNull(in.getHeader("type", String.class)));
        pageOf(in, "events");
    }

    /** A listing's page: its {@code limit}, and where the page before ended ({@code after}). */
    private static void pageOf(Message in, String listing) {
        in.setHeader("limit", limit(in));
        String after = blankToNull(in.getHeader("after", String.class));
        ListingCursor cursor = after == null ? null : ListingCursor.read(listing, after);
        in.setHeader("afterMicros", cursor == null ? null : cursor.afterMicros());
        in.setHeader("afterId", cursor == null ? null : cursor.afterId());
    }

    /** A listing's {@code limit}: 1 to 1000, 50 when it is not given. */
    static int limit(Message in) {
        // an empty limit (?limit=, as the README's template shows it) is the default, as the other filters' are
        String limit = java.util.Objects.requireNonNullElse(blankToNull(in.getHeader("limit", String.class)), "50");
        int parsed;
        try {
            parsed = Integer.parseInt(limit);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(limit.trim().matches("[+-]?\\d+") ? "limit must be between 1 and 1000"
                    : "limit must be a number, got \"" + limit + "\"");
        }
        if (parsed < 1 || parsed > 1000) {
            throw new IllegalArgumentException("limit must be between 1 and 1000");
        }
        return parsed;
    }

    /**
     * The query parameters a listing does not take, named for a "warning" of its answer: still answered
     * (a cache-buster such as {@code ?_=…} is no mistake), but a misspelt filter is not left unsaid.
     */
    static java.util.Optional<String> unknownParameters(Exchange exchange, List<String> known) {
        String query = exchange.getMessage().getHeader(Exchange.HTTP_QUERY, String.class);
        if (query == null || query.isEmpty()) {
            return java.util.Optional.empty();
        }
        java.util.Set<String> unknown = new java.util.LinkedHashSet<>();
        for (String pair : query.split("&")) {
            String name = pair.split("=", 2)[0];
            try {
                name = java.net.URLDecoder.decode(name, java.nio.charset.StandardCharsets.UTF_8);
            } catch (IllegalArgumentException undecodable) {
                // named as it came
            }
            if (!name.isEmpty() && !known.contains(name)) {
                unknown.add(name);
            }
        }
        if (unknown.isEmpty()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("query parameter" + (unknown.size() == 1 ? " " : "s ")
                + unknown.stream().map(n -> '"' + n + '"').collect(java.util.stream.Collectors.joining(", "))
                + " ignored: the listing takes " + String.join(", ", known));
    }
}
