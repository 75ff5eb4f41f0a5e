package dev.agentcoordinator.engine;

import org.apache.camel.Exchange;
import org.apache.camel.RuntimeExchangeException;
import org.apache.camel.component.sql.DefaultSqlPrepareStatementStrategy;
import org.springframework.jdbc.core.SqlParameterValue;

import java.math.BigDecimal;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * camel-sql's statement preparation, parsed once per statement instead of on every call: the
 * default strategy runs its regular expressions over the SQL text for every execution (about a tenth
 * of the coordinator's CPU per step, BENCHMARKS.md). Statements with only plain {@code :#name}
 * parameters (all of src/main/resources/sql) are served from the cache, with the default's lookup
 * order (a Map body, then headers, then variables) and its error for a missing parameter; anything
 * else ({@code :#in:}, {@code :#${simple}}) goes to the default strategy.
 * <p>
 * A null is bound with the JDBC type of the values that parameter had before. pgjdbc keeps a statement
 * prepared on the server only while each parameter keeps its type, and binds an untyped null (what
 * Spring sends) as "unspecified": a parameter that is sometimes null (the dependents to start, which a
 * workflow's last step has none of) made it prepare the statement again on every change, twice per
 * execution (BENCHMARKS.md, session 12).
 */
public final class CachedSqlPrepareStatementStrategy extends DefaultSqlPrepareStatementStrategy {
    /** Registry name the {@code sql:} URIs of {@link Sql} refer to. */
    public static final String REGISTRY_NAME = "cachedSqlPrepareStatementStrategy";

    /** camel-sql hands over the query with its placeholder {@code :#} already turned into {@code :?}. */
    private static final Pattern PLAIN_PARAMETER = Pattern.compile(":\\?(\\w+)");

    /**
     * @param nulls per parameter, the null it is bound with: typed as the last value bound there, or
     *              untyped (an empty element, as camel-sql binds it) until one was
     */
    private record Parsed(boolean plain, String prepared, List<String> names, AtomicReferenceArray<SqlParameterValue> nulls) {
    }

    private final Map<String, Parsed> parsed = new ConcurrentHashMap<>();

    @Override
    public String prepareQuery(String query, boolean allowNamedParameters, Exchange exchange) throws SQLException {
        Parsed statement = allowNamedParameters ? parse(query) : null;
        return statement != null && statement.plain() ? statement.prepared() : super.prepareQuery(query, allowNamedParameters, exchange);
    }

    @Override
    public Iterator<?> createPopulateIterator(String query, String preparedQuery, int expectedParams, Exchange exchange,
                                              Object value) throws SQLException {
        Parsed statement = parse(query);
        if (!statement.plain() || statement.names().isEmpty()) {
            return super.createPopulateIterator(query, preparedQuery, expectedParams, exchange, value);
        }
        List<Object> values = new ArrayList<>(statement.names().size());
        for (int i = 0; i < statement.names().size(); i++) {
            Object parameter = lookup(statement.names().get(i), query, exchange, value);
            if (parameter != null) {
                statement.nulls().lazySet(i, nullLike(parameter));
                values.add(parameter);
            } else {
                values.add(statement.nulls().get(i));
            }
        }
        return values.iterator();
    }

    private Parsed parse(String query) {
        return parsed.computeIfAbsent(query, text -> {
            boolean plain = !text.contains(":?in:") && !text.contains(":?$");
            List<String> names = new ArrayList<>();
            Matcher matcher = PLAIN_PARAMETER.matcher(text);
            while (matcher.find()) {
                names.add(matcher.group(1));
            }
            return new Parsed(plain, matcher.replaceAll("?"), List.copyOf(names), new AtomicReferenceArray<>(names.size()));
        });
    }

    private static final SqlParameterValue VARCHAR_NULL = new SqlParameterValue(Types.VARCHAR, null);
    private static final SqlParameterValue BOOLEAN_NULL = new SqlParameterValue(Types.BOOLEAN, null);
    private static final SqlParameterValue INTEGER_NULL = new SqlParameterValue(Types.INTEGER, null);
    private static final SqlParameterValue BIGINT_NULL = new SqlParameterValue(Types.BIGINT, null);
    private static final SqlParameterValue DOUBLE_NULL = new SqlParameterValue(Types.DOUBLE, null);
    private static final SqlParameterValue NUMERIC_NULL = new SqlParameterValue(Types.NUMERIC, null);

    /**
     * A null of the type pgjdbc gives that value when Spring binds it without a declared type; null
     * (untyped) where pgjdbc leaves the type unspecified, as for timestamps, or for other classes.
     */
    static SqlParameterValue nullLike(Object value) {
        if (value instanceof CharSequence) {
            return VARCHAR_NULL;
        } else if (value instanceof Boolean) {
            return BOOLEAN_NULL;
        } else if (value instanceof Integer) {
            return INTEGER_NULL;
        } else if (value instanceof Long) {
            return BIGINT_NULL;
        } else if (value instanceof Double) {
            return DOUBLE_NULL;
        } else if (value instanceof BigDecimal) {
            return NUMERIC_NULL;
        }
        return null;
    }

    private static Object lookup(String name, String query, Exchange exchange, Object body) {
        if (body instanceof Map<?, ?> map && map.containsKey(name)) {
            return map.get(name);
        }
        Map<String, Object> headers = exchange.getMessage().getHeaders();
        if (headers.containsKey(name)) {
            return headers.get(name);
        }
        Map<String, Object> variables = exchange.getVariables();
        if (variables != null && variables.containsKey(name)) {
            return variables.get(name);
        }
        throw new RuntimeExchangeException(String.format(
                "Cannot find key [%s] in message body or headers to use when setting named parameter in query [%s]", name, query), exchange);
    }
}
