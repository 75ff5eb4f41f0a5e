package dev.agentcoordinator.api;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a page of the execution listing ended: the last row's created_at (epoch microseconds, as
 * PostgreSQL keeps it) and id, which {@code list_executions} (V17) writes as {@code micros:id}. Handed
 * out opaque (base64url), so clients pass it back as it is instead of building one, and named after its listing
 * ({@code executions/micros:id}), so that one listing's cursor is not taken for a place in another.
 */
record ListingCursor(long afterMicros, String afterId) {
    /** An id without U+0000, which PostgreSQL cannot compare with (a forged cursor would be a 500). */
    private static final Pattern FORM = Pattern.compile("(\\d{1,18}):([^\\x00]+)", Pattern.DOTALL);

    /** The listings that hand cursors out: {@code GET /api/executions}, {@code GET /api/events}. */
    private static final Pattern LISTING = Pattern.compile("(executions|events)/(.*)", Pattern.DOTALL);

    /** The cursor a client of {@code listing} gets for the row whose {@code page_cursor} column is {@code pageCursor}. */
    static String handOut(String listing, String pageCursor) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString((listing + "/" + pageCursor).getBytes(StandardCharsets.UTF_8));
    }

    /** The position a client's {@code after} names; IllegalArgumentException (a 400) when it is no cursor of ours. */
    static ListingCursor read(String listing, String after) {
        Matcher form;
        try {
            String position = new String(Base64.getUrlDecoder().decode(after), StandardCharsets.UTF_8);
            Matcher named = LISTING.matcher(position);
            // one of another listing is refused; one without a name is of an earlier release's page (micros:id)
            form = named.matches() ? (named.group(1).equals(listing) ? FORM.matcher(named.group(2)) : null) : FORM.matcher(position);
        } catch (IllegalArgumentException notBase64) {
            form = null;
        }
        if (form == null || !form.matches()) {
            throw new IllegalArgumentException("after must be the \"next\" of an earlier page of this listing, got \"" + after + "\"");
        }
        return new ListingCursor(Long.parseLong(form.group(1)), form.group(2));
    }
}
