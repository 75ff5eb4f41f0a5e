package dev.agentcoordinator.infra;

import org.junit.jupiter.api.Test;
import org.springframework.jdbc.datasource.AbstractDataSource;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** No connection before the schema is migrated; the start's own error once it failed. */
class ReadyGatedDataSourceTest {

    /** Counts the connections asked of the pool behind the gate. */
    private static final class CountingPool extends AbstractDataSource {
        final AtomicInteger asked = new AtomicInteger();

        @Override
        public Connection getConnection() {
            asked.incrementAndGet();
            return null;
        }

        @Override
        public Connection getConnection(String username, String password) {
            return getConnection();
        }
    }

    @Test
    void aConnectionWaitsForTheMigrationsThenComesFromThePool() throws Exception {
        CountingPool pool = new CountingPool();
        CompletableFuture<Void> migrated = new CompletableFuture<>();
        ReadyGatedDataSource gated = new ReadyGatedDataSource(pool, migrated);

        CompletableFuture<Connection> asked = CompletableFuture.supplyAsync(() -> {
            try {
                return gated.getConnection();
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThatThrownBy(() -> asked.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
        assertThat(pool.asked).as("nothing reached the pool before the migrations").hasValue(0);

        migrated.complete(null);
        asked.get(Duration.ofSeconds(10).toMillis(), TimeUnit.MILLISECONDS);
        gated.getConnection();
        assertThat(pool.asked).hasValue(2);
    }

    @Test
    void afterAFailedStartEveryRequestFailsWithItsCause() {
        CountingPool pool = new CountingPool();
        CompletableFuture<Void> migrated = new CompletableFuture<>();
        migrated.completeExceptionally(new IOException("the embedded database could not listen on 127.0.0.1:5432"));

        assertThatThrownBy(() -> new ReadyGatedDataSource(pool, migrated).getConnection())
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("the database did not start")
                .hasMessageContaining("127.0.0.1:5432")
                .hasCauseInstanceOf(IOException.class);
        assertThat(pool.asked).hasValue(0);
    }
}
