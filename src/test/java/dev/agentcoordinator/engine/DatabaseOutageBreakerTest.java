package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;

import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;

/** What an outage breaker tells the health check it met: the driver's words, not Spring's wrapper or the socket's. */
class DatabaseOutageBreakerTest {

    @Test
    void theInnermostSqlExceptionIsWhatIsTold() {
        Exception failure = new org.springframework.jdbc.CannotGetJdbcConnectionException("Failed to obtain JDBC Connection",
                new SQLException("Connection to 127.0.0.1:5432 refused. Check that the hostname and port are correct", "08001",
                        new java.net.ConnectException("Connection refused")));
        assertThat(DatabaseOutageBreaker.innermostMessage(failure))
                .isEqualTo("Connection to 127.0.0.1:5432 refused. Check that the hostname and port are correct");
        assertThat(DatabaseOutageBreaker.innermostMessage(new IllegalStateException("outer", new RuntimeException("x".repeat(400)))))
                .hasSize(301).endsWith("…");
    }
}
