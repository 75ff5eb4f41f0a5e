package dev.agentcoordinator.engine;

import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A parameter that is null on some calls and not on others (the dependents a completion starts: none
 * for a workflow's last step) keeps its statement prepared on the server: pgjdbc prepares it again
 * whenever a parameter's type changes, and an untyped null is a change (CachedSqlPrepareStatementStrategy).
 */
class StatementPreparedOnceTest {

    private static final String QUERY = "SELECT CAST(:?starts AS jsonb) IS NULL AS none, CAST(:?finish AS boolean) AS finish, "
            + "CAST(:?row AS varchar) AS row, 'prepared-once-probe' AS probe";

    @Test
    void nullsOnSomeCallsDoNotPrepareTheStatementAgain() throws Exception {
        CachedSqlPrepareStatementStrategy strategy = new CachedSqlPrepareStatementStrategy();
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        try (Connection connection = TestCoordinator.shared().dataSource().getConnection()) {
            String sql = strategy.prepareQuery(QUERY, true, exchange);
            int calls = 12;
            for (int i = 0; i < calls; i++) {
                boolean last = i % 3 == 2;
                Map<String, Object> parameters = new HashMap<>();
                parameters.put("starts", last ? null : "[{\"row_id\": \"r-" + i + "\"}]");
                parameters.put("finish", last ? null : Boolean.FALSE);
                parameters.put("row", "r-" + i);
                try (PreparedStatement statement = connection.prepareStatement(sql)) {
                    strategy.populateStatement(statement, strategy.createPopulateIterator(QUERY, sql, 3, exchange, parameters), 3);
                    try (ResultSet rows = statement.executeQuery()) {
                        assertThat(rows.next()).isTrue();
                        assertThat(rows.getBoolean("none")).isEqualTo(last);
                    }
                }
            }
            // pgjdbc runs a statement unnamed for its first 4 calls (prepareThreshold 5), then prepares it once
            try (PreparedStatement prepared = connection.prepareStatement(
                    "SELECT generic_plans + custom_plans AS runs FROM pg_prepared_statements WHERE statement LIKE '%prepared-once-probe%'");
                 ResultSet rows = prepared.executeQuery()) {
                assertThat(rows.next()).as("the probe statement is prepared on the server").isTrue();
                assertThat(rows.getLong("runs")).isEqualTo(calls - 4);
            }
        }
    }
}
