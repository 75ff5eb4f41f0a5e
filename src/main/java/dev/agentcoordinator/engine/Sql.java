package dev.agentcoordinator.engine;

import org.apache.camel.Predicate;
import org.apache.camel.builder.PredicateBuilder;

import static org.apache.camel.builder.Builder.body;
import static org.apache.camel.builder.Builder.header;

/** The engine's SQL statements live in src/main/resources/sql, one file per statement. */
public final class Sql {

    private Sql() {
    }

    /** A statement whose effect is an update count (UPDATE / INSERT without RETURNING). */
    public static String update(String name) {
        return "sql:classpath:sql/" + name + ".sql";
    }

    /** A statement that returns rows, as a List of Maps. */
    public static String rows(String name) {
        return "sql:classpath:sql/" + name + ".sql?outputType=SelectList";
    }

    /** A statement that returns at most one row, as a Map (null when none). */
    public static String row(String name) {
        return "sql:classpath:sql/" + name + ".sql?outputType=SelectOne";
    }

    /** True when the last update statement changed a row: the guarded transition was applied. */
    public static Predicate applied() {
        return header(Headers.SQL_UPDATE_COUNT).isGreaterThan(0);
    }

    /**
     * True when a statement ending in {@code SELECT count(*) AS applied} reports a change (SelectOne
     * gives a one-column row as the bare value).
     */
    public static Predicate appliedCount() {
        return exchange -> exchange.getMessage().getBody() instanceof Number n && n.longValue() > 0;
    }

    /** True when the last row statement returned its row. */
    public static Predicate returnedRow() {
        return PredicateBuilder.and(body().isNotNull(), header(Headers.SQL_ROW_COUNT).isGreaterThan(0));
    }
}
