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
        return uri(name, null);
    }

    /** A statement that returns rows, as a List of Maps. */
    public static String rows(String name) {
        return uri(name, "SelectList");
    }

    /** A statement that returns at most one row, as a Map (null when none). */
    public static String row(String name) {
        return uri(name, "SelectOne");
    }

    /** The camel-sql component of the HTTP API's statements, on its own pool ({@code Infrastructure.apiDataSource()}). */
    public static final String API_COMPONENT = "apisql";

    /** {@link #row} for the HTTP API: on the API's pool, whose waits are bounded by {@code coordinator.http.db-timeout-ms}. */
    public static String apiRow(String name) {
        return API_COMPONENT + row(name).substring("sql".length());
    }

    /** {@link #rows} for the HTTP API (see {@link #apiRow}). */
    public static String apiRows(String name) {
        return API_COMPONENT + rows(name).substring("sql".length());
    }

    /**
     * The endpoint of a statement file. It states the number of parameters, which spares camel-sql a
     * round trip to PostgreSQL for parameter metadata before every execution, and parses the
     * statement's parameters once ({@link CachedSqlPrepareStatementStrategy}).
     */
    private static String uri(String name, String outputType) {
        int parameters = parameterCount(name);
        String uri = "sql:classpath:sql/" + name + ".sql?prepareStatementStrategy=#" + CachedSqlPrepareStatementStrategy.REGISTRY_NAME
                + (parameters > 0 ? "&parametersCount=" + parameters : "");
        return outputType == null ? uri : uri + "&outputType=" + outputType;
    }

    static int parameterCount(String name) {
        String resource = "/sql/" + name + ".sql";
        try (java.io.InputStream in = Sql.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("no SQL statement " + resource + " on the classpath");
            }
            String text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            int count = 0;
            for (int i = text.indexOf(":#"); i >= 0; i = text.indexOf(":#", i + 2)) {
                count++;
            }
            return count;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** True when the last update statement changed a row: the guarded transition was applied. */
    public static Predicate applied() {
        return header(Headers.SQL_UPDATE_COUNT).isGreaterThan(0);
    }

    /** True when the last rows statement returned at least one row. */
    public static Predicate returnedRows() {
        return exchange -> exchange.getMessage().getBody() instanceof java.util.List<?> rows && !rows.isEmpty();
    }

    /** True when the last row statement returned its row. */
    public static Predicate returnedRow() {
        return PredicateBuilder.and(body().isNotNull(), header(Headers.SQL_ROW_COUNT).isGreaterThan(0));
    }
}
