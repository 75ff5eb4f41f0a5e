package dev.agentcoordinator.engine;

import org.apache.camel.Exchange;
import org.apache.camel.RuntimeExchangeException;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The cached strategy prepares and binds exactly as camel-sql's default one does. */
class CachedSqlPrepareStatementStrategyTest {

    private final CachedSqlPrepareStatementStrategy cached = new CachedSqlPrepareStatementStrategy();
    private final org.apache.camel.component.sql.DefaultSqlPrepareStatementStrategy reference =
            new org.apache.camel.component.sql.DefaultSqlPrepareStatementStrategy();

    private static final String QUERY = "UPDATE t SET a = CAST(:?a AS jsonb), b = :?b::text WHERE id = :?id AND b = :?b";

    @Test
    void preparesTheSameStatementAndBindsTheSameValues() throws Exception {
        Exchange exchange = exchange(Map.of("id", "row-1", "b", "from body"), Map.of("a", "{}", "b", "from header"));

        assertThat(cached.prepareQuery(QUERY, true, exchange)).isEqualTo(reference.prepareQuery(QUERY, true, exchange))
                .isEqualTo("UPDATE t SET a = CAST(? AS jsonb), b = ?::text WHERE id = ? AND b = ?");
        Object body = exchange.getMessage().getBody();
        assertThat(values(cached.createPopulateIterator(QUERY, null, 4, exchange, body)))
                .isEqualTo(values(reference.createPopulateIterator(QUERY, null, 4, exchange, body)))
                .containsExactly("{}", "from body", "row-1", "from body");
    }

    @Test
    void headersServeWhenTheBodyIsNoMapAndNullsAreBound() throws Exception {
        java.util.HashMap<String, Object> headers = new java.util.HashMap<>(Map.of("a", "x", "b", "y"));
        headers.put("id", null);
        Exchange exchange = exchange(null, headers);

        assertThat(values(cached.createPopulateIterator(QUERY, null, 4, exchange, null))).containsExactly("x", "y", null, "y");
    }

    @Test
    void aNullTakesTheTypeOfTheValuesBeforeIt() throws Exception {
        java.util.HashMap<String, Object> headers = new java.util.HashMap<>(Map.of("a", "{}", "b", Boolean.TRUE, "id", 7));
        cached.createPopulateIterator(QUERY, null, 4, exchange(null, headers), null);
        headers.replaceAll((name, value) -> null);

        assertThat(values(cached.createPopulateIterator(QUERY, null, 4, exchange(null, headers), null)))
                .extracting(v -> ((org.springframework.jdbc.core.SqlParameterValue) v).getSqlType())
                .containsExactly(java.sql.Types.VARCHAR, java.sql.Types.BOOLEAN, java.sql.Types.INTEGER, java.sql.Types.BOOLEAN);
        assertThat(values(cached.createPopulateIterator(QUERY, null, 4, exchange(null, headers), null)))
                .allSatisfy(v -> assertThat(((org.springframework.jdbc.core.SqlParameterValue) v).getValue()).isNull());
    }

    @Test
    void aMissingParameterIsNamedLikeTheDefaultDoes() {
        Exchange exchange = exchange(null, Map.of("a", "x", "b", "y"));

        assertThatThrownBy(() -> values(cached.createPopulateIterator(QUERY, null, 4, exchange, null)))
                .isInstanceOf(RuntimeExchangeException.class)
                .hasMessageContaining("Cannot find key [id] in message body or headers");
    }

    @Test
    void inListsAndExpressionsGoToTheDefaultStrategy() throws Exception {
        String query = "SELECT * FROM t WHERE id IN (:?in:ids)";
        Exchange exchange = exchange(null, Map.of("ids", List.of("a", "b", "c")));

        assertThat(cached.prepareQuery(query, true, exchange)).isEqualTo("SELECT * FROM t WHERE id IN (?,?,?)");
    }

    private static Exchange exchange(Object body, Map<String, Object> headers) {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.getMessage().setBody(body);
        exchange.getMessage().setHeaders(new java.util.HashMap<>(headers));
        return exchange;
    }

    private static List<Object> values(Iterator<?> iterator) {
        List<Object> values = new ArrayList<>();
        iterator.forEachRemaining(values::add);
        return values;
    }
}
